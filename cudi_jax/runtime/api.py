"""NumPy-only CuDi runtime: exposure map -> student at 1/4 resolution -> K, B
upsampled x4 -> ``clip(K * I + B, 0, 1)``.

Imports nothing but NumPy (and Pillow lazily for exposure-map files): it works where
JAX is not installed. The arithmetic runs in :mod:`cudi_jax.runtime.engine` (banded,
multi-threaded float32, bounded memory); :mod:`cudi_jax.student_math` is the readable
reference it is tested against.

    from cudi_jax.runtime import load_student
    model = load_student()                      # the shipped weights
    out = model.enhance(image)                  # uint8/uint16/float, HxW[x1|2|3|4]
    out, k, b = model.enhance(image, exposure=0.6, return_maps=True)
"""
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cudi_jax.runtime import engine as engine_lib
from cudi_jax import assets
from cudi_jax import exposure as exposure_lib
from cudi_jax import student_math
from cudi_jax import weights
from cudi_jax.errors import CudiError



NonFiniteResultError = engine_lib.NonFiniteResultError


class WeightsNotFoundError(CudiError, FileNotFoundError):
  """No shipped weights in this installation."""


def shipped_weights_path():
  """Path of the package's ``cudi_jax/assets/student.npz`` (it may not exist)."""
  return assets.path(assets.STUDENT)


def load_student(path=None, threads=None):
  """A :class:`StudentRuntime` from an exported ``.npz`` (default: the shipped weights).

  Raises :class:`cudi_jax.weights.ExportFormatError` (a ``ValueError``) for a
  file that is not a valid student export, and :class:`WeightsNotFoundError` when no
  path is given and the installation ships no weights.
  """
  if path is None:
    path = shipped_weights_path()
    if not os.path.isfile(path):
      raise WeightsNotFoundError(
          f"no shipped student weights at {path}: this installation has no trained model; "
          f"pass a file made by export.py: load_student('student.npz') or --weights FILE")
  export = weights.load_export(path, kind="student")
  if export.metadata.get("placeholder"):
    warnings.warn(f"{os.fspath(path)} holds placeholder (untrained) student weights: "
                  f"outputs are close to the input", UserWarning, stacklevel=2)
  return StudentRuntime(export.params, export.metadata, threads=threads)


class StudentRuntime:
  """A trained student held as float32 NumPy arrays.

  params: flat dict ``conv{i}/{dw_kernel,dw_bias,pw_kernel,pw_bias}`` (see
  :func:`cudi_jax.student_math.student_param_shapes`); metadata: free-form dict
  (an export's metadata; its ``exposure_presets`` are used when present).
  threads: worker threads (default: the CPUs available, at most 8).
  """

  def __init__(self, params, metadata=None, threads=None):
    self.params = {k: np.ascontiguousarray(v, np.float32) for k, v in params.items()}
    self.metadata = dict(metadata or {})
    # Shape errors are export errors (a CudiError and a ValueError): one line each.
    for name in ("conv1/dw_kernel", "conv1/pw_kernel", "conv7/pw_kernel"):
      if name not in self.params or self.params[name].ndim < 1:
        raise weights.ExportFormatError(f"student parameters lack {name}")
    self.width = self.params["conv1/pw_kernel"].shape[-1]
    in_channels = int(self.params["conv1/dw_kernel"].shape[-1])
    try:
      weights.check_student_channels(in_channels,
                                     int(self.params["conv7/pw_kernel"].shape[-1]))
    except weights.ExportFormatError as err:
      name = ("conv1/dw_kernel" if in_channels != weights.STUDENT_IN_CHANNELS
              else "conv7/pw_kernel")
      raise weights.ExportFormatError(f"parameter {name} has shape "
                                      f"{self.params[name].shape}: {err}") from None
    expected = student_math.student_param_shapes(self.width)
    if set(expected) != set(self.params):
      missing = sorted(set(expected) - set(self.params))
      extra = sorted(set(self.params) - set(expected))
      raise weights.ExportFormatError(f"student parameters do not match the architecture "
                                      f"(missing {missing}, unexpected {extra})")
    for name, shape in expected.items():
      if self.params[name].shape != shape:
        raise weights.ExportFormatError(f"parameter {name} has shape "
                                        f"{self.params[name].shape}, expected {shape}")
    self.presets = exposure_lib.Presets.from_metadata(self.metadata)
    self.engine = engine_lib.Engine(self.params, threads=threads)

  @property
  def threads(self):
    return self.engine.threads

  # ---------------------------------------------------------------- float API (reference)

  def maps(self, image, exposure="auto", calibrate=True, color="natural"):
    """Slope and intercept maps K, B: (H, W, 3) float32 each.

    image, exposure, calibrate, color: as for :meth:`enhance` (an (H, W) map included).
    """
    prepared = self._prepare(image)
    k = np.empty(prepared.shape2 + (3,), np.float32)
    b = np.empty_like(k)
    self._run(prepared, exposure, out=None, maps=(k, b), calibrate=calibrate, color=color)
    return k, b

  def enhance_float(self, image, exposure_map):
    """(H, W, 3) float in [0, 1] and an (H, W) map -> enhanced (H, W, 3) float32."""
    image = np.asarray(image, np.float32)
    return self.enhance(image, exposure_map)

  # ---------------------------------------------------------------- main API

  def enhance(self, image, exposure="auto", return_maps=False, progress=None, calibrate=True,
              color="natural"):
    """Enhances an image; returns the same dtype and layout.

    image: (H, W) grayscale, (H, W, 1), (H, W, 2) grayscale + alpha, (H, W, 3) RGB or
      (H, W, 4) RGBA; dtype uint8, uint16 or float (float16/32/64, values in [0, 1]),
      in either byte order. Float values outside [0, 1] (beyond a rounding tolerance
      of 1e-6: a 0-255 float image, negatives, infinities) and NaN raise ValueError;
      divide 8-bit data by 255 (16-bit by 65535) first.
      Alpha is passed through untouched. Grayscale is replicated to RGB, enhanced,
      and the mean of the three enhanced channels is returned.
    exposure: 'auto' (the default: a map that follows the photo's own brightness,
      so that each region gets about one common gain and the photo comes out at a
      mean brightness of about 0.5, dark or bright); a number in [0, 1] (the target
      mean brightness); 'under' (0.55) or 'over' (0.25); 'adaptive' (E = 0.55 + 0.15 *
      Norm(mean(Y) - Y): brightens dark regions more); an (H, W) array (uint8/uint16
      scaled to [0, 1], float in [0, 1], any size: resized bilinearly); or a path
      (``os.PathLike``) to a grayscale image. Exports calibrated by
      tools/calibrate_exposure.py correct every setting but 'auto' (which has its own
      calibration) for how far the network falls short of a target.
    return_maps: also return K and B, (H, W, 3) float32 each: ``(out, k, b)``.
    progress: optional callable ``progress(rows_done)`` called as bands finish.
    calibrate: False gives an (H, W) array ``exposure`` to the network as is (a map
      already resolved for this model, e.g. by :func:`cudi_jax.exposure.inference_map`
      with ``model.presets``).
    color: 'natural' (the default): where the network brightens, one slope and
      intercept for all three channels, so brightening keeps the photo's white balance;
      where it darkens (over-exposure), the network's per-channel maps, which restore
      washed-out colour (:func:`cudi_jax.student_math.natural_color`). 'network': the
      per-channel maps as the network predicts them (what the teacher's curves do).

    Integer outputs are ``round-half-up(clip(K * I + B, 0, 1) * max)`` computed in
    float32 (max = 255 or 65535); float outputs are ``clip(K * I + B, 0, 1)``.

    Raises :class:`NonFiniteResultError` (a ValueError) when the network's K or B
    overflow or are NaN (broken weights): never a silent black or NaN image.
    """
    prepared = self._prepare(image)
    out = np.empty_like(prepared.image)
    if prepared.alpha_index is not None:
      out[..., prepared.alpha_index] = prepared.image[..., prepared.alpha_index]
    target = prepared.color_view(out)
    maps = None
    if return_maps:
      maps = (np.empty(prepared.shape2 + (3,), np.float32),
              np.empty(prepared.shape2 + (3,), np.float32))
    self._run(prepared, exposure, out=target, maps=maps, progress=progress, calibrate=calibrate,
              color=color)
    if return_maps:
      return out, maps[0], maps[1]
    return out

  def exposure_map(self, image, exposure="auto"):
    """The (H, W) float32 exposure map that ``exposure`` resolves to for ``image``."""
    prepared = self._prepare(image)
    stats = _Stats(prepared, self.engine.threads)
    h, w = prepared.shape2
    return exposure_lib.materialize(exposure_lib.resolve(exposure, h, w, stats, self.presets),
                                    h, w, stats)

  # ---------------------------------------------------------------- internals

  def _prepare(self, image):
    return _Prepared(image)

  def _run(self, prepared, exposure, out, maps, progress=None, calibrate=True, color="natural"):
    if calibrate:
      spec = self._resolve(prepared, exposure)
    elif np.ndim(exposure) == 0:  # a value already resolved for this model
      spec = ("const", exposure_lib.check_value(exposure))
    else:  # an (H, W) map already resolved for this model: given to the network as is
      spec = ("map", exposure_lib.map_from_array(exposure, *prepared.shape2))
    job = engine_lib.Job(prepared.color, spec, out=out, maps=maps, gray=prepared.gray,
                         color=color)
    self.engine.run(job, progress=progress)

  def _resolve(self, prepared, exposure):
    """Exposure setting -> ('const', v) | ('map', (H, W) float32) | ('luma', a, b)
    (:func:`cudi_jax.exposure.resolve` with this export's presets)."""
    h, w = prepared.shape2
    return exposure_lib.resolve(exposure, h, w, _Stats(prepared, self.engine.threads),
                                self.presets)


class _Stats:
  """Banded, multi-threaded luminance statistics of a prepared image, in the
  interface :func:`cudi_jax.exposure.resolve` asks for."""

  def __init__(self, prepared, threads):
    self.prepared = prepared
    self.threads = threads

  def luminance_range(self):
    return _luminance_range(self.prepared, self.threads)

  def luminance(self):
    return _luminance(self.prepared, self.threads)

  def cell_brightness(self):
    return _cell_brightness(self.prepared, self.threads)


class _Prepared:
  """An input image split into its colour part (a view) and layout facts."""

  def __init__(self, image):
    if not isinstance(image, np.ndarray):
      if hasattr(image, "mode") and hasattr(image, "size"):
        raise TypeError("pass a NumPy array (np.asarray(pil_image)), not a PIL image")
      image = np.asarray(image)
    if not image.dtype.isnative:  # e.g. '>u2' from a big-endian file: native first
      image = image.astype(image.dtype.newbyteorder("="))
    if image.dtype == bool or not (image.dtype in (np.uint8, np.uint16)
                                   or np.issubdtype(image.dtype, np.floating)):
      raise TypeError(f"image dtype must be uint8, uint16 or float, got {image.dtype}")
    if image.ndim == 2:
      channels = 1
    elif image.ndim == 3 and image.shape[-1] in (1, 2, 3, 4):
      channels = image.shape[-1]
    else:
      raise ValueError(f"image must be (H, W) or (H, W, C) with C in 1..4, got shape "
                       f"{image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
      raise ValueError(f"image is empty: shape {image.shape}")
    if np.issubdtype(image.dtype, np.floating):
      check_float_range(image)
    self.image = image
    self.shape2 = image.shape[:2]
    self.gray = channels in (1, 2)
    self.alpha_index = {2: 1, 4: 3}.get(channels) if image.ndim == 3 else None
    self.color = self.color_view(image)
    self.maxval = (float(np.iinfo(image.dtype).max)
                   if np.issubdtype(image.dtype, np.integer) else 1.0)

  def color_view(self, array):
    if array.ndim == 2:
      return array
    if self.gray:
      return array[..., 0]
    return array[..., :3]


#: Float pixels may exceed [0, 1] by this much (rounding); more is refused.
FLOAT_TOLERANCE = 1e-6


def check_float_range(image, tolerance=FLOAT_TOLERANCE):
  """Raises ValueError unless every value of a float image is in [0, 1] (within
  ``tolerance``); NaN and infinities included."""
  with np.errstate(invalid="ignore"):
    lo, hi = float(np.min(image)), float(np.max(image))
  if np.isnan(lo) or np.isnan(hi):
    raise ValueError("float image contains NaN values; float images must hold values "
                     "in [0, 1]")
  if lo < -tolerance or hi > 1.0 + tolerance:
    hint = (" (0-255 data? divide by 255 first)" if 1.5 < hi <= 255.0 else
            " (0-65535 data? divide by 65535 first)" if 255.0 < hi <= 65535.0 else "")
    raise ValueError(f"float image values must be in [0, 1] (tolerance {tolerance:g}), "
                     f"got {lo:g} to {hi:g}{hint}")


# --------------------------------------------------------------------------- statistics


def _row_bands(n_rows, threads, target_rows=256):
  step = max(16, min(target_rows, -(-n_rows // max(1, threads))))
  return [(r, min(r + step, n_rows)) for r in range(0, n_rows, step)]


def _parallel(fn, bands, threads):
  if threads <= 1 or len(bands) == 1:
    return [fn(b) for b in bands]
  with ThreadPoolExecutor(max_workers=min(threads, len(bands))) as pool:
    return list(pool.map(fn, bands))


def _cell_brightness(prepared, threads):
  """Mean RGB brightness of each 4x4 cell, edge-padded at the bottom/right as the
  student pads: (ceil(H/4), ceil(W/4)) float32, in bands of whole cells."""
  color = prepared.color
  h, w = prepared.shape2
  hq, wq = -(-h // 4), -(-w // 4)
  out = np.empty((hq, wq), np.float32)
  channels = 1 if prepared.gray else 3
  scale = np.float32(1.0 / (16.0 * channels * prepared.maxval))

  # Exact integer sums where the input is integer (4 rows of uint8 fit uint16).
  row_type = {np.dtype(np.uint8): np.uint16, np.dtype(np.uint16): np.uint32}.get(
      color.dtype, np.float32)
  cell_type = np.uint32 if row_type != np.float32 else np.float32

  def cells(band):
    q0, q1 = band
    rows = color[4 * q0:min(4 * q1, h)]
    if 4 * q1 > h:  # replicate the last row
      rows = np.concatenate([rows, np.repeat(rows[-1:], 4 * q1 - h, axis=0)], axis=0)
    acc = np.add.reduce(rows.reshape((q1 - q0, 4) + rows.shape[1:]), axis=1, dtype=row_type)
    if 4 * wq > w:  # replicate the last column
      acc = np.concatenate([acc, np.repeat(acc[:, -1:], 4 * wq - w, axis=1)], axis=1)
    acc = acc.reshape((q1 - q0, wq, -1))  # the 4 columns (x channels) of each cell
    out[q0:q1] = np.add.reduce(acc, axis=-1, dtype=cell_type) * scale

  _parallel(cells, _row_bands(hq, threads, target_rows=64), threads)
  return out


def _luminance_band(prepared, r0, r1):
  """Y of rows [r0, r1) exactly as :func:`cudi_jax.exposure.luminance` of the float image."""
  rows = prepared.color[r0:r1]
  scale = np.float32(prepared.maxval)

  def channel(c):
    v = rows if prepared.gray else rows[..., c]
    v = v.astype(np.float32)
    if prepared.maxval != 1.0:
      v /= scale
    return v

  y = channel(0) * np.float32(exposure_lib.LUMA[0])
  y += channel(1) * np.float32(exposure_lib.LUMA[1])
  y += channel(2) * np.float32(exposure_lib.LUMA[2])
  return y


def _luminance_range(prepared, threads):
  def minmax(band):
    y = _luminance_band(prepared, *band)
    return float(y.min()), float(y.max())

  results = _parallel(minmax, _row_bands(prepared.shape2[0], threads), threads)
  return min(r[0] for r in results), max(r[1] for r in results)


def _luminance(prepared, threads):
  h = prepared.shape2[0]
  y = np.empty(prepared.shape2, np.float32)

  def fill(band):
    y[band[0]:band[1]] = _luminance_band(prepared, *band)

  _parallel(fill, _row_bands(h, threads or 1), threads or 1)
  return y


def reference_enhance(params, image, exposure="auto", presets=exposure_lib.DEFAULT_PRESETS,
                      color="natural"):
  """The straightforward implementation (``student_math`` with ``xp=numpy`` on whole
  float32 arrays): the benchmark baseline and a test oracle. uint8/uint16 RGB or float;
  ``presets``: the export's (``model.presets``); ``color``: as for
  :meth:`StudentRuntime.enhance`."""
  maxval = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
  x = image.astype(np.float32)
  if maxval != 1.0:
    x = x / np.float32(maxval)
  e = exposure_lib.inference_map(exposure, x, presets)
  k, b = student_math.student_maps(params, x, e[..., None], np, color=color)
  out = student_math.tangent_apply(k, b, x, np)
  if maxval == 1.0:
    return out.astype(image.dtype)
  return np.floor(out * np.float32(maxval) + np.float32(0.5)).astype(image.dtype)
