"""Fed exposure values: exactly what the student network is given.

The student sees an exposure map only through its 4x4 cell means, so every value
here describes those cell means (and, for the teacher and the JAX code, which work
at full resolution, a full-size map by :func:`full_map`):

* :class:`Constant` -- one value everywhere;
* :class:`LumaLinear` -- ``E = alpha - beta * Y`` with Y the BT.601 luma, formed from
  each cell's mean colour (the adaptive map where it needs no clipping);
* :class:`CellMap` -- one value per 4x4 cell, ``(ceil(H/4), ceil(W/4))``;
* :class:`PixelMap` -- a full-size ``(H, W)`` map; the runtime reduces it to its cell
  means (:func:`cells_from_map`, the same float32 arithmetic as the network's input);
* :class:`Tempered` -- one of the above, with the network's correction changed per cell
  afterwards: applied at a strength below 1 over a plain global gain (``auto`` on
  over-exposed photos), or held to a ceiling (``auto``'s night skies).

A fed value is given to the network as it is: no preset and no calibration applies
to it. :func:`cudi_jax.exposure.resolve.resolve` makes one from a user setting.
"""
import dataclasses

import numpy as np

from cudi_jax import imagemath


@dataclasses.dataclass(frozen=True)
class Constant:
  value: float


@dataclasses.dataclass(frozen=True)
class LumaLinear:
  alpha: float
  beta: float


@dataclasses.dataclass(frozen=True, eq=False)
class CellMap:
  cells: np.ndarray  # float32 (ceil(H/4), ceil(W/4))


@dataclasses.dataclass(frozen=True, eq=False)
class PixelMap:
  values: np.ndarray  # float32 (H, W)


@dataclasses.dataclass(frozen=True, eq=False)
class Tempered:
  """``fed`` (a Constant, LumaLinear, CellMap or PixelMap) given to the network as it
  is, with the network's slope and intercept then changed per 4x4 cell (after natural
  colour, before upsampling; :func:`cudi_jax.student_math.temper`):

  * ``weights`` (or None): mixed with a plain global ``gain``, ``K' = w K + (1 - w)
    gain``, ``B' = w B`` (w = 1: the network's own correction);
  * ``ceiling`` (or None): where a cell would come out brighter (mean RGB of ``K x + B``
    at the cell's mean colour x) than its ceiling, mixed with the identity just enough
    to meet it (never darker than the input; inf: no limit).

  Both float32, a value per cell of the network's grid ((ceil(H/4), ceil(W/4)), or
  that of the larger cells a video job may run on)."""
  fed: object
  weights: object = None
  gain: float = 1.0
  ceiling: object = None


FED_TYPES = (Constant, LumaLinear, CellMap, PixelMap, Tempered)


def is_fed(exposure):
  """Whether ``exposure`` is a fed value (given as is) rather than a user setting."""
  return isinstance(exposure, FED_TYPES)


def cell_shape(height, width, cell=4):
  """The network's grid for an image: (ceil(H/4), ceil(W/4)) (``cell`` instead of 4
  where the runtime runs the network on larger cells, :data:`cudi_jax.student_math.CELLS`)."""
  return -(-height // cell), -(-width // cell)


def full_map(fed, image, cell=4):
  """The (H, W) float32 map a fed value gives the network, for a float (H, W, 3) image
  (``cell``: the size of a CellMap's cells)."""
  height, width = image.shape[:2]
  if isinstance(fed, Tempered):  # (what the network is given; the mixing comes after)
    return full_map(fed.fed, image, cell)
  if isinstance(fed, Constant):
    return np.full((height, width), fed.value, np.float32)
  if isinstance(fed, PixelMap):
    return fed.values
  if isinstance(fed, CellMap):
    return np.repeat(np.repeat(fed.cells, cell, axis=0), cell, axis=1)[:height, :width].copy()
  if isinstance(fed, LumaLinear):
    return (np.float32(fed.alpha) - np.float32(fed.beta) * imagemath.luma(image)).astype(np.float32)
  raise TypeError(f"not a fed exposure value: {fed!r}")


def cells_from_map(emap, rows_per_chunk=256, cell=4):
  """4x4 cell means of an (H, W) float32 map, edge-replicated at the bottom and right
  as the network pads its input, in the network's float32 order of additions (rows
  0+1, +2, +3, then columns likewise, times 1/16): bit-identical to what the network
  is given for the full map. Returns (ceil(H/4), ceil(W/4)) float32. ``cell`` 8 or
  16: the means of those cells, added in the same order (rows 0+1, +2, ... then
  columns), a chunk of cell rows at a time."""
  emap = np.asarray(emap, np.float32)
  height, width = emap.shape
  f = cell
  h, w = cell_shape(height, width, f)
  out = np.empty((h, w), np.float32)
  step = max(1, rows_per_chunk * 4 // f)
  for q0 in range(0, h, step):
    q1 = min(q0 + step, h)
    rows = emap[f * q0:min(f * q1, height)]
    if f * q1 > height:
      rows = np.concatenate([rows, np.repeat(rows[-1:], f * q1 - height, axis=0)], axis=0)
    rows = rows.reshape(q1 - q0, f, width)
    acc = np.empty((q1 - q0, f * w), np.float32)
    np.add(rows[:, 0], rows[:, 1], out=acc[:, :width], dtype=np.float32)
    for i in range(2, f):
      np.add(acc[:, :width], rows[:, i], out=acc[:, :width], dtype=np.float32)
    if f * w > width:
      acc[:, width:] = acc[:, width - 1:width]
    dst = out[q0:q1]
    np.add(acc[:, 0::f], acc[:, 1::f], out=dst)
    for i in range(2, f):
      np.add(dst, acc[:, i::f], out=dst)
    np.multiply(dst, np.float32(1.0 / (f * f)), out=dst)
  return out
