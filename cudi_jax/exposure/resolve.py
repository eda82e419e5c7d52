"""The one place where a user exposure setting becomes what the network is given.

:class:`ExposureRules` holds what one set of weights says about exposure (its
:class:`~cudi_jax.exposure.presets.Presets` and
:class:`~cudi_jax.exposure.calibration.Calibration`, both from the export's metadata);
:meth:`ExposureRules.resolve` turns any setting into a fed value
(:mod:`cudi_jax.exposure.values`). A fed value passed in is returned unchanged: it is
already what the network is to be given.
"""
import dataclasses

import numpy as np

from cudi_jax import imagemath
from cudi_jax import student_math
from cudi_jax.exposure import calibration as calibration_lib
from cudi_jax.exposure import presets as presets_lib
from cudi_jax.exposure import rules
from cudi_jax.exposure import settings
from cudi_jax.exposure import values


#: Cells darker than this (mean brightness) measure a photo's noise.
DARK_CELL = 0.01
#: With fewer dark cells than this a photo's noise is taken as 0 (nothing to lift).
MIN_DARK_CELLS = 64
#: A photo's noise is measured on rows of cells holding about this many cells at most.
NOISE_CELLS = 16384


def noise_rows(dark):
  """The rows of cells :meth:`ImageStats.dark_noise` reads, given the whole cells'
  darkness (bool (h, w)): of the rows that hold a dark cell, evenly spaced ones
  holding at most about :data:`NOISE_CELLS` cells; None when the photo has fewer
  than :data:`MIN_DARK_CELLS` dark cells."""
  if int(dark.sum()) < MIN_DARK_CELLS:
    return None
  rows = np.flatnonzero(dark.any(axis=1))
  return rows[::max(1, -(-len(rows) * dark.shape[1] // NOISE_CELLS))]


class ImageStats:
  """Lazily computed statistics of one float (H, W, 3) image in [0, 1], each computed
  once. The runtime has a banded, multi-threaded equivalent with the same methods."""

  def __init__(self, image):
    self.image = np.asarray(image, np.float32)
    self._luma = None
    self._cells = None

  def luma(self):
    """BT.601 luma, (H, W) float32."""
    if self._luma is None:
      self._luma = imagemath.luma(self.image)
    return self._luma

  def luma_range(self):
    y = self.luma()
    return float(y.min()), float(y.max())

  def cell_brightness(self):
    """Mean RGB brightness of each 4x4 cell (edge-padded as the student pads):
    (ceil(H/4), ceil(W/4)) float32."""
    if self._cells is None:
      self._cells = student_math.downsample4(self.image, np).mean(axis=-1).astype(np.float32)
    return self._cells

  def cell_luma(self):
    """Mean BT.601 luma of each 4x4 cell (edge-padded): (ceil(H/4), ceil(W/4)) float32."""
    return imagemath.luma(student_math.downsample4(self.image, np))

  def dark_noise(self):
    """The photo's noise in its dark regions: the median, over the whole 4x4 cells
    darker than :data:`DARK_CELL`, of the standard deviation of the brightness (mean
    RGB) of the cell's 16 pixels; 0 with fewer than :data:`MIN_DARK_CELLS` such cells.
    Near-black cells hold little texture, so this is mostly sensor noise and
    compression noise (0 for clean or flattened shadows). Measured on evenly spaced
    rows of cells (:func:`noise_rows`)."""
    hq, wq = self.image.shape[0] // 4, self.image.shape[1] // 4
    dark = self.cell_brightness()[:hq, :wq] < DARK_CELL
    rows = noise_rows(dark)
    if rows is None:
      return 0.0
    g = self.image[4 * rows[:, None] + np.arange(4), :4 * wq].astype(np.float64).mean(axis=-1)
    blocks = g.reshape(len(rows), 4, wq, 4)
    mean = blocks.mean(axis=(1, 3))
    std = np.sqrt(np.maximum((blocks ** 2).mean(axis=(1, 3)) - mean ** 2, 0.0))
    return float(np.median(std[dark[rows]]))


@dataclasses.dataclass(frozen=True)
class ExposureRules:
  presets: presets_lib.Presets = presets_lib.DEFAULT_PRESETS
  calibration: calibration_lib.Calibration = calibration_lib.NO_CALIBRATION

  @classmethod
  def from_metadata(cls, metadata):
    """An export's rules; raises :class:`~cudi_jax.exposure.settings.ExposureError` when
    its presets or calibration are malformed."""
    return cls(presets_lib.Presets.from_metadata(metadata),
               calibration_lib.Calibration.from_metadata(metadata))

  def resolve(self, exposure, height, width, stats):
    """A setting (anything :func:`~cudi_jax.exposure.settings.parse_setting` takes) or a
    fed value -> the fed value for an (height, width) photo whose statistics ``stats``
    gives (:class:`ImageStats` or the runtime's; asked only for what is needed).

    ``auto`` follows the photo (:meth:`auto`); every other setting is a requested map,
    put through the calibration's ``maps`` table.
    Maps are reduced to the network's 4x4 cells first (a map of the photo's size
    exactly, any other size resized straight to the cell grid), so a map costs memory
    in proportion to a quarter of the photo's side, not to the photo."""
    if values.is_fed(exposure):
      return exposure
    setting = settings.parse_setting(exposure)
    presets = self.presets
    if isinstance(setting, settings.Named) and setting.name == "auto":
      return self.auto(stats)
    if isinstance(setting, settings.Named) and setting.name == "adaptive":
      requested = rules.adaptive(stats.luma_range(), stats.cell_luma, presets.adaptive_base,
                                 presets.adaptive_strength)
    elif isinstance(setting, settings.Named):
      requested = values.Constant(presets.target(setting.name))
    elif isinstance(setting, settings.Value):
      requested = values.Constant(setting.value)
    elif isinstance(setting, settings.MapFile):
      requested = values.CellMap(settings.map_cells(settings.read_map_file(setting.path),
                                                    height, width))
    else:
      requested = values.CellMap(settings.map_cells(setting.array, height, width))
    return self._feed(requested, stats)

  def auto(self, stats):
    """``auto``'s per-cell map: the balanced rule for dark and ordinary photos (when the
    calibration has a per-cell response table), the steady rule for bright ones, and a
    blend between (:func:`~cudi_jax.exposure.rules.auto_blend`). It comes
    :class:`~cudi_jax.exposure.values.Tempered` for over-exposed photos
    (:meth:`tempering`) and, in noisy photos, with the balanced rule's near-black
    requests as ceilings (:func:`~cudi_jax.exposure.rules.night_ceiling`)."""
    cells = stats.cell_brightness()
    mean = cells.mean(dtype=np.float64)
    fed, ceiling = self.auto_map(cells, stats.dark_noise, mean)
    fed = values.CellMap(fed)
    steps = self.auto_steps(cells, mean, ceiling)
    return fed if steps is None else values.Tempered(fed, *steps)

  def auto_map(self, cells, noise, mean, target=None, steady_mean=None):
    """``auto``'s per-cell map before tempering: (fed values, float32 like ``cells``;
    the night ceiling or None). cells: the cells' brightness; noise: the photo's dark
    noise, or a callable giving it (asked for only when the balanced rule takes part);
    mean: the brightness that picks the rule (:func:`~cudi_jax.exposure.rules.auto_blend`)
    and the steady rule's calibrated target; target: that target instead (video: the
    calibration looked up at a held brightness); steady_mean: what the steady rule
    measures the cells against (default: their own mean; video: a smoothed one)."""
    presets = self.presets
    share = 1.0 if self.calibration.cells is None else rules.auto_blend(mean,
                                                                       presets.auto_bright)
    ceiling = None
    if share > 0.0:
      if target is None:
        target = self.calibration.auto_target(presets.auto_target, mean)
      fed = rules.auto_cells(cells, target, presets.auto_strength, presets.auto_gain_cap,
                             mean=steady_mean)
    if share < 1.0:
      noise = noise() if callable(noise) else noise
      requested = rules.balanced_requests(
          cells, noise, goal=presets.auto_target, compression=presets.auto_compression,
          toe=presets.auto_toe, noise_limit=presets.auto_noise_limit)
      balanced = self.calibration.cells.feed(requested, cells)
      ceiling = rules.night_ceiling(cells, requested, noise, presets.auto_night,
                                    presets.auto_night_noise)
      fed = balanced if share <= 0.0 else ((1.0 - share) * balanced + share * fed).astype(
          np.float32)
    return fed, ceiling

  def auto_steps(self, cells, mean, ceiling):
    """``auto``'s steps after the network for a photo of these cell brightnesses,
    judged at brightness ``mean``, with :meth:`auto_map`'s night ``ceiling``: (per-cell
    weights or None, gain, ceiling or None) for
    :class:`~cudi_jax.exposure.values.Tempered`, or None when there are none."""
    tempering = self.tempering(cells, mean)
    if tempering is None and ceiling is None:
      return None
    weights, gain = tempering if tempering is not None else (None, 1.0)
    return weights, gain, ceiling

  def tempering(self, cells, mean=None):
    """How ``auto`` tempers a photo of these cell brightnesses: (per-cell weights,
    gain) for :class:`~cudi_jax.exposure.values.Tempered`, or None (not over-exposed).
    mean: the photo brightness to judge by (default the cells' mean; video passes a
    smoothed one)."""
    p = self.presets
    mean = float(cells.mean(dtype=np.float64)) if mean is None else float(mean)
    weights = rules.temper_weights(cells, mean, p.auto_temper, p.auto_temper_photos,
                                   p.auto_temper_keep)
    if weights is None:
      return None
    return weights, rules.tempering_gain(mean, p.auto_target)

  def _feed(self, requested, stats):
    """A requested value through the maps calibration, per 4x4 cell (what the network
    sees of any map)."""
    if self.calibration.maps is None:
      return requested
    brightness = stats.cell_brightness().mean(dtype=np.float64)
    if isinstance(requested, values.Constant):
      return values.Constant(self.calibration.feed(requested.value, brightness))
    if isinstance(requested, values.LumaLinear):
      requested = values.CellMap(rules.luma_linear_cells(requested, stats.cell_luma()))
    return values.CellMap(self.calibration.feed(requested.cells, brightness))

  def resolve_image(self, exposure, image):
    """:meth:`resolve` for a float (H, W, 3) image, with :class:`ImageStats`."""
    return self.resolve(exposure, image.shape[0], image.shape[1], ImageStats(image))


DEFAULT_RULES = ExposureRules()
