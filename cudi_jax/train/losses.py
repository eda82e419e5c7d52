"""Zero-reference teacher losses and the student's distillation loss (JAX).

Images are (B, H, W, 3) in [0, 1], exposure maps (B, H, W, 1), curve maps
(B, H, W, 3n). Border handling: pooling cells that the image does not fill
(H or W not a multiple of the cell size) are averaged over the pixels they do
contain, and each such partial cell counts as one cell; neighbour differences
are taken between existing cells only (no zero padding, unlike Zero-DCE, whose
zero padding penalises brightening along the image border).
"""
import jax
import jax.numpy as jnp

from cudi_jax.errors import ConfigError
from cudi_jax import imagemath
from cudi_jax.train import curves

DEFAULT_WEIGHTS = {"exposure": 10.0, "spatial": 1.0, "color": 5.0, "smoothness": 200.0}


def cell_means(x, cell):
  """Means of (B, H, W, C) over non-overlapping cell x cell regions -> (B, ceil(H/cell), ceil(W/cell), C).

  Partial cells at the bottom/right border are averaged over their valid pixels
  (:func:`cudi_jax.imagemath.cell_means`, shared with the evaluation metrics).
  """
  return imagemath.cell_means(x, cell, jnp)


def exposure_control_loss(output, exposure, cell=16):
  """L_sec: mean over 16x16 regions of |mean(R) - mean(E)|, R averaged over RGB."""
  r = cell_means(output.mean(axis=-1, keepdims=True), cell)
  e = cell_means(exposure, cell)
  return jnp.mean(jnp.abs(r - e))


def region_exposure_loss(output, exposure, threshold=1e-3):
  """Exposure control over the map's regions instead of 16x16 cells (not in the paper).

  The map's pixels split at the midpoint of its smallest and largest value into at
  most two regions (one when the map is constant to ``threshold``); per image, the
  mean over regions of |mean brightness of R in the region - mean E there|. Only the
  regions' mean brightness is tied to E, so a constant map asks for a global
  exposure and leaves the photo's own contrast to the other terms, where L_sec asks
  every 16x16 cell for the same brightness (which flattens contrast).
  output: (B, H, W, 3), exposure: (B, H, W, 1).
  """
  r = output.mean(axis=-1, keepdims=True)
  lo = exposure.min(axis=(1, 2, 3), keepdims=True)
  hi = exposure.max(axis=(1, 2, 3), keepdims=True)
  split = (hi - lo) > threshold
  upper = jnp.where(split, exposure >= 0.5 * (lo + hi), True).astype(r.dtype)
  total = 0.0
  count = 0.0
  for mask in (upper, 1.0 - upper):
    n = mask.sum(axis=(1, 2, 3))
    safe = jnp.maximum(n, 1.0)
    err = jnp.abs((mask * r).sum(axis=(1, 2, 3)) / safe - (mask * exposure).sum(axis=(1, 2, 3)) / safe)
    present = (n > 0).astype(r.dtype)
    total = total + present * err
    count = count + present
  return jnp.mean(total / count)


def spatial_consistency_loss(output, image, cell=4, log_eps=0.0):
  """L_sc: RGB mean, 4x4 cell means, then 4-neighbour differences of output vs input.

  Equals mean over cells of the sum over the four directions of (D_out - D_in)^2,
  where left/right (and up/down) pairs are the same squared difference, so
  L = 2 * mean_h + 2 * mean_v over existing neighbour pairs (0 where a direction has none).

  ``log_eps`` > 0 (not in the paper) compares log(cell mean + log_eps) instead, so a
  uniform gain costs nothing where the paper's form only lets a uniform offset pass:
  the linear form pushes brightening towards an offset (grey blacks, flat contrast).
  """
  o = cell_means(output.mean(axis=-1, keepdims=True), cell)
  i = cell_means(image.mean(axis=-1, keepdims=True), cell)
  if log_eps:
    o, i = jnp.log(o + log_eps), jnp.log(i + log_eps)
  d = o - i
  loss = 0.0
  if d.shape[1] > 1:
    loss = loss + 2.0 * jnp.mean(jnp.square(d[:, 1:] - d[:, :-1]))
  if d.shape[2] > 1:
    loss = loss + 2.0 * jnp.mean(jnp.square(d[:, :, 1:] - d[:, :, :-1]))
  return jnp.asarray(loss, output.dtype)


def _safe_sqrt(x):
  """sqrt with a zero (not NaN) gradient at 0."""
  positive = x > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def color_constancy_loss(output):
  """L_cc: sqrt((mr-mg)^4 + (mr-mb)^4 + (mg-mb)^4) per image, averaged over the batch."""
  m = output.mean(axis=(1, 2))
  mr, mg, mb = m[:, 0], m[:, 1], m[:, 2]
  d = (mr - mg) ** 4 + (mr - mb) ** 4 + (mg - mb) ** 4
  return jnp.mean(_safe_sqrt(d))


def color_preservation_loss(output, image, eps=1e-3):
  """L_cc's form applied to the change of colour balance instead of the colour
  balance itself (not in the paper): with d = chromaticity(R) - chromaticity(I), where
  chromaticity = channel means / their sum, sqrt((d_r - d_g)^4 + (d_r - d_b)^4 +
  (d_g - d_b)^4) per image, averaged over the batch. It is 0 when every channel gets
  the same overall gain, so it keeps the input's colour balance where L_cc pushes every
  photo towards grey (a cast on scenes that are not grey on average). Smooth at 0,
  and its gradient scales with 1 / (the output's brightness), not the input's: ratios
  to a dark input's channel means gave gradient spikes that killed the network."""
  mo = output.mean(axis=(1, 2)) + eps
  mi = jax.lax.stop_gradient(image.mean(axis=(1, 2)) + eps)
  d = mo / mo.sum(axis=-1, keepdims=True) - mi / mi.sum(axis=-1, keepdims=True)
  dr, dg, db = d[:, 0], d[:, 1], d[:, 2]
  return jnp.mean(_safe_sqrt((dr - dg) ** 4 + (dr - db) ** 4 + (dg - db) ** 4))


def illumination_smoothness_loss(maps):
  """L_is (Zero-DCE's TV form): 2 * (sum dh^2 / ((H-1) W) + sum dw^2 / (H (W-1))) / B."""
  b, h, w, _ = maps.shape
  loss = 0.0
  if h > 1:
    loss = loss + jnp.sum(jnp.square(maps[:, 1:] - maps[:, :-1])) / ((h - 1) * w)
  if w > 1:
    loss = loss + jnp.sum(jnp.square(maps[:, :, 1:] - maps[:, :, :-1])) / (h * (w - 1))
  return jnp.asarray(2.0 * loss / b, maps.dtype)


def curve_slope(image, maps):
  """dLE_n/dx of the high-order curve at each input value (the three slope terms'
  common input; :func:`teacher_losses` computes it once for all of them)."""
  return curves.high_order_curve_derivative(image, maps, maps.shape[-1] // 3)


def slope_limit_loss(image, maps, max_slope=16.0, slope=None):
  """Mean over pixels and channels of max(0, dLE_n/dx - max_slope): how far the
  high-order curve is steeper than ``max_slope`` at each input value.

  Not one of the paper's terms (off unless weighted). The slope is the factor by which
  the curve amplifies noise; 8 iterations allow up to 2^8 near black, and a teacher
  that reaches dark targets that way amplifies sensor noise into speckle.
  image: (B, H, W, 3) in [0, 1]; maps: (B, H, W, 3n) in [-1, 1]; slope: their
  :func:`curve_slope` if already computed.
  """
  slope = curve_slope(image, maps) if slope is None else slope
  return jnp.mean(jnp.maximum(slope - max_slope, 0.0))


#: Inputs above this count as highlights for :func:`highlight_slope_loss`.
HIGHLIGHT_FROM = 0.5


def highlight_slope_loss(image, maps, max_slope=6.0, slope=None):
  """Mean over pixels and channels of max(0, dLE_n/dx - max_slope) where the input is
  above :data:`HIGHLIGHT_FROM` (0 elsewhere).

  Not one of the paper's terms (off unless weighted). A darkening curve can steepen
  without bound just below white (its fixed point): 0.98 pulled to 0.8 while 1.0 stays
  1.0 is a slope of 10 there, which turns 8-bit steps and JPEG blocks in bright skies
  into visible pattern, and which a per-cell tangent line cannot follow (a distilled
  student greys such skies instead). Dark inputs are left to :func:`slope_limit_loss`:
  brightening needs large slopes near black.
  """
  slope = curve_slope(image, maps) if slope is None else slope
  excess = jnp.maximum(slope - max_slope, 0.0)
  return jnp.mean(jnp.where(image > HIGHLIGHT_FROM, excess, 0.0))


#: Inputs below this count as shadows for :func:`shadow_slope_loss`.
SHADOW_BELOW = 0.5


def shadow_slope_loss(image, maps, min_slope=0.7, slope=None):
  """Mean over pixels and channels of max(0, min_slope - dLE_n/dx) where the input is
  below :data:`SHADOW_BELOW` (0 elsewhere).

  Not one of the paper's terms (off unless weighted). A darkening curve multiplies a
  dark input by about prod(1 + A_k) over its iterations, so when a cell that mixes a
  bright sky with darker detail is pulled down, the detail is crushed towards black
  (an over-exposed photo comes out with its shadows blocked up). Brightening curves
  are steeper than 1 there and never count.
  """
  slope = curve_slope(image, maps) if slope is None else slope
  short = jnp.maximum(min_slope - slope, 0.0)
  return jnp.mean(jnp.where(image < SHADOW_BELOW, short, 0.0))


def teacher_losses(output, image, exposure, maps, weights=None, exposure_cell=16,
                   max_slope=16.0, exposure_mode="cells",
                   spatial_log_eps=0.0, color_mode="grey_world",
                   max_highlight_slope=6.0, min_shadow_slope=0.7):
  """All teacher terms and their weighted total (a dict of scalars, 'total' included).

  A positive ``weights['slope']`` adds :func:`slope_limit_loss` (term ``slope``), a
  positive ``weights['highlight_slope']`` :func:`highlight_slope_loss` (limit
  ``max_highlight_slope``), a positive ``weights['shadow_slope']``
  :func:`shadow_slope_loss` (floor ``min_shadow_slope``).
  exposure_mode: 'cells' (L_sec) or 'regions' (:func:`region_exposure_loss`);
  spatial_log_eps: see :func:`spatial_consistency_loss`; color_mode: 'grey_world'
  (L_cc) or 'input' (:func:`color_preservation_loss`).
  """
  weights = dict(DEFAULT_WEIGHTS, **(weights or {}))
  if exposure_mode == "regions":
    exposure_term = region_exposure_loss(output, exposure)
  elif exposure_mode == "cells":
    exposure_term = exposure_control_loss(output, exposure, exposure_cell)
  else:
    raise ConfigError(f"exposure_mode must be 'cells' or 'regions', got {exposure_mode!r}")
  if color_mode == "input":
    color_term = color_preservation_loss(output, image)
  elif color_mode == "grey_world":
    color_term = color_constancy_loss(output)
  else:
    raise ConfigError(f"color_mode must be 'grey_world' or 'input', got {color_mode!r}")
  terms = {
      "exposure": exposure_term,
      "spatial": spatial_consistency_loss(output, image, log_eps=spatial_log_eps),
      "color": color_term,
      "smoothness": illumination_smoothness_loss(maps),
  }
  slope_terms = {"slope": (slope_limit_loss, max_slope),
                 "highlight_slope": (highlight_slope_loss, max_highlight_slope),
                 "shadow_slope": (shadow_slope_loss, min_shadow_slope)}
  slope = None
  for name, (loss, limit) in slope_terms.items():
    if weights.get(name, 0.0) > 0:
      slope = curve_slope(image, maps) if slope is None else slope
      terms[name] = loss(image, maps, limit, slope=slope)
  terms["total"] = sum(weights[name] * value for name, value in terms.items())
  return terms


def distillation_loss(student_output, teacher_output, dark_weight=0.0):
  """L_dis: mean |TL(I) - R| (the student's unclipped tangent-line output).

  dark_weight = c > 0 (not in the paper) weights each pixel's error by
  1 / (c + mean RGB of the teacher's output there), normalised by the batch's mean
  weight, so an error on a dark target counts more, as it does to the eye: a
  tangent line fitted to a concave curve over a 4x4 cell that mixes black and
  brighter pixels lifts the black ones into a grey haze, which plain L1 tolerates.
  The weights are constants (no gradient flows through them); 0 is the plain L1.
  """
  err = jnp.abs(student_output - teacher_output)
  if not dark_weight:
    return jnp.mean(err)
  w = jax.lax.stop_gradient(
      1.0 / (dark_weight + jnp.mean(teacher_output, axis=-1, keepdims=True)))
  return jnp.mean(w * err) / jnp.mean(w)
