"""Exposure maps: training draws, inference presets / adaptive / user maps, and errors."""
import math

import numpy as np
import pytest
from PIL import Image

from cudi_jax import exposure as ex
from cudi_jax.exposure import ExposureError


def gray_image(values):
  """(H, W) gray levels -> (H, W, 3) float32 image."""
  v = np.asarray(values, np.float32)
  return np.repeat(v[..., None], 3, axis=-1)


# --------------------------------------------------------------------------- training maps


@pytest.mark.parametrize("seed", range(6))
def test_training_map_two_values_in_range(seed):
  m = ex.training_map(seed, 48, 80)
  assert m.shape == (48, 80) and m.dtype == np.float32
  values = np.unique(m)
  assert 1 <= len(values) <= 2
  assert values.min() >= 0.2 and values.max() <= 0.8


def test_training_maps_mostly_have_two_regions():
  counts = [len(np.unique(ex.training_map(seed, 40, 56))) for seed in range(20)]
  assert all(c in (1, 2) for c in counts)
  assert sum(c == 2 for c in counts) >= 15


def test_training_map_seeding():
  a = ex.training_map(7, 32, 40)
  np.testing.assert_array_equal(a, ex.training_map(7, 32, 40))
  np.testing.assert_array_equal(a, ex.training_map(np.random.default_rng(7), 32, 40))
  assert not np.array_equal(a, ex.training_map(8, 32, 40))
  # a Generator advances: two successive draws differ
  rng = np.random.default_rng(3)
  assert not np.array_equal(ex.training_map(rng, 32, 40), ex.training_map(rng, 32, 40))


def test_training_map_value_range_and_shape_choice():
  for seed in range(5):
    m = ex.training_map(seed, 30, 30, value_range=(0.4, 0.45), shapes=("half_plane",))
    assert m.min() >= 0.4 and m.max() <= 0.45


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 1)])
def test_training_map_tiny_sizes(size):
  m = ex.training_map(0, *size)
  assert m.shape == size and np.all((m >= 0.2) & (m <= 0.8))


@pytest.mark.parametrize("shape", ex.SHAPES)
def test_every_shape_gives_non_trivial_masks(shape):
  fractions = []
  for seed in range(10):
    mask = ex.random_region(np.random.default_rng(seed), 64, 96, shape)
    assert mask.shape == (64, 96) and mask.dtype == bool
    fractions.append(mask.mean())
  fractions = np.array(fractions)
  non_trivial = (fractions >= 0.01) & (fractions <= 0.99)
  assert non_trivial.sum() >= 7, fractions
  assert len(np.unique(np.round(fractions, 4))) >= 5     # the masks really vary with the seed


# --------------------------------------------------------------------------- inference: constants, presets


def test_constant_and_presets():
  img = gray_image(np.full((5, 7), 0.3))
  m = ex.inference_map(0.3, img)
  assert m.shape == (5, 7) and m.dtype == np.float32 and np.all(m == np.float32(0.3))
  assert np.all(ex.inference_map("under", img) == np.float32(0.55))
  assert np.all(ex.inference_map("over", img) == np.float32(0.25))
  assert np.all(ex.inference_map(" Under ", img) == np.float32(0.55))
  assert np.all(ex.inference_map("0.7", img) == np.float32(0.7))      # numeric strings
  assert np.all(ex.inference_map(np.float64(1.0), img) == 1.0)
  assert np.all(ex.inference_map(0, img) == 0.0)
  assert ex.PRESETS == {"under": 0.55, "over": 0.25}


def test_auto_is_the_uncalibrated_input_following_map_by_default():
  # Flat photos: the map is the target everywhere, whatever their brightness (a dark
  # photo is asked to brighten, a bright one to darken towards the same mean).
  for level in (0.1, 0.8):
    np.testing.assert_allclose(ex.inference_map("auto", gray_image(np.full((8, 8), level))),
                               ex.AUTO_TARGET, atol=1e-6)
  # Brightness is the RGB mean (what E and the exposure loss mean), not BT.601 luminance.
  green = np.zeros((8, 8, 3), np.float32); green[..., 1] = 0.9
  np.testing.assert_allclose(ex.ImageStats(green).cell_brightness(), 0.3, atol=1e-6)


# --------------------------------------------------------------------------- adaptive map


def test_adaptive_map_gray_hand_values():
  # Y = [0.1, 0.3, 0.9], mean 13/30; d = mean - Y; min-max to [-1, 1] -> [1, 0.5, -1]
  img = gray_image([[0.1, 0.3, 0.9]])
  m = ex.adaptive_map(img)
  assert m.dtype == np.float32 and m.shape == (1, 3)
  np.testing.assert_allclose(m, [[0.70, 0.625, 0.40]], atol=1e-6)
  np.testing.assert_allclose(ex.inference_map("adaptive", img), m, atol=0)


def test_adaptive_map_uses_bt601_luminance():
  img = np.eye(3, dtype=np.float32)[None]          # red, green, blue pixels: Y = .299, .587, .114
  m = ex.adaptive_map(img)[0]
  assert m[2] == pytest.approx(0.55 + 0.15, abs=1e-6)   # darkest (blue) -> S + A
  assert m[1] == pytest.approx(0.55 - 0.15, abs=1e-6)   # brightest (green) -> S - A
  red = 2 * (0.587 - 0.299) / (0.587 - 0.114) - 1       # 0.21776
  assert m[0] == pytest.approx(0.55 + 0.15 * red, abs=1e-6)


def test_adaptive_map_options_and_flat_image():
  img = gray_image([[0.2, 0.4], [0.6, 0.8]])
  m = ex.adaptive_map(img, strength=0.3, base=0.5)
  np.testing.assert_allclose(m, [[0.8, 0.6], [0.4, 0.2]], atol=1e-6)
  flat = ex.adaptive_map(gray_image(np.full((3, 4), 0.42)))
  assert flat.dtype == np.float32 and np.all(flat == np.float32(0.55))
  # clipped to [0, 1] for extreme settings
  m = ex.adaptive_map(img, strength=0.9, base=0.5)
  assert m.min() == 0.0 and m.max() == 1.0


# --------------------------------------------------------------------------- user maps


def test_user_map_integer_scaling():
  img = gray_image(np.zeros((2, 2)))
  u8 = np.array([[0, 255], [51, 102]], np.uint8)
  np.testing.assert_allclose(ex.inference_map(u8, img), [[0, 1], [0.2, 0.4]], atol=1e-7)
  u16 = np.array([[0, 65535], [13107, 32768]], np.uint16)
  np.testing.assert_allclose(ex.inference_map(u16, img), [[0, 1], [0.2, 32768 / 65535]], atol=1e-7)
  out = ex.inference_map(u8[..., None], img)                          # (H, W, 1) accepted
  assert out.shape == (2, 2) and out.dtype == np.float32
  np.testing.assert_allclose(out, [[0, 1], [0.2, 0.4]], atol=1e-7)
  np.testing.assert_array_equal(ex.inference_map(np.array([[True, False], [False, True]]), img),
                                [[1, 0], [0, 1]])
  f = np.array([[0.0, 0.25], [0.5, 1.0]])                             # float64 in [0, 1]
  got = ex.inference_map(f, img)
  assert got.dtype == np.float32
  np.testing.assert_allclose(got, f, atol=1e-7)


def test_user_map_other_integer_types():
  img = gray_image(np.zeros((1, 2)))
  # A plain list of 0/1 is a mask; other integer values have no scale and are refused.
  np.testing.assert_array_equal(ex.inference_map(np.array([[0, 1]]), img), [[0, 1]])
  with pytest.raises(ExposureError, match="uint8"):
    ex.inference_map(np.array([[0, 100]]), img)
  with pytest.raises(ExposureError, match="uint8"):
    ex.inference_map(np.array([[-1, 1]], np.int32), img)


def test_user_map_resized_to_photo():
  img = gray_image(np.zeros((3, 4)))
  # a 1 x 2 ramp [0, 1] resized bilinearly (half-pixel centres, clamped) to width 4
  got = ex.inference_map(np.array([[0.0, 1.0]], np.float32), img)
  assert got.shape == (3, 4) and got.dtype == np.float32
  np.testing.assert_allclose(got, np.tile([0.0, 0.25, 0.75, 1.0], (3, 1)), atol=1e-6)
  # constant maps stay constant when shrunk too; uint8 is scaled before resizing
  big = np.full((40, 50), 204, np.uint8)
  np.testing.assert_allclose(ex.inference_map(big, img), 0.8, atol=1e-6)
  rng = np.random.default_rng(0)
  small = ex.map_from_array(rng.uniform(0, 1, (9, 9)), 30, 20)
  assert small.shape == (30, 20) and 0 <= small.min() and small.max() <= 1


def test_user_map_from_png_files(tmp_path):
  img = gray_image(np.zeros((2, 3)))
  u8 = np.array([[0, 51, 255], [102, 153, 204]], np.uint8)
  path = tmp_path / "map8.png"
  Image.fromarray(u8).save(path)
  expected = u8 / 255.0
  np.testing.assert_allclose(ex.inference_map(path, img), expected, atol=1e-6)   # os.PathLike
  np.testing.assert_allclose(ex.map_from_file(str(path), 2, 3), expected, atol=1e-6)
  np.testing.assert_allclose(ex.inference_map(str(path), img), expected, atol=1e-6)  # str path
  # resized to the photo
  got = ex.inference_map(path, gray_image(np.zeros((4, 6))))
  assert got.shape == (4, 6) and got.min() >= 0 and got.max() <= 1
  # 16-bit grayscale
  u16 = np.array([[0, 65535, 32768], [1000, 30000, 13107]], np.uint16)
  p16 = tmp_path / "map16.png"
  Image.fromarray(u16).save(p16)
  np.testing.assert_allclose(ex.inference_map(p16, img), u16 / 65535.0, atol=1e-6)
  # colour file -> luminance (PIL 'L': 299/587/114 per mille)
  rgb = np.zeros((1, 2, 3), np.uint8); rgb[0, 0, 0] = 255; rgb[0, 1, 1] = 255
  prgb = tmp_path / "rgb.png"
  Image.fromarray(rgb).save(prgb)
  np.testing.assert_allclose(ex.map_from_file(prgb, 1, 2) * 255, [[76, 150]], atol=0.51)


def test_map_files_are_read_like_photos(tmp_path):
  # EXIF orientation 6 (rotate 90 degrees clockwise to display) is applied to a map
  # as to a photo, so a map drawn over the displayed photo lines up with it.
  stored = np.array([[0, 50, 100], [150, 200, 250]], np.uint8)
  exif = Image.Exif()
  exif[0x0112] = 6
  path = tmp_path / "rotated.png"
  Image.fromarray(stored).save(path, exif=exif.tobytes())
  shown = np.rot90(stored, k=-1)
  assert shown.shape == (3, 2) and shown[0, 0] == 150 and shown[0, 1] == 0
  np.testing.assert_array_equal(ex.read_map_file(path), shown)
  np.testing.assert_allclose(ex.map_from_file(path, 3, 2), shown / 255.0, atol=1e-6)
  # an alpha channel is ignored; a colour map is its BT.601 luminance in float
  rgba = np.zeros((1, 2, 4), np.uint8)
  rgba[0, 0] = (255, 0, 0, 0)
  rgba[0, 1] = (0, 0, 255, 255)
  Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
  got = ex.read_map_file(tmp_path / "rgba.png")
  assert got.dtype == np.float32
  np.testing.assert_allclose(got, [[ex.LUMA[0], ex.LUMA[2]]], atol=1e-6)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), float("inf"), "1.2", "-0.5", True])
def test_bad_constant_values(value):
  img = gray_image(np.zeros((2, 2)))
  with pytest.raises(ExposureError):
    ex.inference_map(value, img)


@pytest.mark.parametrize("value", ["bright", "", "under!", "nan"])
def test_bad_strings(value):
  with pytest.raises(ExposureError):
    ex.inference_map(value, gray_image(np.zeros((2, 2))))


@pytest.mark.parametrize("array", [
    np.array([[0.2, 1.2]]),                     # above 1
    np.array([[-0.1, 0.5]]),                    # below 0
    np.array([[0.5, np.nan]]),                  # NaN
    np.array([[0.5, np.inf]]),                  # inf
    np.zeros(5),                                # 1-D
    np.zeros((2, 2, 3)),                        # RGB-like
    np.zeros((1, 2, 2, 1)),                     # 4-D
    np.zeros((0, 4)),                           # empty
    np.array([[-3, 5]], np.int16),              # negative integers
])
def test_bad_map_arrays(array):
  with pytest.raises(ExposureError):
    ex.inference_map(array, gray_image(np.zeros((2, 2))))


def test_unreadable_files(tmp_path):
  img = gray_image(np.zeros((2, 2)))
  bogus = tmp_path / "not_an_image.png"
  bogus.write_text("this is not a PNG")
  with pytest.raises(ExposureError):
    ex.inference_map(bogus, img)
  with pytest.raises(ExposureError):
    ex.map_from_file(tmp_path / "missing.png", 2, 2)


def test_exposure_error_is_value_error():
  assert issubclass(ExposureError, ValueError)
  with pytest.raises(ValueError):
    ex.constant_map(2.0, 2, 2)
  assert ex.check_value("0.25") == 0.25 and ex.check_value(1) == 1.0
  assert math.isclose(ex.constant_map(0.4, 2, 3).sum(), 6 * 0.4, rel_tol=1e-6)


def test_box_blur_matches_a_loop():
  rng = np.random.default_rng(0)
  x = rng.random((7, 9)).astype(np.float32)
  got = ex.box_blur(x, 2)
  padded = np.pad(x.astype(np.float64), 2, mode="edge")
  want = np.array([[padded[i:i + 5, j:j + 5].mean() for j in range(9)] for i in range(7)])
  np.testing.assert_allclose(got, want, atol=1e-6)
  np.testing.assert_array_equal(ex.box_blur(x, 0), x)


def test_auto_map_follows_the_photo_between_constant_and_gain():
  # Left half dark (0.05), right half brighter (0.2): strength 1 asks both for the same
  # gain (targets in the ratio 1:4), strength 0 for one constant, 0.5 in between (1:2).
  cells = np.full((16, 16), 0.05, np.float32)
  cells[:, 8:] = 0.2
  full = ex.natural_cells(cells, target=0.5, strength=1.0, radius=0)
  np.testing.assert_allclose(full[:, 8:] / full[:, :8], 4.0, rtol=2e-3)  # 1e-4 floor
  assert full.mean() == pytest.approx(0.5, rel=1e-3)
  flat = ex.natural_cells(cells, target=0.5, strength=0.0, radius=0, gain_cap=None)
  np.testing.assert_allclose(flat, 0.5, atol=1e-6)
  half = ex.natural_cells(cells, target=0.5, strength=0.5, radius=0, gain_cap=None)
  np.testing.assert_allclose(half[:, 8:] / half[:, :8], 2.0, rtol=1e-3)
  # The gain cap: the dark half (r = 0.05 / 0.125 = 0.4) would be asked for 0.5 * 0.4^0.5
  # = 0.316, i.e. 1.58x the global gain 0.5 / 0.125; capped at 1.5x: 1.5 * 0.5 * 0.4.
  capped = ex.natural_cells(cells, target=0.5, strength=0.5, radius=0, gain_cap=1.5)
  np.testing.assert_allclose(capped[:, :8], 0.3, rtol=2e-3)
  np.testing.assert_array_equal(capped[:, 8:], half[:, 8:])  # brighter cells: no change
  assert ex.AUTO_GAIN_CAP == ex.Presets().auto_gain_cap == 1.5
  # Clipped to the range (a black region is not asked for pure black).
  black = np.zeros((4, 4), np.float32)
  black[0, 0] = 1.0
  assert ex.natural_cells(black, 0.5, 1.0, radius=0).min() == pytest.approx(ex.NATURAL_RANGE[0])


def test_auto_resolves_per_cell_and_uses_the_presets():
  rng = np.random.default_rng(1)
  img = (rng.random((10, 13, 3)) * 0.3).astype(np.float32)
  m = ex.inference_map("auto", img)
  assert m.shape == (10, 13) and m.dtype == np.float32
  # Constant over each 4x4 cell (what the student sees of a map), edge cells cropped.
  cells = ex.natural_cells(ex.ImageStats(img).cell_brightness())
  np.testing.assert_array_equal(m[0:4, 0:4], cells[0, 0])
  shadow = img.copy()
  shadow[:, :4] *= 0.05  # a near-black strip: the cap binds there
  capped = ex.inference_map("auto", shadow)
  uncapped = ex.inference_map("auto", shadow, ex.Presets(auto_gain_cap=None))
  assert np.all(uncapped >= capped - 1e-7) and np.all(uncapped[:, :4] > capped[:, :4] + 1e-3)
  np.testing.assert_array_equal(uncapped[:, 4:], capped[:, 4:])
  np.testing.assert_array_equal(m[8:10, 12:13], cells[2, 3])
  brighter = ex.inference_map("auto", img, ex.Presets(auto_target=0.6))
  assert brighter.mean() > m.mean()
  calibrated = ex.Presets(auto_target=0.6, auto_strength=0.4, auto_means=(0.05, 0.5),
                          auto_targets=(0.7, 0.45))
  meta = calibrated.to_metadata()
  assert ex.Presets.from_metadata({"exposure_presets": meta}) == calibrated
  # The calibration picks the target by the photo's mean brightness (log-interpolated).
  assert calibrated.auto_target_for(0.05) == pytest.approx(0.7)
  assert calibrated.auto_target_for(0.01) == pytest.approx(0.7)
  assert calibrated.auto_target_for(0.9) == pytest.approx(0.45)
  assert calibrated.auto_target_for(np.sqrt(0.05 * 0.5)) == pytest.approx(0.575)
  dark = np.full((8, 8, 3), 0.05, np.float32)
  np.testing.assert_allclose(ex.inference_map("auto", dark, calibrated), 0.7, atol=1e-6)
  # The cap travels with the export; an export calibrated before the cap existed (a
  # calibration but no gain_cap entry) keeps its map uncapped; malformed caps: default.
  capped = ex.Presets(auto_gain_cap=2.0, auto_means=(0.05, 0.5), auto_targets=(0.7, 0.45))
  assert ex.Presets.from_metadata({"exposure_presets": capped.to_metadata()}) == capped
  none = ex.Presets(auto_gain_cap=None)
  assert ex.Presets.from_metadata({"exposure_presets": none.to_metadata()}).auto_gain_cap is None
  old = capped.to_metadata()
  del old["auto"]["gain_cap"]
  assert ex.Presets.from_metadata({"exposure_presets": old}).auto_gain_cap is None
  assert ex.Presets.from_metadata({}).auto_gain_cap == ex.AUTO_GAIN_CAP
  for bad in (0.5, "x", float("nan")):
    meta = {"exposure_presets": {"auto": {"gain_cap": bad}}}
    assert ex.Presets.from_metadata(meta).auto_gain_cap == ex.AUTO_GAIN_CAP
  # Malformed calibrations are ignored, not trusted.
  for bad in ([[0.5, 0.7], [0.05, 0.4]], [[0.05, 2.0], [0.5, 0.4]], "x", [[0.1]]):
    p = ex.Presets.from_metadata({"exposure_presets": {"auto": {"calibration": bad}}})
    assert p.auto_means == () and p.auto_targets == ()


def test_response_calibration_feeds_every_map_but_auto():
  calibrated = ex.Presets(response_means=(0.1, 0.5), response_requested=(0.0, 0.5, 1.0),
                          response_fed=((0.0, 0.7, 1.0), (0.0, 0.4, 1.0)))
  assert calibrated.feed(0.5, 0.1) == pytest.approx(0.7)
  assert calibrated.feed(0.5, 0.02) == pytest.approx(0.7)           # clamped to the darkest bin
  assert calibrated.feed(0.5, 0.5) == pytest.approx(0.4)
  assert calibrated.feed(0.5, np.sqrt(0.05)) == pytest.approx(0.55)  # log-brightness midpoint
  assert calibrated.feed(0.25, 0.1) == pytest.approx(0.35)
  np.testing.assert_allclose(calibrated.feed(np.array([0.0, 0.5, 1.0]), 0.5), [0.0, 0.4, 1.0])
  dark = np.full((8, 8, 3), 0.1, np.float32)
  np.testing.assert_allclose(ex.inference_map(0.5, dark, calibrated), 0.7, atol=1e-6)
  np.testing.assert_allclose(ex.inference_map("under", dark, calibrated),
                             calibrated.feed(0.55, 0.1), atol=1e-6)
  two = np.where(np.arange(8)[None, :] < 4, 0.25, 0.5).astype(np.float32) * np.ones((8, 1))
  np.testing.assert_allclose(ex.inference_map(two, dark, calibrated)[0], [0.35] * 4 + [0.7] * 4,
                             atol=1e-6)
  # auto is calibrated by its own target, not fed again.
  np.testing.assert_array_equal(ex.inference_map("auto", dark, calibrated),
                                ex.inference_map("auto", dark))
  meta = {"exposure_presets": calibrated.to_metadata()}
  assert ex.Presets.from_metadata(meta) == calibrated
  for bad in ({"means": [0.5, 0.1], "requested": [0, 1], "fed": [[0, 1], [0, 1]]},
              {"means": [0.1], "requested": [0, 1], "fed": [[0, 2]]},
              {"means": [0.1], "requested": [0, 1], "fed": [[0, 1], [0, 1]]}, [1, 2]):
    assert ex.Presets.from_metadata({"exposure_presets": {"response": bad}}).response_means == ()
