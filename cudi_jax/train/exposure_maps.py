"""Training exposure maps (NumPy): the paper's random two-region maps, and
input-following maps like those ``auto`` gives the networks."""
import numpy as np

from cudi_jax.exposure import resolve
from cudi_jax.exposure import rules
from cudi_jax.exposure import values
from cudi_jax.exposure.presets import DEFAULT_PRESETS

#: The range the two regions' values are drawn from.
TRAIN_RANGE = (0.2, 0.8)
SHAPES = ("ellipse", "polygon", "blob", "half_plane", "rectangle")


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


def following_map(image, target, strength, gain_cap=DEFAULT_PRESETS.auto_gain_cap):
  """An input-following training map for a float (H, W, 3) patch: ``auto``'s map
  (:func:`cudi_jax.exposure.rules.auto_cells`) with the given target and strength, at
  full size: what the networks are given for ``auto``."""
  cells = resolve.ImageStats(image).cell_brightness()
  return values.full_map(values.CellMap(rules.auto_cells(cells, target, strength, gain_cap)),
                         image)
