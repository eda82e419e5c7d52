"""Measures an exposure calibration (:mod:`cudi_jax.exposure.calibration`) for a student
on photos; ``export.py --calibrate`` writes it into the export."""
import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import calibration
from cudi_jax.exposure import resolve
from cudi_jax.exposure import rules
from cudi_jax.exposure import values

def _binned(means, bins):
  """[(median photo brightness, indices)] of equal-count bins by brightness, skipping a
  bin whose median does not exceed the previous one's."""
  out = []
  for chunk in imagemath.equal_count_bins(means, bins):
    m = float(np.median(np.asarray(means)[chunk]))
    if out and m <= out[-1][0]:
      continue
    out.append((m, chunk))
  return out


def measure(model, images, presets, bins=8, map_bins=4, points=calibration.MAP_POINTS,
            iterations=12):
  """Measures a calibration for ``model`` (a StudentRuntime) on float (H, W, 3) photos.

  auto: for every photo, by bisection, the target of auto's map (with ``presets``'
  strength and gain cap) whose output has mean brightness ``presets.auto_target``;
  medians of ``bins`` equal-count bins by photo brightness. maps: per bin of
  ``map_bins``, for each requested value in ``points``, the constant whose outputs
  average it over the bin's photos."""
  def mean_out(image, fed):
    return float(model.enhance(image, fed).mean())

  def midpoint(fn, goal, lo, hi):
    lo, hi = imagemath.bisect_increasing(fn, goal, lo, hi, iterations)
    return 0.5 * (lo + hi)

  cells = [resolve.ImageStats(image).cell_brightness() for image in images]
  means = [float(c.mean(dtype=np.float64)) for c in cells]
  targets = []
  for image, c in zip(images, cells):
    def brightness(t, image=image, c=c):
      return mean_out(image, values.CellMap(rules.auto_cells(
          c, t, presets.auto_strength, presets.auto_gain_cap)))
    targets.append(midpoint(brightness, presets.auto_target, 0.02, 0.98))
  auto_bins = _binned(means, bins)
  auto = calibration.Table(tuple(m for m, _ in auto_bins), (presets.auto_target,),
               tuple((float(np.median(np.asarray(targets)[chunk])),) for _, chunk in auto_bins))
  rows, row_means = [], []
  for m, chunk in _binned(means, map_bins):
    group = [images[i] for i in chunk]

    def brightness(value, group=group):
      return float(np.mean([mean_out(image, values.Constant(value)) for image in group]))

    fed = np.maximum.accumulate([midpoint(brightness, goal, 0.0, 1.0) for goal in points])
    row_means.append(m)
    rows.append(tuple(float(f) for f in fed))
  maps = calibration.Table(tuple(row_means), tuple(points), tuple(rows))
  return calibration.Calibration(auto, maps)
