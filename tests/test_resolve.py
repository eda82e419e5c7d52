"""The one resolver: every setting to the value the network is given."""
import numpy as np
import pytest

from cudi_jax.exposure import resolve, rules, values
from cudi_jax.exposure.calibration import Calibration, Table
from cudi_jax.exposure.presets import Presets
from cudi_jax.exposure.settings import ExposureError

MAPS = Table((0.1, 0.5), (0.0, 0.5, 1.0), ((0.0, 0.7, 1.0), (0.0, 0.4, 1.0)))
AUTO = Table((0.05, 0.5), (0.5,), ((0.7,), (0.45,)))


def resolved_map(setting, image, rules_=resolve.DEFAULT_RULES):
  return values.full_map(rules_.resolve_image(setting, image), image)


def test_constants_and_presets():
  img = np.full((5, 7, 3), 0.3, np.float32)
  r = resolve.DEFAULT_RULES
  assert r.resolve_image(0.3, img) == values.Constant(0.3)
  assert r.resolve_image("under", img) == values.Constant(0.55)
  assert r.resolve_image("over", img) == values.Constant(0.25)
  assert r.resolve_image("0.7", img) == values.Constant(0.7)
  with pytest.raises(ExposureError):
    r.resolve_image("bright", img)


def test_fed_values_pass_through_unchanged():
  img = np.full((8, 8, 3), 0.1, np.float32)
  calibrated = resolve.ExposureRules(calibration=Calibration(AUTO, MAPS))
  fed = values.Constant(0.5)
  assert calibrated.resolve_image(fed, img) is fed
  cells = values.CellMap(np.full((2, 2), 0.3, np.float32))
  assert calibrated.resolve_image(cells, img) is cells


def test_auto_is_the_uncalibrated_input_following_map_by_default():
  # Flat photos: the map is the target everywhere, whatever their brightness.
  for level in (0.1, 0.8):
    np.testing.assert_allclose(resolved_map("auto", np.full((8, 8, 3), level, np.float32)),
                               0.5, atol=1e-6)
  # Brightness is the RGB mean (what E and the exposure loss mean), not luma.
  green = np.zeros((8, 8, 3), np.float32)
  green[..., 1] = 0.9
  np.testing.assert_allclose(resolve.ImageStats(green).cell_brightness(), 0.3, atol=1e-6)


def test_auto_resolves_per_cell_with_the_presets_and_its_calibration():
  rng = np.random.default_rng(1)
  img = (rng.random((10, 13, 3)) * 0.3).astype(np.float32)
  fed = resolve.DEFAULT_RULES.resolve_image("auto", img)
  assert isinstance(fed, values.CellMap) and fed.cells.shape == (3, 4)
  np.testing.assert_array_equal(
      fed.cells, rules.auto_cells(resolve.ImageStats(img).cell_brightness(), 0.5, 0.5, 1.5))
  shadow = img.copy()
  shadow[:, :4] *= 0.05  # a near-black strip: the cap binds there
  capped = resolved_map("auto", shadow)
  uncapped = resolved_map("auto", shadow, resolve.ExposureRules(Presets(auto_gain_cap=None)))
  assert np.all(uncapped >= capped - 1e-7) and np.all(uncapped[:, :4] > capped[:, :4] + 1e-3)
  brighter = resolved_map("auto", img, resolve.ExposureRules(Presets(auto_target=0.6)))
  assert brighter.mean() > resolved_map("auto", img).mean()
  dark = np.full((8, 8, 3), 0.05, np.float32)
  calibrated = resolve.ExposureRules(calibration=Calibration(auto=AUTO, maps=MAPS))
  np.testing.assert_allclose(resolved_map("auto", dark, calibrated), 0.7, atol=1e-6)


def test_the_maps_calibration_feeds_every_setting_but_auto():
  dark = np.full((8, 8, 3), 0.1, np.float32)
  calibrated = resolve.ExposureRules(calibration=Calibration(maps=MAPS))
  assert calibrated.resolve_image(0.5, dark).value == pytest.approx(0.7)
  assert calibrated.resolve_image("under", dark).value == pytest.approx(MAPS.lookup(0.55, 0.1))
  two = np.where(np.arange(8)[None, :] < 4, 0.25, 0.5).astype(np.float32) * np.ones((8, 1))
  np.testing.assert_allclose(resolved_map(two, dark, calibrated)[0], [0.35] * 4 + [0.7] * 4,
                             atol=1e-6)
  adaptive = calibrated.resolve_image("adaptive", dark)
  assert isinstance(adaptive, values.Constant)      # a flat photo
  np.testing.assert_array_equal(resolved_map("auto", dark, calibrated), resolved_map("auto", dark))


def test_stats_are_computed_once():
  img = np.random.default_rng(0).random((9, 9, 3)).astype(np.float32)
  stats = resolve.ImageStats(img)
  assert stats.cell_brightness() is stats.cell_brightness()
  assert stats.luma() is stats.luma()


def test_maps_resolve_per_cell_in_memory_of_the_cells_not_the_photo():
  """A map for a large photo is never made at the photo's size (a full float32 map of
  this photo is 24 MB; its cells 1.5 MB)."""
  import tracemalloc
  height, width = 2000, 3000
  img = np.full((8, 8, 3), 0.2, np.float32)

  class Stats:  # what resolving a map asks of a photo of that size
    def cell_brightness(self):
      return np.full(values.cell_shape(height, width), 0.2, np.float32)

  calibrated = resolve.ExposureRules(calibration=Calibration(maps=MAPS))
  user_map = np.random.default_rng(0).integers(0, 256, (300, 400), dtype=np.uint8)
  tracemalloc.start()
  fed = calibrated.resolve(user_map, height, width, Stats())
  peak = tracemalloc.get_traced_memory()[1]
  tracemalloc.stop()
  assert isinstance(fed, values.CellMap) and fed.cells.shape == (500, 750)
  assert peak < 8e6, peak
  del img


def test_adaptive_with_a_calibration_stays_per_cell():
  rng = np.random.default_rng(5)
  img = (rng.random((16, 20, 3)) * 0.5).astype(np.float32)
  calibrated = resolve.ExposureRules(calibration=Calibration(maps=MAPS))
  fed = calibrated.resolve_image("adaptive", img)
  assert isinstance(fed, values.CellMap) and fed.cells.shape == (4, 5)
  plain = resolve.DEFAULT_RULES.resolve_image("adaptive", img)
  assert isinstance(plain, values.LumaLinear)
  cells = rules.luma_linear_cells(plain, resolve.ImageStats(img).cell_luma())
  np.testing.assert_allclose(fed.cells, MAPS.lookup(cells, resolve.ImageStats(img)
                                                    .cell_brightness().mean()), atol=1e-6)
