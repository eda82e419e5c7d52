"""The soft round brush: a stroke is a polyline swept by a disc whose weight falls
from 1 (inside ``hardness`` of the radius) to 0 (at the radius) along a smoothstep.

The weight of a pixel is that of its distance to the polyline, so a stroke has no
beads whatever the spacing of its points, and going over the same place twice within
one stroke does not add up (as a painting program's brush opacity). Coordinates are
in pixels of the map, x to the right and y down; pixel (i, j) has its centre at
(x, y) = (j + 0.5, i + 0.5).
"""
import numpy as np

#: Brush modes: raise the requested exposure, lower it, or take the painting back.
MODES = ("brighten", "darken", "erase")
#: The change of exposure under the brush centre at strength 1 (the map is in [0, 1]).
MAX_STEP = 0.5


def falloff(distance, hardness):
  """Weight in [0, 1] for distances in units of the radius: 1 up to ``hardness``,
  a smoothstep down to 0 at 1."""
  h = min(max(float(hardness), 0.0), 0.999)
  t = np.clip((np.asarray(distance, np.float32) - np.float32(h)) / np.float32(1.0 - h),
              0.0, 1.0)
  return (1.0 - t * t * (3.0 - 2.0 * t)).astype(np.float32)


class Stroke:
  """A stroke being painted on an (H, W) map: its weight ``mask`` (H, W) float32 and
  the box (y0, y1, x0, x1) it touches (None while empty)."""

  def __init__(self, shape, radius, hardness, strength, mode):
    if mode not in MODES:
      raise ValueError(f"brush mode must be one of {', '.join(MODES)}, got {mode!r}")
    self.shape = tuple(shape)
    self.radius = float(radius)
    self.hardness = float(hardness)
    self.strength = float(strength)
    self.mode = mode
    self.mask = np.zeros(self.shape, np.float32)
    self.box = None
    self.last = None

  def extend(self, points):
    """Adds points (an iterable of (x, y)) to the polyline."""
    for x, y in points:
      p = (float(x), float(y))
      self._segment(self.last if self.last is not None else p, p)
      self.last = p

  def _segment(self, a, b):
    h, w = self.shape
    r = self.radius
    x0 = max(0, int(np.floor(min(a[0], b[0]) - r)))
    x1 = min(w, int(np.ceil(max(a[0], b[0]) + r)) + 1)
    y0 = max(0, int(np.floor(min(a[1], b[1]) - r)))
    y1 = min(h, int(np.ceil(max(a[1], b[1]) + r)) + 1)
    if x0 >= x1 or y0 >= y1:
      return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + np.float32(0.5 - a[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] + np.float32(0.5 - a[1])
    dx, dy = np.float32(b[0] - a[0]), np.float32(b[1] - a[1])
    length2 = float(dx * dx + dy * dy)
    if length2 > 0.0:
      t = np.clip((xs * dx + ys * dy) / np.float32(length2), 0.0, 1.0)
      px, py = xs - t * dx, ys - t * dy
    else:
      px, py = xs, ys
    distance = np.sqrt(px * px + py * py) / np.float32(r)
    region = self.mask[y0:y1, x0:x1]
    np.maximum(region, falloff(distance, self.hardness), out=region)
    if self.box is None:
      self.box = (y0, y1, x0, x1)
    else:
      by0, by1, bx0, bx1 = self.box
      self.box = (min(by0, y0), max(by1, y1), min(bx0, x0), max(bx1, x1))

  def apply(self, offset, base):
    """The painted offset inside :attr:`box` after this stroke, for the offset and base
    maps of that box (views or copies): brighten and darken move the requested map
    base + offset by up to ``strength * MAX_STEP`` (kept within [0, 1]); erase takes
    the offset back towards 0 by ``strength``."""
    y0, y1, x0, x1 = self.box
    weight = self.mask[y0:y1, x0:x1] * np.float32(self.strength)
    if self.mode == "erase":
      return (offset * (1.0 - weight)).astype(np.float32)
    step = weight * np.float32(MAX_STEP if self.mode == "brighten" else -MAX_STEP)
    # Kept so that base + offset stays in [0, 1], but never pulled back beyond its
    # own value: a stroke only moves the map the way it paints.
    target = np.clip(base + offset + step, 0.0, 1.0) - base
    if self.mode == "brighten":
      return np.maximum(target, offset).astype(np.float32)
    return np.minimum(target, offset).astype(np.float32)
