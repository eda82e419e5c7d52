"""The editor's only contact with the runtime, the exposure rules and ``cudi enhance``.

Everything the editor asks of the model goes through these few functions, so that a
change in the runtime's exposure API is made here and nowhere else in the package.

The editor works with *requested* maps: an (H, W) float32 array in [0, 1], the
brightness asked of each pixel, exactly what an exposure-map file holds and what
``model.enhance(image, exposure=array)`` and ``cudi enhance --exposure-map`` take (the
export's response calibration, if any, turns it into the values the network is fed).
"""
import argparse

import numpy as np

from cudi_jax.exposure import settings as exposure_settings
from cudi_jax.exposure import values as exposure_values

#: The named global settings the editor offers (the runtime's names).
NAMED_SETTINGS = ("auto", "under", "over", "adaptive")
#: Steps of the table that inverts the response calibration (see :func:`setting_map`).
_INVERSE_STEPS = 4096


class MapError(ValueError):
  """An exposure map that cannot be used (a bad file, NaN values, a wrong shape)."""


def load_model(weights=None, threads=None):
  """The student runtime: ``weights`` an exported ``.npz`` (None: the shipped ones).
  Raises the runtime's WeightsNotFoundError or ExportFormatError (both one line)."""
  from cudi_jax.runtime import api as runtime
  return runtime.load_student(weights, threads=threads)


def enhance(model, image, requested_map, color="natural"):
  """``image`` enhanced with a requested (H', W') map (resized bilinearly to the image)."""
  return model.enhance(image, exposure=requested_map, color=color)


def setting_map(model, image, setting):
  """The requested (H, W) float32 map that gives about what ``setting`` gives.

  setting: a number in [0, 1], or one of :data:`NAMED_SETTINGS`. A number (and
  'under' / 'over', constants) is its own requested map. For a map-valued setting
  ('auto', 'adaptive') the runtime resolves the values it feeds the network
  (``model.resolve_exposure``), so they are turned back into requested values by
  inverting the export's maps calibration for this photo's brightness
  (``model.rules.calibration.feed``, a monotone curve). Where that curve is flat (values the
  calibrated network cannot be asked for), the inverse picks a request that is fed
  the nearest reachable value, so the result is the same. For 'auto' this is its map
  only: the steps ``auto`` takes after the network (tempering an over-exposed photo's
  curves, holding a noisy photo's black cells near black;
  :class:`cudi_jax.exposure.values.Tempered`) belong to no map, so the editor's
  'auto' gives over-exposed photos more contrast, and noisy night skies a greyer
  black, than ``cudi enhance`` does.
  """
  h, w = image.shape[:2]
  if not isinstance(setting, str):
    return np.full((h, w), exposure_settings.check_value(setting), np.float32)
  if setting in ("under", "over"):
    return np.full((h, w), model.presets.target(setting), np.float32)
  if setting not in NAMED_SETTINGS:
    raise ValueError(f"unknown exposure setting {setting!r}")
  fed = exposure_values.full_map(model.resolve_exposure(image, setting), _float_rgb(image))
  return unfeed(model, fed, mean_brightness(image))


def _float_rgb(image):
  """The colour channels of an image as float32 (H, W, 3) in [0, 1]."""
  array = np.asarray(image)
  if array.ndim == 2:
    array = array[..., None]
  array = array[..., :3] if array.shape[-1] >= 3 else np.repeat(array[..., :1], 3, axis=-1)
  scale = float(np.iinfo(array.dtype).max) if np.issubdtype(array.dtype, np.integer) else 1.0
  return array.astype(np.float32) / np.float32(scale)


def unfeed(model, fed, brightness):
  """Requested values whose calibrated (fed) values are ``fed``, for a photo of this
  mean brightness (identity for an export without response calibration)."""
  requested = np.linspace(0.0, 1.0, _INVERSE_STEPS + 1)
  curve = np.asarray(model.rules.calibration.feed(requested, brightness), np.float64)
  # np.interp needs increasing abscissae: flat stretches get a negligible slope.
  curve = np.maximum.accumulate(curve) + np.arange(curve.size) * 1e-9
  return np.clip(np.interp(fed, curve, requested), 0.0, 1.0).astype(np.float32)


def mean_brightness(image):
  """Mean RGB brightness in [0, 1] of a uint8 / uint16 / float (H, W[, C]) image
  (colour channels only), as the calibration measures a photo."""
  array = np.asarray(image)
  if array.ndim == 3:
    array = array[..., :3] if array.shape[-1] >= 3 else array[..., :1]
  scale = float(np.iinfo(array.dtype).max) if np.issubdtype(array.dtype, np.integer) else 1.0
  return float(array.mean(dtype=np.float64) / scale)


def read_map(path):
  """An exposure-map file at its own size (as ``cudi enhance --exposure-map`` reads it)."""
  try:
    return exposure_settings.read_map_file(path)
  except exposure_settings.ExposureError as err:
    raise MapError(str(err)) from None


def fit_map(array, height, width):
  """A user map (uint8 / uint16 / float in [0, 1], any size) as float32 (height, width),
  resized bilinearly as the runtime resizes it."""
  try:
    return exposure_settings.map_from_array(array, height, width)
  except exposure_settings.ExposureError as err:
    raise MapError(str(err)) from None


def resize_map(array, height, width):
  """Bilinear resize of any float (h, w) array (e.g. a painted offset in [-1, 1]) with
  the resampling the runtime uses for maps."""
  return exposure_settings.resize_map(np.asarray(array, np.float32), height, width)


def enhance_file(model, source, target, map_path, color="natural", overwrite=False):
  """Writes ``source`` enhanced with the exposure-map file ``map_path`` to ``target``
  through the code of ``cudi enhance SOURCE -o TARGET --exposure-map MAP_PATH``, so
  the file is the one that command writes (bit depth, ICC profile, EXIF, atomic write;
  raises cudi_jax.io.errors.OutputExistsError instead of replacing a file unless
  ``overwrite``)."""
  from cudi_jax import cli
  from cudi_jax.io import decode
  exposure_map = read_map(map_path)
  args = argparse.Namespace(color=color, format=None, quality=None, png_compression="fast",
                            overwrite=overwrite)
  task = cli._Task(source, target, source)
  cli._enhance_file(task, model, "auto", exposure_map, args, decode.DEFAULT_MAX_PIXELS,
                    False)
