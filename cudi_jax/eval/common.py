"""Loading photos, the student and the teacher for ``cudi evaluate`` / ``cudi report``.

A *model function* here is any callable ``fn(image, fed) -> output``: image a float32
(H, W, 3) array in [0, 1], ``fed`` the exposure the network is given (a value of
:mod:`cudi_jax.exposure.values`, resolved once with the student's rules by
:func:`resolve_exposure`), output (H, W, 3) float32 in [0, 1]. Both networks are
wrapped that way so that the same exposure is fed to both.

* Student: :func:`load_student_model` (NumPy only) -> a StudentRuntime;
  :func:`student_function` turns it into a model function.
* Teacher: :func:`cudi_jax.eval.teacher_runner.load_teacher_runner` (JAX).
"""
import os
import pathlib

import numpy as np

from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.io import decode, listing
from cudi_jax.runtime import api as runtime


class EvaluationError(CudiError, ValueError):
  """Evaluation inputs that cannot be used (missing files, mismatched pairs)."""


# --------------------------------------------------------------------------- images


def expand_image_paths(paths):
  """Image files among ``paths``: files as given, folders listed by
  :func:`cudi_jax.io.listing.list_images` (recursive, as training and ``cudi
  enhance`` list them)."""
  if isinstance(paths, (str, os.PathLike)):
    paths = [paths]
  found = []
  for p in paths:
    p = pathlib.Path(p)
    if p.is_dir():
      found.extend(pathlib.Path(f) for f in listing.list_images(p))
    elif p.is_file():
      found.append(p)
    else:
      raise EvaluationError(f"no such file or folder: {p}")
  return found


def _resize_float(image, height, width):
  """Lanczos resize of a float (H, W, C) image channel by channel (PIL mode 'F')."""
  from PIL import Image
  chans = [np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], np.float32), mode="F")
                      .resize((width, height), Image.LANCZOS), np.float32)
           for c in range(image.shape[-1])]
  return np.clip(np.stack(chans, axis=-1), 0.0, 1.0)


def fit_size(height, width, max_size):
  """(h, w) scaled so that the longer side is at most ``max_size`` (unchanged if it fits)."""
  if not max_size or max(height, width) <= max_size:
    return height, width
  s = max_size / max(height, width)
  return max(1, round(height * s)), max(1, round(width * s))


def resize_image(image, max_size=None, size=None):
  """Downscales a float image to fit ``max_size`` (or to ``size=(h, w)``)."""
  h, w = image.shape[:2]
  th, tw = size if size is not None else fit_size(h, w, max_size)
  if (th, tw) == (h, w):
    return image
  return _resize_float(image, th, tw)


def read_float_image(path):
  """An image file -> float32 (H, W, 3) in [0, 1], read as ``cudi enhance`` reads it
  (:func:`cudi_jax.io.decode.read_image`: EXIF orientation applied, 16-bit kept);
  alpha is dropped and grayscale replicated to RGB."""
  arr = decode.rgb_channels(decode.read_image(path).array)
  if arr.dtype == np.uint8 or arr.dtype == np.uint16:
    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
  return np.clip(np.asarray(arr, np.float32), 0.0, 1.0)


def load_image(path, max_size=None):
  """:func:`read_float_image` then :func:`resize_image` to fit ``max_size``."""
  return resize_image(read_float_image(path), max_size)


def global_gain(image, target=0.5):
  """The baseline to beat on paired photos: one gain for the whole photo, chosen (by
  bisection) so that the clipped result ``clip(g * image, 0, 1)`` has mean BT.709
  luminance ``target``."""
  image = np.asarray(image, np.float32)
  weights = np.array(LUMA_709, np.float32)
  lit = image[image > 0]
  if lit.size == 0:
    return image.copy()
  lo, hi = 0.0, 1.0 / float(lit.min())  # at hi every lit channel is saturated
  for _ in range(50):
    g = 0.5 * (lo + hi)
    if float((np.minimum(image * np.float32(g), 1.0) @ weights).mean()) < target:
      lo = g
    else:
      hi = g
  return np.clip(image * np.float32(lo), 0.0, 1.0)


#: BT.709 luma weights (the paired baseline's, as in the data's published numbers).
LUMA_709 = (0.2126, 0.7152, 0.0722)


def to_uint8(image):
  return (np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------- exposure


def parse_exposure(text):
  """A CLI exposure setting: a number, under/over/auto/adaptive, or a map file path."""
  if not isinstance(text, str):
    return text
  setting = exposure_settings.parse_setting(text)
  if isinstance(setting, exposure_settings.MapFile):
    return pathlib.Path(setting.path)
  return setting.name if isinstance(setting, exposure_settings.Named) else setting.value


def exposure_label(setting):
  if isinstance(setting, pathlib.Path):
    return setting.name
  if isinstance(setting, float):
    return f"{setting:g}"
  return str(setting)


def resolve_exposure(setting, image, rules=resolve_lib.DEFAULT_RULES):
  """The fed value a setting (or a requested map) resolves to for a float ``image``,
  with the rules (presets and calibration) of the student being evaluated."""
  return rules.resolve_image(setting, image)


def local_map(kind, height, width, low=0.3, high=0.7):
  """A two-region exposure map for local-control checks.

  kind: 'halves' (left ``low`` / right ``high``) or 'ellipse' (a centred ellipse
  with half-axes of 30% of each side at ``high``, ``low`` outside).
  Returns (map (H, W) float32, {region name: boolean mask}).
  """
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  if kind == "halves":
    inside = xx >= width / 2.0
    names = ("right", "left")
  elif kind == "ellipse":
    inside = ((yy - height / 2.0) / (0.3 * height)) ** 2 + ((xx - width / 2.0) / (0.3 * width)) ** 2 <= 1.0
    names = ("inside", "outside")
  else:
    raise EvaluationError(f"unknown local map {kind!r} (use 'halves' or 'ellipse')")
  emap = np.where(inside, high, low).astype(np.float32)
  return emap, {names[0]: inside, names[1]: ~inside}


LOCAL_MAPS = ("halves", "ellipse")


# --------------------------------------------------------------------------- student


def load_student_model(path=None):
  """The student as a :class:`cudi_jax.runtime.StudentRuntime` (``.enhance``,
  ``.resolve_exposure``, ``.rules``).

  path: None (the shipped weights) or an exported ``.npz`` (NumPy only, through
  :func:`cudi_jax.runtime.load_student`), or a training workdir (needs JAX: through
  :func:`cudi_jax.train.checkpoints.load_trained`, with the default exposure rules).
  """
  if path is not None and os.path.isdir(path):
    from cudi_jax.train import checkpoints  # JAX, only for workdirs.
    trained = checkpoints.load_trained(path, kind="student")
    flat = {k: np.asarray(v) for k, v in student_math.flatten_params(trained.params).items()}
    return runtime.StudentRuntime(flat, {"source": str(path), "step": trained.step})
  return runtime.load_student(path)


def student_function(model, color="natural"):
  """Model function ``(image, fed) -> clip(K * I + B, 0, 1)`` for a student runtime;
  ``color``: as for ``model.enhance`` ('network' compares the networks themselves, e.g.
  with a teacher)."""
  def fn(image, fed):
    return model.enhance(np.asarray(image, np.float32), fed, color=color)
  return fn
