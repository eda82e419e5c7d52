"""Every use the video package makes of the runtime's and the exposure module's
internals, in one place.

The rest of :mod:`cudi_jax.video` sees only these functions: a frame's per-cell
brightness and luminance range, what a setting means for the weights in use (the
``auto`` target, the response calibration), ``auto``'s per-cell map for a given
global brightness, and one call that runs the network on a frame with a per-cell map
or a constant that is fed to it as given (no calibration). When the exposure API
changes, only this module follows.
"""
import numpy as np

from cudi_jax import exposure as exposure_lib
from cudi_jax.runtime import api as runtime_api
from cudi_jax.runtime import engine as engine_lib

#: Errors of a user's exposure setting or map (a CudiError and a ValueError).
ExposureError = exposure_lib.ExposureError


def parse_setting(setting):
  """('name', 'auto' | 'under' | 'over' | 'adaptive') | ('value', v) | ('file', path)
  | ('array', ndarray) (:func:`cudi_jax.exposure.parse_setting`)."""
  return exposure_lib.parse_setting(setting)


def read_map_file(path):
  """An exposure-map image file as an (H, W) array at its own size."""
  return exposure_lib.read_map_file(path)


def map_cells(array, height, width):
  """A user map (any size, uint8/uint16/float in [0, 1]) as per-4x4-cell values for
  an (height, width) frame: resized bilinearly to the frame, then cell means (edge
  cells padded as the network pads): (ceil(H/4), ceil(W/4)) float32."""
  full = exposure_lib.map_from_array(array, height, width)
  return cell_means(full)


def cell_means(full):
  """4x4 cell means of an (H, W) float32 map, bottom/right edge-replicated."""
  h, w = full.shape
  hq, wq = -(-h // 4), -(-w // 4)
  if (4 * hq, 4 * wq) != (h, w):
    full = np.pad(full, ((0, 4 * hq - h), (0, 4 * wq - w)), mode="edge")
  return full.reshape(hq, 4, wq, 4).mean(axis=(1, 3), dtype=np.float32)


def presets(model):
  """The named settings' meaning for the model's weights (opaque to callers)."""
  return model.presets


def named_value(model, name):
  """The constant target of 'under' or 'over' for these weights."""
  return float(getattr(model.presets, name))


def cell_brightness(model, frame):
  """Mean RGB brightness of each 4x4 cell of an (H, W, 3) frame, as ``auto`` measures
  it: (ceil(H/4), ceil(W/4)) float32 (banded, on the model's threads)."""
  return runtime_api._cell_brightness(runtime_api._Prepared(frame), model.threads)


def luminance_range(model, frame):
  """(min, max) BT.601 luminance of a frame, as 'adaptive' measures it."""
  return runtime_api._luminance_range(runtime_api._Prepared(frame), model.threads)


def auto_target(model, mean_brightness):
  """``auto``'s mean target for a photo of this mean brightness (its calibration)."""
  return model.presets.auto_target_for(mean_brightness)


def auto_cells(model, cells, target, mean_brightness=None):
  """``auto``'s per-cell map for these cell brightnesses and target.

  mean_brightness: the global brightness the cells are measured against (the
  smoothed one, in video); None: the cells' own mean, which is exactly
  :func:`cudi_jax.exposure.natural_cells` as the still-photo path computes it.
  """
  p = model.presets
  if mean_brightness is None:
    return exposure_lib.natural_cells(cells, target, p.auto_strength,
                                      gain_cap=p.auto_gain_cap)
  # natural_cells with the mean given (radius 0: the cells' own brightness).
  b = exposure_lib.box_blur(cells, exposure_lib.NATURAL_RADIUS).astype(np.float64) + 1e-4
  r = b / (float(mean_brightness) + 1e-4)
  e = target * r ** p.auto_strength
  if p.auto_gain_cap is not None:
    e = np.minimum(e, p.auto_gain_cap * target * r)
  return np.clip(e, *exposure_lib.NATURAL_RANGE).astype(np.float32)


def has_response_calibration(model):
  return bool(model.presets.response_means)


def feed(model, values, mean_brightness):
  """Requested exposure values (scalar or array) -> the values given to the network,
  for a frame of this mean brightness (the export's response calibration; identity
  when it has none)."""
  return model.presets.feed(values, mean_brightness)


def adaptive_cells(model, frame, lo, hi):
  """The luminance-adaptive map of a frame per 4x4 cell, with its luminance range
  given (smoothed, in video) rather than measured: (ceil(H/4), ceil(W/4)) float32,
  before any response calibration."""
  p = model.presets

  class _Range:  # the statistics interface exposure._adaptive asks for
    def luminance_range(self):
      return lo, hi

    def luminance(self):
      return runtime_api._luminance(runtime_api._Prepared(frame), model.threads)

  spec = exposure_lib._adaptive(_Range(), p.adaptive_base, p.adaptive_strength)
  h, w = frame.shape[:2]
  if spec[0] == "const":
    return np.full((-(-h // 4), -(-w // 4)), spec[1], np.float32)
  if spec[0] == "luma":
    # E = a - b * Y is linear in Y: its cell means are a - b * (cell mean of Y).
    _, a, b = spec
    y = runtime_api._luminance(runtime_api._Prepared(frame), model.threads)
    return (np.float32(a) - np.float32(b) * cell_means(y)).astype(np.float32)
  return cell_means(spec[1])


def run(model, frame, kind, value, out, color="natural"):
  """Runs the network on an (H, W, 3) uint8/uint16 frame into ``out`` (same shape
  and dtype) with the exposure fed as given: kind 'const' (a number) or 'cells' (a
  (ceil(H/4), ceil(W/4)) float32 map, one value per 4x4 cell)."""
  if kind == "cells":
    spec = ("cells", np.ascontiguousarray(value, np.float32))
  elif kind == "const":
    spec = ("const", float(value))
  else:
    raise ValueError(f"unknown exposure kind {kind!r}")
  job = engine_lib.Job(frame, spec, out=out, color=color)
  model.engine.run(job)
  return out


def still_enhance(model, frame, setting, color="natural"):
  """The still-photo path on one frame (what ``model.enhance`` does): the reference
  the per-frame video path is compared with."""
  return model.enhance(frame, exposure=setting, color=color)
