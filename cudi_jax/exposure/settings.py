"""User exposure settings: what a person asks for, before any photo is looked at.

:func:`parse_setting` classifies a setting into one of four typed values:
:class:`Named` (``auto``, ``adaptive``, ``under``, ``over``), :class:`Value` (a
target brightness in [0, 1]), :class:`MapFile` (a grayscale image file) or
:class:`MapArray` (an array). Maps are read and scaled here too.
"""
import dataclasses
import os

import numpy as np

from cudi_jax import imagemath
from cudi_jax.errors import CudiError

#: The named settings every front end accepts.
NAMES = ("under", "over", "auto", "adaptive")


class ExposureError(CudiError, ValueError):
  """An exposure value or map that cannot be used."""


@dataclasses.dataclass(frozen=True)
class Named:
  name: str


@dataclasses.dataclass(frozen=True)
class Value:
  value: float


@dataclasses.dataclass(frozen=True)
class MapFile:
  path: object  # str or os.PathLike


@dataclasses.dataclass(frozen=True, eq=False)
class MapArray:
  array: np.ndarray


def parse_setting(exposure):
  """A user setting -> :class:`Named`, :class:`Value`, :class:`MapFile` or
  :class:`MapArray`. Strings are a name, a number, or the path of an existing file;
  anything else that is not a number, a path or an array raises ExposureError."""
  if isinstance(exposure, (Named, Value, MapFile, MapArray)):
    return exposure
  if isinstance(exposure, (bool, np.bool_)):
    raise ExposureError(f"exposure must be a number, a name or a map, got {exposure!r}")
  if isinstance(exposure, str):
    key = exposure.strip().lower()
    if key in NAMES:
      return Named(key)
    try:
      value = float(key)
    except ValueError:
      if os.path.isfile(exposure):
        return MapFile(exposure)
      raise ExposureError(f"exposure must be a number in [0, 1], one of {', '.join(NAMES)}, "
                          f"or a map file; got {exposure!r}") from None
    return Value(check_value(value))
  if hasattr(exposure, "__fspath__"):
    return MapFile(exposure)
  if np.ndim(exposure) == 0:
    return Value(check_value(exposure))
  return MapArray(np.asarray(exposure))


def check_value(value):
  """A number in [0, 1] as a float; raises ExposureError otherwise."""
  try:
    value = float(value)
  except (TypeError, ValueError):
    raise ExposureError(f"exposure must be a number in [0, 1] or one of "
                        f"{', '.join(NAMES)}, got {value!r}") from None
  if not np.isfinite(value) or not 0.0 <= value <= 1.0:
    raise ExposureError(f"exposure value must be in [0, 1], got {value}")
  return value


def map_from_array(array, height, width):
  """A user map (H', W') or (H', W', 1) array -> float32 (H, W) in [0, 1].

  uint8 maps are divided by 255, uint16 by 65535; other integer types must be 0/1
  masks; floats must already be in [0, 1]. A map of another size is resized bilinearly.
  """
  array = np.asarray(array)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  if array.ndim != 2 or min(array.shape) < 1:
    raise ExposureError(f"exposure map must be a 2-D (H, W) array, got shape {array.shape}")
  if array.dtype in (np.uint8, np.uint16):
    array = array.astype(np.float32) / float(np.iinfo(array.dtype).max)
  elif np.issubdtype(array.dtype, np.integer):
    # Other integer types carry no scale: only a 0/1 mask is unambiguous.
    if array.min() < 0 or array.max() > 1:
      raise ExposureError(f"integer exposure maps must be uint8 (0-255) or uint16 (0-65535); "
                          f"got {array.dtype} with values in [{array.min()}, {array.max()}]")
    array = array.astype(np.float32)
  elif array.dtype == bool:
    array = array.astype(np.float32)
  else:
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
      raise ExposureError("exposure map contains NaN or infinite values")
    if array.min() < 0.0 or array.max() > 1.0:
      raise ExposureError(f"exposure map values must be in [0, 1], got "
                          f"[{array.min():.3g}, {array.max():.3g}]")
  if array.shape != (height, width):
    array = resize_map(array, height, width)
  return np.clip(array, 0.0, 1.0).astype(np.float32)


def resize_map(array, height, width):
  """Bilinear resize of a float (h, w) map with PIL (mode 'F')."""
  from PIL import Image
  img = Image.fromarray(np.ascontiguousarray(array, np.float32), mode="F")
  return np.asarray(img.resize((width, height), Image.BILINEAR), np.float32)


def read_map_file(path):
  """An exposure-map image file -> its (H, W) array at the file's own size, read as
  photos are read (EXIF orientation applied, 16-bit kept). An alpha channel is
  dropped; a colour map becomes its BT.601 luma (float32 in [0, 1]); grayscale stays
  uint8 / uint16 / float32 for :func:`map_from_array`. Raises ExposureError if the
  file cannot be read."""
  from cudi_jax.io import decode  # Pillow, only when a map file is read.
  from cudi_jax.io.errors import ImageIOError
  try:
    array = decode.read_image(path).array
  except ImageIOError as err:
    raise ExposureError(f"cannot read exposure map {path}: {err}") from None
  if array.ndim == 3 and array.shape[-1] in (2, 4):
    array = array[..., :-1]
  if array.ndim == 3 and array.shape[-1] == 3:
    x = array.astype(np.float32)
    if array.dtype != np.float32:
      x /= np.float32(np.iinfo(array.dtype).max)
    array = np.clip(imagemath.luma(x), 0.0, 1.0)
  elif array.ndim == 3:
    array = array[..., 0]
  return array
