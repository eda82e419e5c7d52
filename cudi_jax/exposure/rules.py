"""The maps of the two photo-dependent settings, ``auto`` and ``adaptive``.

``auto`` has two rules. :func:`balanced_cells` (dark and ordinary photos, when the
export has a per-cell response table) asks every cell for an output brightness on one
compressive tone curve whose gain is solved per photo, limited where the photo is too
noisy to lift; :func:`auto_cells` (bright and over-exposed photos, video, and exports
without that table) follows the photo's own brightness with one global gain.
:func:`auto_blend` says how much of each a photo gets; on over-exposed photos
:func:`temper_weights` mixes the network's correction with a plain gain.
"""
import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import values

#: The range auto's cell values are clipped to.
AUTO_RANGE = (0.02, 0.95)


def auto_cells(cells, target, strength, gain_cap, mean=None, max_gain=64.0):
  """``auto``'s input-following map, per 4x4 cell: E = min(target * r^s, gain_cap *
  target * r, max_gain * b), r = b / mean b, b the cells' brightness; clipped to
  :data:`AUTO_RANGE`. (``max_gain`` b, as in :func:`balanced_requests`, keeps a black
  or nearly black picture, where r is 1 everywhere, from being asked for the target.)
  ``mean``: the photo brightness the cells are measured against (default: their own
  mean; video passes a smoothed one).

  With s = 1 every region is asked for its own brightness times one global gain (a
  plain gain: the photo's contrast is kept); with s = 0 for the same brightness
  everywhere (a constant map, which flattens contrast); in between, dark regions get
  somewhat more gain than bright ones, but never more than ``gain_cap`` times the
  global gain target / mean b (None: no cap), so that near-black regions are not
  lifted into a grey veil of amplified noise. cells: (h, w) brightness in [0, 1].
  """
  b = np.asarray(cells, np.float64) + 1e-4
  r = b / (b.mean() if mean is None else float(mean) + 1e-4)
  e = target * r ** strength
  if gain_cap is not None:
    e = np.minimum(e, gain_cap * target * r)
  if max_gain is not None:
    e = np.minimum(e, max_gain * b)
  return np.clip(e, *AUTO_RANGE).astype(np.float32)


def balanced_requests(cells, noise, goal=0.5, compression=0.6, toe=0.03,
                      noise_limit=5.0 / 255.0, floor_gain=4.0, max_gain=64.0, sample=16384,
                      iterations=40):
  """``auto``'s balanced map, per 4x4 cell, as requested output brightness (see
  :func:`balanced_cells` for the fed values): every cell of input brightness b is
  asked for the output brightness

      R = min(G * b^c * b / (b + toe),  b * noise_limit / noise,  b * max_gain)
      clipped to [min(0.02, floor_gain * b), 0.95] (AUTO_RANGE, but black stays black)

  * b^c (c = ``compression`` < 1): a compressive tone curve, so dark regions get more
    gain than bright ones (a backlit room is lifted while its windows keep detail);
  * b / (b + toe): near-black cells (below ``toe``) are asked for less, so that a black
    sky stays black; the floor keeps them from being asked for more than
    ``floor_gain`` times their brightness merely because of the range's bottom;
  * b * noise_limit / noise: no cell is amplified so much that the photo's noise
    (``noise``: see :meth:`cudi_jax.exposure.resolve.ImageStats.dark_noise`) would rise
    above ``noise_limit``; a clean photo (noise 0) is limited to ``max_gain`` only
    (which keeps an all-black photo black);
  * G: solved per photo (bisection on at most ``sample`` cells) so that the requests,
    clipped, average ``goal``: regions that cannot go brighter (windows near white)
    leave their share to the rest.

  :func:`balanced_cells` turns the requests into fed values through the network's
  measured per-cell response (:class:`~cudi_jax.exposure.calibration.CellResponse`),
  which also knows how far near-black cells can be lifted at all.
  cells: (h, w) brightness in [0, 1]; returns float32 (h, w)."""
  cells = np.asarray(cells, np.float32)
  b = cells + np.float32(1e-4)
  curve = np.exp(np.float32(compression) * np.log(b)) * (b / (b + np.float32(toe)))
  lo = np.minimum(np.float32(AUTO_RANGE[0]), np.float32(floor_gain) * cells)
  hi = AUTO_RANGE[1]
  gain_limit = max_gain if not noise > 0 else min(max_gain, noise_limit / noise)
  limit = cells * np.float32(gain_limit)
  step = max(1, int(np.ceil(np.sqrt(b.size / sample))))
  curve_s = curve[::step, ::step].astype(np.float64).ravel()
  lo_s = lo[::step, ::step].astype(np.float64).ravel()
  limit_s = limit[::step, ::step].astype(np.float64).ravel()

  buf = np.empty_like(curve_s)

  def mean_request(gain):  # (in place: the same operations as clip(min(gain c, L), lo, hi))
    np.multiply(curve_s, gain, out=buf)
    np.minimum(buf, limit_s, out=buf)
    np.clip(buf, lo_s, hi, out=buf)
    return buf.mean()

  gain_lo, gain_hi = imagemath.bisect_increasing(mean_request, goal, 0.0,
                                                 1.0 / max(float(curve_s.min()), 1e-9),
                                                 iterations)
  requested = np.minimum(np.float32(0.5 * (gain_lo + gain_hi)) * curve, limit)
  return np.clip(requested, lo, hi)


def balanced_cells(cells, noise, response, goal=0.5, compression=0.6, toe=0.03,
                   noise_limit=5.0 / 255.0, **kw):
  """``auto``'s balanced map in fed units: :func:`balanced_requests` through the
  network's per-cell ``response``."""
  requested = balanced_requests(cells, noise, goal, compression, toe, noise_limit, **kw)
  return response.feed(requested, cells)


def box_mean(a, radius):
  """The mean over the (2 radius + 1)^2 neighbourhood of each element of a 2-D array,
  edge-replicated at the borders (float32; sums of shifted slices)."""
  a = np.asarray(a, np.float32)
  n = 2 * radius + 1
  p = np.pad(a, radius, mode="edge")
  h, w = a.shape
  rows = p[0:h].copy()
  for i in range(1, n):
    rows += p[i:i + h]
  out = rows[:, 0:w].copy()
  for j in range(1, n):
    out += rows[:, j:j + w]
  out *= np.float32(1.0 / (n * n))
  return out


def night_ceiling(cells, requested, noise, tolerance, min_noise=0.25 / 255.0, signal=(2.0, 6.0),
                  slack=1.0 / 255.0):
  """The most brightness each cell may come out at, for
  :class:`~cudi_jax.exposure.values.Tempered`, in a noisy photo (``noise`` at least
  ``min_noise``, see :func:`balanced_requests`; None for a cleaner one, whose
  quantisation alone measures up to ~0.2/255, or ``tolerance`` None): cells whose
  brightness b is within a few times the noise hold no signal to lift and come out no
  brighter than themselves, the others no brighter than ``1 + tolerance`` times what
  they are asked for: ``(b + t (requested - b)) (1 + tolerance t) + slack``, t rising
  from 0 where the mean brightness of the 5x5 cells around is ``signal[0]`` x noise to
  1 at ``signal[1]`` x noise, the first factor averaged over the 5x5 cells around
  (noise scatters single cells; a limit that changed from cell to cell would show as
  blocks). The per-cell response is a median over photos, and the network lifts a
  black sky beside city lights far more than it says: this holds night skies black."""
  if not noise >= min_noise or not noise > 0 or tolerance is None:
    return None
  b = np.asarray(cells, np.float32)
  t = ramp(box_mean(b, 2), (signal[0] * noise, signal[1] * noise))
  asked = box_mean(b + t * (np.asarray(requested, np.float32) - b), 2)
  return (asked * (1.0 + np.float32(tolerance) * t) + np.float32(slack)).astype(np.float32)


def temper_weights(cells, mean, strength, photos, keep):
  """``auto``'s tempering of over-exposed photos: per 4x4 cell, the strength of the
  network's correction (:class:`~cudi_jax.exposure.values.Tempered`), or None where
  the photo keeps the network's own.

  Darkening an over-exposed photo, the network's curves crush its shadows and raise
  its contrast beyond the scene's; mixed with a plain global gain they keep both.
  A photo of mean brightness ``mean`` gets it in proportion to :func:`ramp` (``mean``,
  ``photos``): cells at strength ``strength`` (< 1), rising to 1 over the cell
  brightnesses ``keep`` (so that blown regions, which a gain would only turn grey,
  keep the network's white). cells: (h, w) brightness in [0, 1]."""
  share = ramp(mean, photos)
  if share <= 0.0 or strength >= 1.0:
    return None
  kept = ramp(np.asarray(cells, np.float32), keep)
  return (1.0 - np.float32(share * (1.0 - strength)) * (1.0 - kept)).astype(np.float32)


def tempering_gain(mean, target):
  """The plain gain tempering mixes in: the photo's mean brightness to ``target``,
  never brightening."""
  return float(min(1.0, target / max(float(mean), 1e-6)))


def ramp(x, edges):
  """0 up to ``edges[0]``, rising linearly to 1 at ``edges[1]`` (a step where they
  meet); x: a number (a float is returned) or an array (float32)."""
  lo, hi = edges
  if np.ndim(x) == 0:
    x = float(x)
    if hi <= lo:
      return 0.0 if x < lo else 1.0
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)
  x = np.asarray(x, np.float32)
  if hi <= lo:
    return (x >= lo).astype(np.float32)
  return np.clip((x - np.float32(lo)) * np.float32(1.0 / (hi - lo)), 0.0, 1.0)


def auto_blend(mean, bright):
  """The share of :func:`auto_cells` in ``auto``'s map for a photo of this mean
  brightness: 0 up to ``bright[0]``, rising linearly to 1 at ``bright[1]`` (the
  balanced rule for dark and ordinary photos, the steady one for bright ones)."""
  return ramp(float(mean), bright)


def adaptive(luma_range, cell_luma, base, strength):
  """The luminance-adaptive map E = S + A * Norm(mean(Y) - Y), Norm min-max to [-1, 1]
  = (S - A + 2A * Ymax / span) - (2A / span) * Y, clipped to [0, 1]; a flat image gives
  E = S. luma_range: (min, max) of the photo's BT.601 luma (per pixel); cell_luma: a
  callable giving the mean luma of each cell of the network's grid, asked for only
  when the map needs clipping.

  Returns a :class:`~cudi_jax.exposure.values.LumaLinear` (no clipping needed: the
  runtime forms it per cell), a :class:`~cudi_jax.exposure.values.CellMap` (clipped
  per cell) or a :class:`~cudi_jax.exposure.values.Constant`."""
  lo, hi = luma_range
  span = hi - lo
  if not span > 0:
    return values.Constant(float(np.clip(base, 0.0, 1.0)))
  alpha, beta = base - strength + 2.0 * strength * hi / span, 2.0 * strength / span
  if base - strength >= 0.0 and base + strength <= 1.0:
    return values.LumaLinear(alpha, beta)
  return values.CellMap(luma_linear_cells(values.LumaLinear(alpha, beta), cell_luma()))


def luma_linear_cells(fed, cell_luma):
  """A :class:`~cudi_jax.exposure.values.LumaLinear` as per-cell values, clipped to
  [0, 1], from the cells' mean luma."""
  e = np.float32(fed.alpha) - np.float32(fed.beta) * np.asarray(cell_luma, np.float32)
  return np.clip(e, 0.0, 1.0).astype(np.float32)
