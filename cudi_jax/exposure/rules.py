"""The maps of the two photo-dependent settings, ``auto`` and ``adaptive``."""
import numpy as np

from cudi_jax.exposure import values

#: The range auto's cell values are clipped to.
AUTO_RANGE = (0.02, 0.95)


def auto_cells(cells, target, strength, gain_cap, mean=None):
  """``auto``'s input-following map, per 4x4 cell: E = min(target * r^s, gain_cap *
  target * r), r = b / mean b, b the cells' brightness; clipped to :data:`AUTO_RANGE`.
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
  return np.clip(e, *AUTO_RANGE).astype(np.float32)


def adaptive(luma_range, cell_luma, base, strength):
  """The luminance-adaptive map E = S + A * Norm(mean(Y) - Y), Norm min-max to [-1, 1]
  = (S - A + 2A * Ymax / span) - (2A / span) * Y, clipped to [0, 1]; a flat image gives
  E = S. luma_range: (min, max) of the photo's BT.601 luma (per pixel); cell_luma: a
  callable giving the mean luma of each 4x4 cell, asked for only when the map needs
  clipping.

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
