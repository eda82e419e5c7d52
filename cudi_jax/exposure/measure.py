"""Measures an exposure calibration (:mod:`cudi_jax.exposure.calibration`) for a student
on photos; ``export.py --calibrate`` writes it into the export."""
import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import calibration
from cudi_jax.exposure import resolve
from cudi_jax.exposure import rules
from cudi_jax.exposure import values
from cudi_jax.exposure.settings import ExposureError

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


#: Cell-brightness bins of the per-cell response table: one below 0.0015, then 23
#: log-spaced up to 1.
CELL_EDGES = (0.0,) + tuple(float(x) for x in np.geomspace(0.0015, 1.0, 24))
#: The constant values fed while measuring the per-cell response.
CELL_FED = tuple(round(0.1 * i, 1) for i in range(11))
#: A bin enters the per-cell table when this many photos (or a quarter of them, if
#: fewer) have this many cells in it (or a sixteenth of their cells, if fewer).
CELL_MIN_PHOTOS, CELL_MIN_COUNT = 5, 16
#: The tables of a calibration: 'auto' and 'maps' (:func:`measure`), 'cells'
#: (:func:`measure_cells`).
TABLES = ("auto", "maps", "cells")


def measure_cells(model, images, fed=CELL_FED, edges=CELL_EDGES):
  """The per-cell response (:class:`~cudi_jax.exposure.calibration.CellResponse`) of
  ``model`` on float (H, W, 3) photos: each photo is enhanced with every constant in
  ``fed``; its 4x4 cells are binned by input brightness (``edges``), and each bin's
  entry is the median over photos of the photo's mean in that bin (input brightness
  and output brightness), so that no one photo's large flat region sets a bin. Bins
  with too few photos (:data:`CELL_MIN_PHOTOS`, or a quarter of the photos if fewer,
  with :data:`CELL_MIN_COUNT` cells each) are left out. Raises ExposureError when no
  valid table can be made (too few photos, or a network that does not respond to what
  it is fed)."""
  edges = np.asarray(edges, np.float64)
  n_bins = len(edges) - 1
  per_photo_b, per_photo_out = [], []
  for image in images:
    cells = resolve.ImageStats(image).cell_brightness().ravel()
    index = np.clip(np.searchsorted(edges, cells, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    valid = count >= min(CELL_MIN_COUNT, max(1, cells.size // 16))
    with np.errstate(invalid="ignore", divide="ignore"):
      b = np.where(valid, np.bincount(index, cells, n_bins) / count, np.nan)
      outs = []
      for value in fed:
        out = resolve.ImageStats(model.enhance(image, values.Constant(value))).cell_brightness()
        outs.append(np.where(valid, np.bincount(index, out.ravel(), n_bins) / count, np.nan))
    per_photo_b.append(b)
    per_photo_out.append(outs)
  b = np.asarray(per_photo_b)               # (photos, bins)
  out = np.asarray(per_photo_out)           # (photos, fed, bins)
  min_photos = min(CELL_MIN_PHOTOS, max(2, -(-len(images) // 4)))
  keep = np.flatnonzero(np.sum(~np.isnan(b), axis=0) >= min_photos)
  if len(keep) < 2:
    raise ExposureError("too few photos share cell brightnesses to measure the per-cell "
                        "response: calibrate on more photos, or on more varied ones")
  brightness = np.maximum(np.nanmedian(b[:, keep], axis=0), calibration.MIN_BRIGHTNESS)
  brightness = np.maximum.accumulate(brightness + np.arange(len(keep)) * 1e-7)
  output = np.clip(np.nanmedian(out[:, :, keep], axis=0), 0.0, 1.0)
  table = calibration.CellResponse(tuple(float(x) for x in brightness), tuple(fed),
                                   tuple(tuple(float(x) for x in row) for row in output))
  return calibration.CellResponse.from_metadata(table.to_metadata())  # validated


def measure(model, images, presets, bins=8, map_bins=4, points=calibration.MAP_POINTS,
            iterations=12, tables=("auto", "maps"), start=calibration.NO_CALIBRATION):
  """Measures a calibration for ``model`` (a StudentRuntime) on float (H, W, 3) photos.

  auto: for every photo, by bisection, the target of auto's map (with ``presets``'
  strength and gain cap) whose output has mean brightness ``presets.auto_target``;
  medians of ``bins`` equal-count bins by photo brightness. maps: per bin of
  ``map_bins``, for each requested value in ``points``, the constant whose outputs
  average it over the bin's photos. Only the tables named in ``tables`` (of 'auto' and
  'maps') are measured; the others, and the per-cell table (:func:`measure_cells`),
  are kept from ``start``."""
  def mean_out(image, fed):
    return float(model.enhance(image, fed).mean())

  def midpoint(fn, goal, lo, hi):
    lo, hi = imagemath.bisect_increasing(fn, goal, lo, hi, iterations)
    return 0.5 * (lo + hi)

  cells = [resolve.ImageStats(image).cell_brightness() for image in images]
  means = [float(c.mean(dtype=np.float64)) for c in cells]
  auto, maps = start.auto, start.maps
  if "auto" in tables:
    auto = _measure_auto(images, cells, means, presets, bins, mean_out, midpoint)
  if "maps" in tables:
    maps = _measure_maps(images, means, map_bins, points, mean_out, midpoint)
  return calibration.Calibration(auto, maps, start.measured_on, start.cells)


def _measure_auto(images, cells, means, presets, bins, mean_out, midpoint):
  targets = []
  for image, c in zip(images, cells):
    def brightness(t, image=image, c=c):
      return mean_out(image, values.CellMap(rules.auto_cells(
          c, t, presets.auto_strength, presets.auto_gain_cap)))
    targets.append(midpoint(brightness, presets.auto_target, 0.02, 0.98))
  auto_bins = _binned(means, bins)
  return calibration.Table(tuple(m for m, _ in auto_bins), (presets.auto_target,),
               tuple((float(np.median(np.asarray(targets)[chunk])),) for _, chunk in auto_bins))


def _measure_maps(images, means, map_bins, points, mean_out, midpoint):
  rows, row_means = [], []
  for m, chunk in _binned(means, map_bins):
    group = [images[i] for i in chunk]

    def brightness(value, group=group):
      return float(np.mean([mean_out(image, values.Constant(value)) for image in group]))

    fed = np.maximum.accumulate([midpoint(brightness, goal, 0.0, 1.0) for goal in points])
    row_means.append(m)
    rows.append(tuple(float(f) for f in fed))
  return calibration.Table(tuple(row_means), tuple(points), tuple(rows))
