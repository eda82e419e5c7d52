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
from cudi_jax.exposure import values
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


def _checked(array):
  """A user map checked: (the (H', W') array, the divisor that scales it to [0, 1])."""
  array = np.asarray(array)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  if array.ndim != 2 or min(array.shape) < 1:
    raise ExposureError(f"exposure map must be a 2-D (H, W) array, got shape {array.shape}")
  if array.dtype in (np.uint8, np.uint16):
    return array, float(np.iinfo(array.dtype).max)
  if np.issubdtype(array.dtype, np.integer):
    # Other integer types carry no scale: only a 0/1 mask is unambiguous.
    if array.min() < 0 or array.max() > 1:
      raise ExposureError(f"integer exposure maps must be uint8 (0-255) or uint16 (0-65535); "
                          f"got {array.dtype} with values in [{array.min()}, {array.max()}]")
    return array, None
  if array.dtype == bool:
    return array, None
  with np.errstate(invalid="ignore"):
    lo, hi = np.min(array), np.max(array)
  if not (np.isfinite(lo) and np.isfinite(hi)):
    raise ExposureError("exposure map contains NaN or infinite values")
  if lo < 0.0 or hi > 1.0:
    raise ExposureError(f"exposure map values must be in [0, 1], got [{lo:.3g}, {hi:.3g}]")
  return array, None


def _scaled(array, divisor):
  """Rows of a checked map as float32 in [0, 1]."""
  array = array.astype(np.float32)
  if divisor is not None:
    array /= np.float32(divisor)
  return np.clip(array, 0.0, 1.0, out=array)


def map_from_array(array, height, width):
  """A user map (H', W') or (H', W', 1) array -> float32 (H, W) in [0, 1].

  uint8 maps are divided by 255, uint16 by 65535; other integer types must be 0/1
  masks; floats must already be in [0, 1]. A map of another size is resized bilinearly.
  """
  array, divisor = _checked(array)
  array = _scaled(array, divisor)
  if array.shape != (height, width):
    array = np.clip(resize_map(array, height, width), 0.0, 1.0)
  return array


def map_cells(array, height, width, rows_per_chunk=1024, cell=4):
  """A user map (what :func:`map_from_array` takes) as the network sees it for an
  (height, width) photo: its (ceil(H/4), ceil(W/4)) float32 cell means (``cell``
  instead of 4: a video's larger cells), in bounded memory. A map of the photo's size
  is reduced exactly as the network reduces it
  (:func:`cudi_jax.exposure.values.cells_from_map`, row chunk by row chunk); a map of any
  other size is first averaged over whole blocks (row chunk by row chunk) down to at
  most twice the cell grid, then resized bilinearly straight to the grid."""
  array, divisor = _checked(array)
  h, w = array.shape
  hq, wq = values.cell_shape(height, width, cell)
  if (h, w) == (height, width):
    out = np.empty((hq, wq), np.float32)
    step = max(1, rows_per_chunk // cell)
    for q0 in range(0, hq, step):
      q1 = min(q0 + step, hq)
      out[q0:q1] = values.cells_from_map(_scaled(array[cell * q0:cell * q1], divisor),
                                         cell=cell)
    return out
  fy, fx = max(1, h // (2 * hq)), max(1, w // (2 * wq))
  if fy > 1 or fx > 1:
    source = _block_means(array, divisor, fy, fx, rows_per_chunk)
  else:
    source = _scaled(array, divisor)
  return np.clip(resize_map(source, hq, wq), 0.0, 1.0)


#: Map files above this many pixels are refused.
MAX_MAP_PIXELS = 200_000_000
#: A map file larger than this (pixels) is kept at this size once read (block means):
#: a map is smooth, and the network uses one value per 4x4 cell of the photo (a 200 MP
#: photo has 12.5 million cells).
KEEP_MAP_PIXELS = 16_000_000


def shrink_map(array, max_pixels=KEEP_MAP_PIXELS):
  """A map larger than ``max_pixels`` as float32 block means in [0, 1] of at most that
  many pixels (smaller maps are returned as they are), so that a run holds a small map."""
  array, divisor = _checked(array)
  h, w = array.shape
  if h * w <= max_pixels:
    return array
  f = int(np.ceil(np.sqrt(h * w / max_pixels)))
  return _block_means(array, divisor, f, f, rows_per_chunk=1024)


def _block_means(array, divisor, fy, fx, rows_per_chunk):
  """Means over fy x fx blocks (partial blocks at the bottom/right over what they
  hold), scaled to [0, 1]: (ceil(H/fy), ceil(W/fx)) float32."""
  h, w = array.shape
  cols = np.arange(0, w, fx)
  widths = np.diff(np.append(cols, w)).astype(np.float32)
  out = np.empty((-(-h // fy), len(cols)), np.float32)
  step = max(1, rows_per_chunk // fy) * fy
  for r0 in range(0, h, step):
    rows = _scaled(array[r0:r0 + step], divisor)
    starts = np.arange(0, rows.shape[0], fy)
    heights = np.diff(np.append(starts, rows.shape[0])).astype(np.float32)
    sums = np.add.reduceat(np.add.reduceat(rows, starts, axis=0), cols, axis=1)
    out[r0 // fy:r0 // fy + len(starts)] = sums / heights[:, None] / widths[None, :]
  return out


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
  from cudi_jax.io.errors import ImageIOError, ImageTooLargeError
  try:
    array = decode.read_image(path, MAX_MAP_PIXELS).array
  except ImageTooLargeError as err:
    raise ExposureError(f"exposure map {path} is too large: {err.width} x {err.height} = "
                        f"{err.width * err.height:,} pixels (maps are limited to "
                        f"{MAX_MAP_PIXELS:,}; a smaller map gives the same result: the "
                        f"network uses one value per 4x4 cell of the photo)") from None
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
