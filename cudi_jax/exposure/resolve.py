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

    ``auto`` follows the photo (its target calibrated by photo brightness); every
    other setting is a requested map, put through the calibration's ``maps`` table.
    Maps are reduced to the network's 4x4 cells first (a map of the photo's size
    exactly, any other size resized straight to the cell grid), so a map costs memory
    in proportion to a quarter of the photo's side, not to the photo."""
    if values.is_fed(exposure):
      return exposure
    setting = settings.parse_setting(exposure)
    presets = self.presets
    if isinstance(setting, settings.Named) and setting.name == "auto":
      cells = stats.cell_brightness()
      target = self.calibration.auto_target(presets.auto_target, cells.mean(dtype=np.float64))
      return values.CellMap(rules.auto_cells(cells, target, presets.auto_strength,
                                             presets.auto_gain_cap))
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
