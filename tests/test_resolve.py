"""The one resolver: every setting to the value the network is given."""
import numpy as np
import pytest

from cudi_jax.exposure import resolve, rules, values
from cudi_jax.exposure.calibration import CellResponse, Calibration, Table
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
  from PIL import Image  # noqa: F401 -- imported before measuring (the resize uses it)
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


AS_FED = CellResponse((1e-4, 1.0), (0.0, 1.0), ((0.0, 0.0), (1.0, 1.0)))


def test_auto_is_balanced_for_dark_photos_steady_for_bright_ones_blended_between():
  rng = np.random.default_rng(4)
  texture = rng.random((40, 48, 3)).astype(np.float32)
  with_cells = resolve.ExposureRules(calibration=Calibration(auto=AUTO, cells=AS_FED))
  presets = with_cells.presets

  def resolved_cells(image, rules_):
    return rules_.resolve_image("auto", image).cells

  def parts(image):
    stats = resolve.ImageStats(image)
    cells = stats.cell_brightness()
    steady = rules.auto_cells(cells, with_cells.calibration.auto_target(
        0.5, cells.mean(dtype=np.float64)),
                              presets.auto_strength, presets.auto_gain_cap)
    balanced = rules.balanced_cells(cells, stats.dark_noise(), AS_FED, presets.auto_target,
                                    presets.auto_compression, presets.auto_toe,
                                    presets.auto_noise_limit)
    return cells.mean(dtype=np.float64), steady, balanced

  dark = texture * 0.2
  mean, steady, balanced = parts(dark)
  assert mean < presets.auto_bright[0]
  np.testing.assert_array_equal(resolved_cells(dark, with_cells), balanced)
  bright = 0.6 + 0.4 * texture
  mean, steady, balanced = parts(bright)
  assert mean > presets.auto_bright[1]
  tempered = with_cells.resolve_image("auto", bright)  # over-exposed: tempered too
  np.testing.assert_array_equal(tempered.fed.cells, steady)
  middle = 0.3 + 0.3 * texture
  mean, steady, balanced = parts(middle)
  share = (mean - 0.3) / 0.3
  np.testing.assert_allclose(resolved_cells(middle, with_cells),
                             (1 - share) * balanced + share * steady, atol=1e-6)
  # Without a per-cell table every photo gets the steady rule.
  without = resolve.ExposureRules(calibration=Calibration(auto=AUTO))
  mean, steady, _ = parts(dark)
  np.testing.assert_array_equal(resolved_cells(dark, without), steady)


def test_dark_noise_measures_the_noise_of_dark_cells_only():
  rng = np.random.default_rng(5)
  shape = (64, 96)
  noise = rng.normal(0.0, 0.002, shape).astype(np.float32)
  noisy_dark = np.repeat((0.005 + noise)[..., None], 3, axis=-1).clip(0, 1)
  # The population std of 16 samples of sigma 0.002: median about 0.97 sigma.
  assert resolve.ImageStats(noisy_dark).dark_noise() == pytest.approx(0.002, rel=0.1)
  assert resolve.ImageStats(np.full(shape + (3,), 0.005, np.float32)).dark_noise() == 0.0
  bright = np.repeat((0.5 + 10 * noise)[..., None], 3, axis=-1)
  assert resolve.ImageStats(bright).dark_noise() == 0.0          # no dark cells
  few = bright.copy()
  few[:28, :8] = noisy_dark[:28, :8]                              # 14 dark cells
  assert resolve.ImageStats(few).dark_noise() == 0.0
  half = bright.copy()
  half[:32] = noisy_dark[:32]                                     # dark cells only count
  assert resolve.ImageStats(half).dark_noise() == pytest.approx(0.002, rel=0.1)


def test_auto_tempers_over_exposed_photos_only():
  rng = np.random.default_rng(6)
  texture = rng.random((40, 48, 3)).astype(np.float32)
  r = resolve.DEFAULT_RULES
  p = r.presets
  # Dark and ordinary photos: the map alone.
  for level in (0.1, 0.45):
    assert isinstance(r.resolve_image("auto", level * (0.5 + texture)), values.CellMap)
  # Over-exposed: the map, tempered; blown cells keep the network's correction.
  bright = np.clip(0.55 + 0.5 * texture, 0, 1)
  bright[:20] = 1.0
  fed = r.resolve_image("auto", bright)
  assert isinstance(fed, values.Tempered) and isinstance(fed.fed, values.CellMap)
  cells = resolve.ImageStats(bright).cell_brightness()
  mean = cells.mean(dtype=np.float64)
  assert mean > p.auto_temper_photos[1]
  assert fed.gain == pytest.approx(p.auto_target / mean)
  assert fed.weights.shape == cells.shape
  np.testing.assert_array_equal(fed.weights[:5], 1.0)  # blown rows
  low = cells < p.auto_temper_keep[0]
  assert low.any() and np.allclose(fed.weights[low], p.auto_temper)
  np.testing.assert_array_equal(values.full_map(fed, bright), values.full_map(fed.fed, bright))
  # Strength 1 turns it off.
  off = resolve.ExposureRules(presets=Presets(auto_temper=1.0))
  assert isinstance(off.resolve_image("auto", bright), values.CellMap)
  # Only auto is tempered.
  assert r.resolve_image(0.5, bright) == values.Constant(0.5)


def test_auto_holds_a_noisy_photos_black_cells_with_a_ceiling():
  rng = np.random.default_rng(9)
  night = np.clip(0.003 + rng.normal(0, 0.004, (64, 64, 3)), 0, 1).astype(np.float32)
  night[40:] = np.clip(0.15 + 0.1 * rng.random((24, 64, 3)), 0, 1)   # a lit street
  with_cells = resolve.ExposureRules(calibration=Calibration(auto=AUTO, cells=AS_FED))
  stats = resolve.ImageStats(night)
  assert stats.dark_noise() > 0
  fed = with_cells.resolve_image("auto", night)
  assert isinstance(fed, values.Tempered) and fed.weights is None
  assert fed.ceiling.shape == stats.cell_brightness().shape
  assert np.all(fed.ceiling[:4] < 0.015)             # the sky: a few levels at most
  off = resolve.ExposureRules(presets=Presets(auto_night=None),
                              calibration=Calibration(auto=AUTO, cells=AS_FED))
  plain = off.resolve_image("auto", night)
  assert isinstance(plain, values.CellMap)
  np.testing.assert_array_equal(plain.cells, fed.fed.cells)
  # A clean photo (noise 0) is not limited, nor an 8-bit gradient whose quantisation
  # alone gives its dark cells a little spread.
  clean = night.copy()
  clean[:40] = 0.0
  assert isinstance(with_cells.resolve_image("auto", clean), values.CellMap)
  gradient = night.copy()  # dark cells at 1 level, a few channels at 2 (rounding)
  gradient[:40] = (1 + (rng.random((40, 64, 3)) < 0.05)) / 255.0
  noise = resolve.ImageStats(gradient).dark_noise()
  assert 0 < noise < with_cells.presets.auto_night_noise
  assert isinstance(with_cells.resolve_image("auto", gradient), values.CellMap)
