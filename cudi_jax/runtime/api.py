"""NumPy-only CuDi runtime: exposure -> student at 1/4 resolution -> K, B upsampled x4
-> ``clip(K * I + B, 0, 1)``.

Imports nothing but NumPy (and Pillow lazily for exposure-map files): it works where
JAX is not installed. The arithmetic runs in :mod:`cudi_jax.runtime.engine` (banded,
multi-threaded float32, bounded memory); :mod:`cudi_jax.student_math` is the readable
reference it is tested against (:mod:`cudi_jax.runtime.reference`).

    from cudi_jax.runtime import load_student
    model = load_student()                      # the shipped weights
    out = model.enhance(image)                  # uint8/uint16/float, HxW[x1|2|3|4]
    out, k, b = model.enhance(image, exposure=0.6, return_maps=True)
"""
import os
import warnings

import numpy as np

from cudi_jax import assets
from cudi_jax import weights
from cudi_jax.errors import CudiError
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure.settings import ExposureError
from cudi_jax.runtime import engine as engine_lib
from cudi_jax.runtime import fullres
from cudi_jax.runtime import job as job_lib
from cudi_jax.runtime import prepared as prepared_lib
from cudi_jax.runtime import stats as stats_lib

NonFiniteResultError = fullres.NonFiniteResultError


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
  (an export's metadata: its ``exposure_presets`` and ``calibration`` say what exposure
  settings mean for these weights, :class:`cudi_jax.exposure.resolve.ExposureRules`).
  threads: worker threads (default: the CPUs available, at most 8).
  """

  def __init__(self, params, metadata=None, threads=None):
    self.params = weights.check_student_params(params)
    self.metadata = dict(metadata or {})
    try:
      self.rules = resolve_lib.ExposureRules.from_metadata(self.metadata)
    except ExposureError as err:
      raise weights.ExportFormatError(f"bad exposure metadata: {err}") from None
    self.engine = engine_lib.Engine(self.params, threads=threads)

  @property
  def width(self):
    return self.engine.width

  @property
  def presets(self):
    return self.rules.presets

  @property
  def threads(self):
    return self.engine.threads

  def enhance(self, image, exposure="auto", color="natural", return_maps=False, progress=None):
    """Enhances an image; returns the same dtype and layout.

    image: (H, W) grayscale, (H, W, 1), (H, W, 2) grayscale + alpha, (H, W, 3) RGB or
      (H, W, 4) RGBA; dtype uint8, uint16 or float (float16/32/64, values in [0, 1]),
      in either byte order. Float values outside [0, 1] (beyond a rounding tolerance
      of 1e-6: a 0-255 float image, negatives, infinities) and NaN raise ValueError;
      divide 8-bit data by 255 (16-bit by 65535) first.
      Alpha is passed through untouched. Grayscale is replicated to RGB, enhanced,
      and the mean of the three enhanced channels is returned.
    exposure: a setting -- 'auto' (the default: a map that follows the photo's own
      brightness, so that each region gets about one common gain and the photo comes
      out at a mean brightness of about 0.5, dark or bright); a number in [0, 1] (the
      target mean brightness); 'under' (0.55) or 'over' (0.25); 'adaptive' (E = 0.55 +
      0.15 * Norm(mean(Y) - Y): brightens dark regions more); an (H, W) array
      (uint8/uint16 scaled to [0, 1], float in [0, 1], any size: resized bilinearly);
      or a path (``os.PathLike``) to a grayscale image -- resolved with these weights'
      presets and calibration (:meth:`resolve_exposure`); or a fed value
      (:mod:`cudi_jax.exposure.values`), given to the network as it is.
    color: 'natural' (the default): where the network brightens, one slope and
      intercept for all three channels, so brightening keeps the photo's white balance;
      where it darkens (over-exposure), the network's per-channel maps, which restore
      washed-out colour (:func:`cudi_jax.student_math.natural_color`). 'network': the
      per-channel maps as the network predicts them (what the teacher's curves do).
    return_maps: also return K and B, (H, W, 3) float32 each: ``(out, k, b)``.
    progress: optional callable ``progress(rows_done)`` called as bands finish.

    Integer outputs are ``round-half-up(clip(K * I + B, 0, 1) * max)`` computed in
    float32 (max = 255 or 65535); float outputs are ``clip(K * I + B, 0, 1)``.

    Raises :class:`NonFiniteResultError` (a ValueError) when the network's K or B
    overflow or are NaN (broken weights): never a silent black or NaN image.
    """
    prepared = prepared_lib.Prepared(image)
    fed = self._resolve(prepared, exposure)
    out = np.empty_like(prepared.image)
    if prepared.alpha_index is not None:
      out[..., prepared.alpha_index] = prepared.image[..., prepared.alpha_index]
    maps = None
    if return_maps:
      maps = (np.empty(prepared.shape2 + (3,), np.float32),
              np.empty(prepared.shape2 + (3,), np.float32))
    job = job_lib.Job(prepared.color, fed, out=prepared.color_view(out), maps=maps,
                      gray=prepared.gray, color=color)
    self.engine.run(job, progress=progress)
    if return_maps:
      return out, maps[0], maps[1]
    return out

  def resolve_exposure(self, image, exposure="auto"):
    """The fed value (:mod:`cudi_jax.exposure.values`) a setting resolves to for
    ``image`` with these weights; :func:`cudi_jax.exposure.values.full_map` gives it
    as an (H, W) map."""
    return self._resolve(prepared_lib.Prepared(image), exposure)

  def _resolve(self, prepared, exposure):
    h, w = prepared.shape2
    return self.rules.resolve(exposure, h, w, stats_lib.Stats(prepared, self.engine.threads))
