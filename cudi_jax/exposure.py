"""Exposure maps E (NumPy only), shared by training and inference.

An exposure map is a float32 (H, W) array in [0, 1]: the target local mean
brightness of the output. Training draws random two-valued maps; inference uses
a constant, a preset, an automatic choice, the luminance-adaptive map, or any
user map.
"""
import dataclasses
import os
from typing import Optional

import numpy as np

from cudi_jax.errors import CudiError
from cudi_jax.student_math import LUMA  # noqa: F401  (re-exported: BT.601 luma weights)

#: Presets from the paper: 0.55 for under-exposed photos, 0.25 for over-exposed ones.
PRESETS = {"under": 0.55, "over": 0.25}
#: Strength A of the luminance-adaptive map.
ADAPTIVE_STRENGTH = 0.15
#: ``auto``, the input-following map: its mean target and how closely it follows the
#: photo's own brightness (1: a plain gain, 0: a constant map); see :func:`natural_cells`.
AUTO_TARGET = 0.5
AUTO_STRENGTH = 0.5
#: No cell of ``auto``'s map asks for more than this multiple of the photo's global
#: gain (target / mean brightness): black skies and shadows are not lifted into grey
#: noise. None: no cap.
AUTO_GAIN_CAP = 1.5
#: Its box blur radius, in 4x4 cells (0: each cell's own brightness, which gave the
#: fewest halos at strong edges), and the range its values are clipped to.
NATURAL_RADIUS = 0
NATURAL_RANGE = (0.02, 0.95)
#: The named settings every front end accepts.
NAMES = ("under", "over", "auto", "adaptive")
TRAIN_RANGE = (0.2, 0.8)
SHAPES = ("ellipse", "polygon", "blob", "half_plane", "rectangle")


class ExposureError(CudiError, ValueError):
  """An exposure value or map that cannot be used."""


def luminance(image):
  """BT.601 luma Y of an (H, W, 3) image in [0, 1] -> (H, W) float32.

  "Luminance" in this package always means this weighted sum; "brightness" is the
  plain RGB mean that the exposure loss and the exposure map E refer to.
  """
  image = np.asarray(image, np.float32)
  return image[..., 0] * LUMA[0] + image[..., 1] * LUMA[1] + image[..., 2] * LUMA[2]


# --------------------------------------------------------------------------- training


def _ellipse(rng, yy, xx, h, w):
  cy, cx = rng.uniform(0, h), rng.uniform(0, w)
  ry, rx = rng.uniform(0.1, 0.6) * h, rng.uniform(0.1, 0.6) * w
  t = rng.uniform(0, np.pi)
  dy, dx = yy - cy, xx - cx
  u = dx * np.cos(t) + dy * np.sin(t)
  v = -dx * np.sin(t) + dy * np.cos(t)
  return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def _polygon(rng, yy, xx, h, w):
  """A star-shaped random polygon around a random centre (even-odd point test)."""
  n = int(rng.integers(3, 9))
  cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
  angles = np.sort(rng.uniform(0, 2 * np.pi, n))
  radii = rng.uniform(0.15, 0.6, n) * min(h, w)
  py, px = cy + radii * np.sin(angles), cx + radii * np.cos(angles)
  inside = np.zeros(yy.shape, bool)
  for i in range(n):
    y0, x0, y1, x1 = py[i], px[i], py[i - 1], px[i - 1]
    crosses = (y0 > yy) != (y1 > yy)
    with np.errstate(divide="ignore", invalid="ignore"):
      x_at = (x1 - x0) * (yy - y0) / (y1 - y0) + x0
    inside ^= crosses & (xx < x_at)
  return inside


def _blob(rng, yy, xx, h, w):
  """Threshold of a smooth random field (a few random Gaussian bumps)."""
  field = np.zeros(yy.shape, np.float64)
  for _ in range(int(rng.integers(2, 6))):
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    s = rng.uniform(0.08, 0.3) * max(h, w)
    field += rng.choice([-1.0, 1.0]) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
  return field > np.quantile(field, rng.uniform(0.3, 0.8))


def _half_plane(rng, yy, xx, h, w):
  t = rng.uniform(0, 2 * np.pi)
  cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
  return (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t) > 0


def _rectangle(rng, yy, xx, h, w):
  sh, sw = rng.uniform(0.2, 0.7) * h, rng.uniform(0.2, 0.7) * w
  y0, x0 = rng.uniform(0, h - sh), rng.uniform(0, w - sw)
  return (yy >= y0) & (yy < y0 + sh) & (xx >= x0) & (xx < x0 + sw)


_SHAPE_FNS = {"ellipse": _ellipse, "polygon": _polygon, "blob": _blob,
              "half_plane": _half_plane, "rectangle": _rectangle}


def random_region(rng, height, width, shape=None):
  """A boolean (H, W) mask of a random region of the given (or a random) shape."""
  shape = shape or SHAPES[int(rng.integers(len(SHAPES)))]
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  return _SHAPE_FNS[shape](rng, yy, xx, height, width)


def training_map(rng, height, width, value_range=TRAIN_RANGE, shapes=SHAPES):
  """A training exposure map: one random region and its complement, each with its own
  value drawn uniformly from ``value_range`` (the paper's scheme).

  rng: a ``numpy.random.Generator`` (or an int seed). Returns float32 (H, W).
  """
  rng = np.random.default_rng(rng)
  lo, hi = value_range
  inside, outside = rng.uniform(lo, hi, 2)
  shape = shapes[int(rng.integers(len(shapes)))]
  mask = random_region(rng, height, width, shape)
  return np.where(mask, inside, outside).astype(np.float32)


def following_map(image, target, strength):
  """An input-following training map for a float (H, W, 3) patch: ``auto``'s map
  (:func:`natural_cells`) with the given target and strength, at full size."""
  h, w = image.shape[:2]
  stats = ImageStats(image)
  return materialize(("cells", natural_cells(stats.cell_brightness(), target, strength)),
                     h, w, stats)


# --------------------------------------------------------------------------- inference


@dataclasses.dataclass(frozen=True)
class Presets:
  """What the named settings mean for one set of weights (an export records its own).

  under / over: constant targets; adaptive_base / adaptive_strength: S and A of the
  luminance-adaptive map; auto_target / auto_strength: the mean target and the
  strength of ``auto``'s input-following map (:func:`natural_cells`), whose target
  may be calibrated by the photo's mean brightness (auto_means -> auto_targets).
  """
  under: float = PRESETS["under"]
  over: float = PRESETS["over"]
  adaptive_base: float = PRESETS["under"]
  adaptive_strength: float = ADAPTIVE_STRENGTH
  auto_target: float = AUTO_TARGET
  auto_strength: float = AUTO_STRENGTH
  #: see :data:`AUTO_GAIN_CAP`; None: no cap (exports calibrated before the cap existed).
  auto_gain_cap: Optional[float] = AUTO_GAIN_CAP
  #: Optional calibration of auto's target by the photo's mean brightness: increasing
  #: mean brightnesses and the targets that bring such photos to an output brightness
  #: of ``auto_target`` with these weights (tools/calibrate_auto.py); empty: none.
  auto_means: tuple = ()
  auto_targets: tuple = ()
  #: Optional response calibration of every other map, by photo brightness: for
  #: photos of mean brightness ``response_means[i]``, feeding ``response_fed[i][j]``
  #: gives outputs of mean brightness ``response_requested[j]`` (measured by
  #: tools/calibrate_exposure.py); empty: maps are fed as given.
  response_means: tuple = ()
  response_requested: tuple = ()
  response_fed: tuple = ()

  def auto_target_for(self, mean_brightness):
    """The target of ``auto``'s map for a photo of this mean RGB brightness."""
    if not self.auto_means:
      return self.auto_target
    x = np.log(max(float(mean_brightness), 1e-4))
    return float(np.interp(x, np.log(np.maximum(self.auto_means, 1e-4)), self.auto_targets))

  def feed(self, values, mean_brightness):
    """The values to give the network for requested exposure values (array or scalar)
    on a photo of this mean RGB brightness (interpolated in log brightness)."""
    if not self.response_means:
      return values
    x = np.log(max(float(mean_brightness), 1e-4))
    xs = np.log(np.maximum(self.response_means, 1e-4))
    curve = [np.interp(x, xs, [row[j] for row in self.response_fed])
             for j in range(len(self.response_requested))]
    fed = np.interp(values, self.response_requested, curve)
    return fed.astype(np.float32) if isinstance(fed, np.ndarray) else float(fed)

  @classmethod
  def from_metadata(cls, metadata):
    """The ``exposure_presets`` of export metadata; missing or invalid entries (not a
    number in [0, 1]) keep the defaults."""
    p = (metadata or {}).get("exposure_presets") or {}
    p = p if isinstance(p, dict) else {}
    adaptive = p.get("adaptive") if isinstance(p.get("adaptive"), dict) else {}
    default = cls()

    def num(value, fallback):
      try:
        value = float(value)
      except (TypeError, ValueError):
        return fallback
      return value if np.isfinite(value) and 0.0 <= value <= 1.0 else fallback

    auto = p.get("auto") if isinstance(p.get("auto"), dict) else {}
    means, targets = _calibration(auto.get("calibration"))
    if "gain_cap" in auto:
      cap = auto["gain_cap"]
      try:
        cap = None if cap is None else float(cap)
      except (TypeError, ValueError):
        cap = default.auto_gain_cap
      if cap is not None and not (np.isfinite(cap) and cap >= 1.0):
        cap = default.auto_gain_cap
    else:  # a calibration measured before the cap existed was measured without it
      cap = None if means else default.auto_gain_cap
    response = _response(p.get("response"))
    return cls(under=num(p.get("under"), default.under), over=num(p.get("over"), default.over),
               adaptive_base=num(adaptive.get("base"), default.adaptive_base),
               adaptive_strength=num(adaptive.get("strength"), default.adaptive_strength),
               auto_target=num(auto.get("target"), default.auto_target),
               auto_strength=num(auto.get("strength"), default.auto_strength),
               auto_gain_cap=cap, auto_means=means, auto_targets=targets,
               response_means=response[0], response_requested=response[1],
               response_fed=response[2])

  def to_metadata(self):
    """The ``exposure_presets`` entry written into exports."""
    return {"under": self.under, "over": self.over,
            "adaptive": {"base": self.adaptive_base, "strength": self.adaptive_strength},
            "auto": {"target": self.auto_target, "strength": self.auto_strength,
                     "gain_cap": self.auto_gain_cap,
                     "calibration": [[m, t] for m, t in zip(self.auto_means, self.auto_targets)]},
            "response": {"means": list(self.response_means),
                         "requested": list(self.response_requested),
                         "fed": [list(row) for row in self.response_fed]}}


def _response(entry):
  """(means, requested, fed) from the ``response`` metadata entry; anything malformed
  (not increasing means in (0, 1], increasing requested values in [0, 1], one row of
  fed values in [0, 1] per mean) gives no calibration."""
  try:
    means = tuple(float(m) for m in entry["means"])
    requested = tuple(float(r) for r in entry["requested"])
    fed = tuple(tuple(float(f) for f in row) for row in entry["fed"])
  except (TypeError, ValueError, KeyError, IndexError):
    return (), (), ()
  increasing = lambda xs: all(a < b for a, b in zip(xs, xs[1:]))  # noqa: E731
  ok = (len(means) >= 1 and len(requested) >= 2 and len(fed) == len(means)
        and all(0.0 < m <= 1.0 for m in means) and increasing(means)
        and all(0.0 <= r <= 1.0 for r in requested) and increasing(requested)
        and all(len(row) == len(requested) and all(0.0 <= f <= 1.0 for f in row)
                for row in fed))
  return (means, requested, fed) if ok else ((), (), ())


def _calibration(rows, lowest=1e-9):
  """((x...), (y...)) from [[x, y], ...] metadata; anything but increasing x in
  [lowest, 1] with y in [0, 1] gives no calibration."""
  try:
    xs = tuple(float(r[0]) for r in rows)
    ys = tuple(float(r[1]) for r in rows)
  except (TypeError, ValueError, IndexError):
    return (), ()
  ok = (len(xs) >= 2 and all(lowest <= x <= 1.0 for x in xs)
        and all(0.0 <= y <= 1.0 for y in ys)
        and all(a < b for a, b in zip(xs, xs[1:])))
  return (xs, ys) if ok else ((), ())


DEFAULT_PRESETS = Presets()


class ImageStats:
  """Lazily computed luminance statistics of one float (H, W, 3) image; the runtime
  supplies its own banded, multi-threaded equivalent with the same three methods."""

  def __init__(self, image):
    self.image = image
    self._y = None

  def luminance(self):
    if self._y is None:
      self._y = luminance(self.image)
    return self._y

  def luminance_range(self):
    y = self.luminance()
    return float(y.min()), float(y.max())

  def cell_brightness(self):
    """Mean RGB brightness of each 4x4 cell (edge-padded as the student pads):
    (ceil(H/4), ceil(W/4)) float32."""
    from cudi_jax import student_math  # NumPy-only; imported here as it imports nothing back.
    x = np.asarray(self.image, np.float32)
    return student_math.downsample4(x, np).mean(axis=-1).astype(np.float32)


def resolve(exposure, height, width, stats, presets=DEFAULT_PRESETS):
  """The one rule that turns a user exposure setting into a map description.

  exposure: a number in [0, 1]; 'under', 'over', 'auto' or 'adaptive'; an (H', W')
  array; or the path of an image file (str or ``os.PathLike``). stats: an object with
  ``cell_brightness()``, ``luminance_range()`` and ``luminance()`` of the photo (see
  :class:`ImageStats`), asked only for what the setting needs. presets: the
  :class:`Presets` of the weights in use.

  Every map but auto's goes through the presets' response calibration (if any):
  ``presets.feed`` turns requested brightness into the value the network is given.

  Returns ('const', value), ('map', (H, W) float32), ('luma', a, b), meaning
  E = a - b * Y with Y the BT.601 luminance (the adaptive map when no clipping is
  needed: the runtime then forms it at quarter resolution), or ('cells', (h, w)
  float32), a map given per 4x4 cell (h, w = ceil(H/4), ceil(W/4)): E is constant
  over each cell, which is all the student sees of a map (its 4x4 means).
  """
  spec = _resolve(exposure, height, width, stats, presets)
  if not presets.response_means or spec[0] == "cells":
    return spec  # auto's map is calibrated by its own target
  if spec[0] == "luma":
    spec = ("map", materialize(spec, height, width, stats))
  brightness = stats.cell_brightness().mean(dtype=np.float64)
  return (spec[0], presets.feed(spec[1], brightness))


def _resolve(exposure, height, width, stats, presets):
  kind, value = parse_setting(exposure)
  if kind == "name":
    if value == "auto":
      cells = stats.cell_brightness()
      target = presets.auto_target_for(cells.mean(dtype=np.float64))
      return ("cells", natural_cells(cells, target, presets.auto_strength,
                                     gain_cap=presets.auto_gain_cap))
    if value == "adaptive":
      return _adaptive(stats, presets.adaptive_base, presets.adaptive_strength)
    return ("const", float(getattr(presets, value)))
  if kind == "value":
    return ("const", value)
  if kind == "file":
    return ("map", map_from_file(value, height, width))
  return ("map", map_from_array(value, height, width))


def _adaptive(stats, base, strength):
  """E = S + A * Norm(mean(Y) - Y), Norm min-max to [-1, 1]
  = (S - A + 2A * Ymax / span) - (2A / span) * Y; a flat image gives E = S."""
  lo, hi = stats.luminance_range()
  span = hi - lo
  if not span > 0:
    return ("const", float(np.clip(base, 0.0, 1.0)))
  a, b = base - strength + 2.0 * strength * hi / span, 2.0 * strength / span
  if base - strength >= 0.0 and base + strength <= 1.0:
    return ("luma", a, b)
  e = np.clip(np.float32(a) - np.float32(b) * stats.luminance(), 0.0, 1.0)
  return ("map", e.astype(np.float32))


def box_blur(x, radius):
  """Mean over the (2r+1) x (2r+1) window of a 2-D array, borders edge-replicated."""
  if radius <= 0:
    return np.asarray(x, np.float32)
  x = np.pad(np.asarray(x, np.float64), radius, mode="edge")
  n = 2 * radius + 1
  for axis in (0, 1):
    c = np.cumsum(x, axis=axis)
    c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
    hi = np.take(c, np.arange(n, c.shape[axis]), axis=axis)
    lo = np.take(c, np.arange(0, c.shape[axis] - n), axis=axis)
    x = (hi - lo) / n
  return x.astype(np.float32)


def natural_cells(cells, target=AUTO_TARGET, strength=AUTO_STRENGTH,
                  radius=NATURAL_RADIUS, value_range=NATURAL_RANGE, gain_cap=AUTO_GAIN_CAP):
  """The input-following map of ``auto``, per 4x4 cell:
  E = min(target * r^s, gain_cap * target * r), r = b / mean b, b the cells'
  brightness box-blurred over ``radius`` cells; clipped to ``value_range``.

  With s = 1 every region is asked for its own brightness times one global gain (a
  plain gain: the photo's contrast is kept); with s = 0 for the same brightness
  everywhere (a constant map, which flattens contrast); in between, dark regions get
  somewhat more gain than bright ones, but never more than ``gain_cap`` times the
  global gain target / mean b (None: no cap), so that near-black regions are not
  lifted into a grey veil of amplified noise. cells: (h, w) brightness in [0, 1].
  """
  b = box_blur(cells, radius).astype(np.float64) + 1e-4
  r = b / b.mean()
  e = target * r ** strength
  if gain_cap is not None:
    e = np.minimum(e, gain_cap * target * r)
  return np.clip(e, *value_range).astype(np.float32)


def materialize(spec, height, width, stats):
  """An (H, W) float32 map from a :func:`resolve` result."""
  if spec[0] == "const":
    return np.full((height, width), spec[1], np.float32)
  if spec[0] == "map":
    return spec[1]
  if spec[0] == "cells":
    return np.repeat(np.repeat(spec[1], 4, axis=0), 4, axis=1)[:height, :width].copy()
  _, a, b = spec
  return (np.float32(a) - np.float32(b) * stats.luminance()).astype(np.float32)


def adaptive_map(image, strength=ADAPTIVE_STRENGTH, base=PRESETS["under"]):
  """Luminance-adaptive map E = S + A * Norm(mean(Y) - Y), Norm min-max to [-1, 1],
  clipped to [0, 1]: darker regions get a higher target than brighter ones."""
  h, w = image.shape[:2]
  stats = ImageStats(image)
  return materialize(_adaptive(stats, base, strength), h, w, stats)


def constant_map(value, height, width):
  value = check_value(value)
  return np.full((height, width), value, np.float32)


def check_value(value):
  try:
    value = float(value)
  except (TypeError, ValueError):
    raise ExposureError(f"exposure must be a number in [0, 1] or one of "
                        f"{sorted(PRESETS) + ['auto', 'adaptive']}, got {value!r}") from None
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
  photos are read (:func:`cudi_jax.io.decode.read_image`: EXIF orientation applied,
  16-bit kept). An alpha channel is dropped; a colour map becomes its BT.601
  luminance (float32 in [0, 1]); grayscale stays uint8 / uint16 / float32 for
  :func:`map_from_array`. Raises ExposureError if the file cannot be read."""
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
    array = np.clip(luminance(x), 0.0, 1.0)
  elif array.ndim == 3:
    array = array[..., 0]
  return array


def map_from_file(path, height, width):
  """An image file as an (height, width) exposure map: :func:`read_map_file`, then
  :func:`map_from_array` (scaled to [0, 1], resized bilinearly if needed)."""
  return map_from_array(read_map_file(path), height, width)


def parse_setting(exposure):
  """Classifies a user exposure setting without looking at any photo.

  Returns ('name', one of NAMES), ('value', float in [0, 1]), ('file', path) or
  ('array', ndarray). Strings are a name, a number, or the path of an existing
  file; anything else raises ExposureError.
  """
  if isinstance(exposure, (bool, np.bool_)):
    raise ExposureError(f"exposure must be a number, a name or a map, got {exposure!r}")
  if isinstance(exposure, str):
    key = exposure.strip().lower()
    if key in NAMES:
      return "name", key
    try:
      value = float(key)
    except ValueError:
      if os.path.isfile(exposure):
        return "file", exposure
      raise ExposureError(f"exposure must be a number in [0, 1], one of {', '.join(NAMES)}, "
                          f"or a map file; got {exposure!r}") from None
    return "value", check_value(value)
  if hasattr(exposure, "__fspath__"):
    return "file", exposure
  if np.ndim(exposure) == 0:
    return "value", check_value(exposure)
  return "array", np.asarray(exposure)


def inference_map(exposure, image, presets=DEFAULT_PRESETS):
  """Any user exposure setting as an (H, W) float32 map for a float (H, W, 3) image
  in [0, 1] (:func:`resolve`, then :func:`materialize`)."""
  h, w = image.shape[:2]
  stats = ImageStats(image)
  return materialize(resolve(exposure, h, w, stats, presets), h, w, stats)
