"""Every use the video package makes of the runtime's and the exposure package's
internals, in one place.

The rest of :mod:`cudi_jax.video` sees only these functions: a frame's per-cell
brightness and luma range, what a setting means for the weights in use (the ``auto``
target, the maps calibration), ``auto``'s per-cell map for a given global brightness,
and one call that runs the network on a frame with a per-cell map or a constant fed
to it as given (no calibration), writing into a caller's buffer.
"""
import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import rules
from cudi_jax.exposure import settings
from cudi_jax.exposure import values
from cudi_jax.runtime import job as job_lib
from cudi_jax.runtime import prepared as prepared_lib
from cudi_jax.runtime import stats as stats_lib

#: Errors of a user's exposure setting or map (a CudiError and a ValueError).
ExposureError = settings.ExposureError


def parse_setting(setting):
  """('name', 'auto' | 'under' | 'over' | 'adaptive') | ('value', v) | ('file', path)
  | ('array', ndarray) (:func:`cudi_jax.exposure.settings.parse_setting`)."""
  parsed = settings.parse_setting(setting)
  if isinstance(parsed, settings.Named):
    return "name", parsed.name
  if isinstance(parsed, settings.Value):
    return "value", parsed.value
  if isinstance(parsed, settings.MapFile):
    return "file", parsed.path
  return "array", parsed.array


def read_map_file(path):
  """An exposure-map image file as an (H, W) array at its own size."""
  return settings.read_map_file(path)


def map_cells(array, height, width, cell=4):
  """A user map (any size, uint8/uint16/float in [0, 1]) as per-cell values for an
  (height, width) frame, as stills reduce it (:func:`cudi_jax.exposure.settings.map_cells`):
  (ceil(H/c), ceil(W/c)) float32 for cells of size c = ``cell``."""
  return settings.map_cells(array, height, width, cell=cell)


def named_value(model, name):
  """The constant target of 'under' or 'over' for these weights."""
  return model.presets.target(name)


def _stats(model, frame):
  return stats_lib.Stats(prepared_lib.Prepared(frame), model.threads)


def cell_brightness(model, frame):
  """Mean RGB brightness of each 4x4 cell of an (H, W, 3) frame, as ``auto`` measures
  it: (ceil(H/4), ceil(W/4)) float32 (banded, on the model's threads)."""
  return _stats(model, frame).cell_brightness()


def cell_sums(model, frame, cell=4):
  """Exact per-channel sums of each 4x4 cell (``cell`` x ``cell``) of an (H, W, 3)
  uint8/uint16 frame (on the model's worker threads): what :func:`brightness_of_sums`
  and :func:`run` take, so the frame is read once for both."""
  return model.engine.cell_sums(frame, cell=cell)


def brightness_of_sums(sums, dtype, cell=4):
  """The mean RGB brightness of each cell from :func:`cell_sums` (``cell``: the size of
  the summed cells); at 4, exactly :func:`cell_brightness` (both are the cell's exact
  integer total times the same float32 scale)."""
  scale = np.float32(1.0 / (cell * cell * 3 * float(np.iinfo(dtype).max)))
  total = np.add(sums[..., 0], sums[..., 1], dtype=np.uint32)  # (not a reduction over
  np.add(total, sums[..., 2], out=total)                      # 3 values: far slower)
  out = np.empty(sums.shape[:2], np.float32)
  out[...] = total * scale
  return out


def luminance_range(model, frame):
  """(min, max) BT.601 luma of a frame, as 'adaptive' measures it."""
  return _stats(model, frame).luma_range()


def auto_target(model, mean_brightness):
  """``auto``'s mean target for a photo of this mean brightness (its calibration)."""
  return model.rules.calibration.auto_target(model.presets.auto_target, mean_brightness)


def auto_map(model, cells, noise, mean_brightness, target, smoothed=True):
  """``auto``'s per-cell map as the still-photo path makes it (the balanced rule for
  dark and ordinary frames, the steady rule for bright ones, a blend between; see
  :meth:`cudi_jax.exposure.resolve.ExposureRules.auto_map`), judged at
  ``mean_brightness`` with the steady rule's ``target`` given; with ``smoothed``, the
  steady rule measures the cells against ``mean_brightness`` too (else their own
  mean, as stills). noise: the frame's dark noise or a callable giving it. Returns
  (fed values, night ceiling or None)."""
  return model.rules.auto_map(cells, noise, mean_brightness, target=target,
                              steady_mean=mean_brightness if smoothed else None)


def dark_noise(model, frame, cells, cell=4):
  """A frame's dark noise as ``auto`` measures a photo's (the median deviation of the
  pixels in its darkest cells, :meth:`cudi_jax.exposure.resolve.ImageStats.dark_noise`);
  cells: its brightness per cell of size ``cell``."""
  if cell != 4:
    k = cell // 4
    cells = np.repeat(np.repeat(cells, k, axis=0), k, axis=1)
  return stats_lib.dark_noise(prepared_lib.Prepared(frame), cells)


def auto_steps(model, cells, mean_brightness, ceiling):
  """``auto``'s steps after the network for a frame of these cell brightnesses, judged
  at this (smoothed) mean brightness, with :func:`auto_map`'s night ``ceiling``: (per-cell
  weights or None, gain, ceiling or None) for :func:`run`, or None
  (:meth:`cudi_jax.exposure.resolve.ExposureRules.auto_steps`)."""
  return model.rules.auto_steps(cells, mean_brightness, ceiling)


def has_response_calibration(model):
  return model.rules.calibration.maps is not None


def feed(model, requested, mean_brightness):
  """Requested exposure values (scalar or array) -> the values given to the network,
  for a frame of this mean brightness (the export's maps calibration; identity when
  it has none)."""
  return model.rules.calibration.feed(requested, mean_brightness)


def adaptive_cells(model, frame, lo, hi, cell=4, sums=None):
  """The luminance-adaptive map of a frame per 4x4 cell, with its luma range given
  (smoothed, in video) rather than measured: (ceil(H/4), ceil(W/4)) float32, before
  any calibration. With ``cell`` 8 or 16, per cell of that size, from the frame's
  :func:`cell_sums` of that size (``sums``)."""
  p = model.presets
  if cell == 4:
    cell_luma = _stats(model, frame).cell_luma
  else:
    if sums is None:
      sums = cell_sums(model, frame, cell)

    def cell_luma():
      scale = 1.0 / (cell * cell * float(np.iinfo(frame.dtype).max))
      return (sums.astype(np.float32) @ np.asarray(imagemath.LUMA_BT601, np.float32)
              * np.float32(scale))
  fed = rules.adaptive((lo, hi), cell_luma, p.adaptive_base, p.adaptive_strength)
  if isinstance(fed, values.Constant):
    return np.full(values.cell_shape(*frame.shape[:2], cell), fed.value, np.float32)
  if isinstance(fed, values.LumaLinear):
    # E = a - b * Y is linear in Y: its cell means are a - b * (cell mean of Y).
    return rules.luma_linear_cells(fed, cell_luma())
  return fed.cells


def run(model, frame, kind, value, out, color="natural", sums=None, tempered=None, cell=4):
  """Runs the network on an (H, W, 3) uint8/uint16 frame into ``out`` (same shape
  and dtype) with the exposure fed as given: kind 'const' (a number) or 'cells' (a
  (ceil(H/4), ceil(W/4)) float32 map, one value per 4x4 cell); sums: the frame's
  :func:`cell_sums`, if at hand; tempered: :func:`auto_steps`' (per-cell weights or
  None, gain, per-cell ceiling or None); cell: the cell size the network runs at (maps
  and sums are per cell of that size)."""
  if kind == "cells":
    fed = values.CellMap(np.ascontiguousarray(value, np.float32))
  elif kind == "const":
    fed = values.Constant(float(value))
  else:
    raise ValueError(f"unknown exposure kind {kind!r}")
  if tempered is not None:
    fed = values.Tempered(fed, *tempered)
  model.engine.run(job_lib.Job(frame, fed, out=out, color=color, cell_sums=sums, cell=cell),
                   keep_buffers=True)
  return out
