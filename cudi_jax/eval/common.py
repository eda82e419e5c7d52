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

from cudi_jax import imagemath
from cudi_jax import progress
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.io import decode, listing
from cudi_jax.io.errors import ImageIOError
from cudi_jax.runtime import api as runtime


class EvaluationError(CudiError, ValueError):
  """Evaluation inputs that cannot be used (missing files, mismatched pairs)."""


class UnreadableImage(EvaluationError):
  """A photo that cannot be read (the message names the file)."""


#: The constant exposure targets scored by ``cudi evaluate exposure`` and drawn in the
#: sweep strip of ``cudi report``: 0.2, 0.3, ..., 0.8.
DEFAULT_TARGETS = tuple(round(0.2 + 0.1 * i, 1) for i in range(7))


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
  alpha is dropped and grayscale replicated to RGB. Raises :class:`UnreadableImage`
  (naming the file) if it cannot be read."""
  try:
    arr = decode.rgb_channels(decode.read_image(path).array)
  except ImageIOError as err:
    raise UnreadableImage(f"{path}: {err}") from None
  if arr.dtype == np.uint8 or arr.dtype == np.uint16:
    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
  return np.clip(np.asarray(arr, np.float32), 0.0, 1.0)


def load_image(path, max_size=None):
  """:func:`read_float_image` then :func:`resize_image` to fit ``max_size``."""
  return resize_image(read_float_image(path), max_size)


def load_photo(name, src, max_size=None, on_error=None):
  """A photo for the evaluation modes: ``src`` a path (:func:`load_image`) or a float
  array (used as it is). A file that cannot be read goes to ``on_error(name,
  error)`` and None is returned (the photo is skipped); without ``on_error`` the
  error is raised."""
  if isinstance(src, np.ndarray):
    return src
  try:
    return load_image(src, max_size)
  except EvaluationError as err:
    skip_or_raise(on_error, name, err)
    return None


def loaded_photos(images, desc, progress=True, max_size=None, on_error=None):
  """Yields (name, float image) for each (name, src) of ``images`` under a progress
  bar, loaded by :func:`load_photo`; photos that cannot be read are skipped (after
  ``on_error``) or raise."""
  for name, src in progress_bar(images, desc, progress):
    image = load_photo(name, src, max_size, on_error)
    if image is not None:
      yield name, image


def skip_or_raise(on_error, source, err):
  """Calls ``on_error(source, err)`` for an input that cannot be used, or raises
  ``err`` when there is no handler."""
  if on_error is None:
    raise err
  on_error(source, err)


def progress_bar(iterable, desc, enabled=True, total=None):
  """A bar on stderr when ``enabled`` (decided by :func:`cudi_jax.progress.enabled`:
  only on a terminal, never with --quiet or --no-progress)."""
  return progress.wrap(iterable, desc, unit="img", enabled=enabled, total=total)


def global_gain(image, target=0.5):
  """The baseline to beat on paired photos: one gain for the whole photo, chosen (by
  bisection) so that the clipped result ``clip(g * image, 0, 1)`` has mean BT.709
  luminance ``target``."""
  image = np.asarray(image, np.float32)
  weights = np.array(imagemath.LUMA_BT709, np.float32)
  lit = image[image > 0]
  if lit.size == 0:
    return image.copy()

  def mean_luma(gain):
    return float((np.minimum(image * np.float32(gain), 1.0) @ weights).mean())

  # At the upper end every lit channel is saturated.
  lo, _ = imagemath.bisect_increasing(mean_luma, target, 0.0, 1.0 / float(lit.min()), 50)
  return np.clip(image * np.float32(lo), 0.0, 1.0)


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
