"""User exposure settings: parsing, map arrays and map files, and errors."""
import numpy as np
import pytest
from PIL import Image

from cudi_jax import imagemath
from cudi_jax.exposure import settings as st
from cudi_jax.exposure.settings import ExposureError


def test_parse_setting_kinds(tmp_path):
  assert st.parse_setting("auto") == st.Named("auto")
  assert st.parse_setting(" Under ") == st.Named("under")
  assert st.parse_setting("0.7") == st.Value(0.7)
  assert st.parse_setting(np.float64(1.0)) == st.Value(1.0)
  assert st.parse_setting(0) == st.Value(0.0)
  path = tmp_path / "m.png"
  Image.fromarray(np.zeros((2, 2), np.uint8)).save(path)
  assert st.parse_setting(str(path)) == st.MapFile(str(path))
  assert st.parse_setting(path) == st.MapFile(path)
  got = st.parse_setting(np.zeros((2, 2)))
  assert isinstance(got, st.MapArray) and got.array.shape == (2, 2)
  assert st.parse_setting(st.Value(0.2)) == st.Value(0.2)   # typed settings pass through


def test_user_map_integer_scaling():
  u8 = np.array([[0, 255], [51, 102]], np.uint8)
  np.testing.assert_allclose(st.map_from_array(u8, 2, 2), [[0, 1], [0.2, 0.4]], atol=1e-7)
  u16 = np.array([[0, 65535], [13107, 32768]], np.uint16)
  np.testing.assert_allclose(st.map_from_array(u16, 2, 2), [[0, 1], [0.2, 32768 / 65535]],
                             atol=1e-7)
  out = st.map_from_array(u8[..., None], 2, 2)                         # (H, W, 1) accepted
  assert out.shape == (2, 2) and out.dtype == np.float32
  np.testing.assert_array_equal(st.map_from_array(np.array([[True, False], [False, True]]), 2, 2),
                                [[1, 0], [0, 1]])
  f = np.array([[0.0, 0.25], [0.5, 1.0]])                              # float64 in [0, 1]
  got = st.map_from_array(f, 2, 2)
  assert got.dtype == np.float32
  np.testing.assert_allclose(got, f, atol=1e-7)


def test_user_map_other_integer_types():
  # A plain list of 0/1 is a mask; other integer values have no scale and are refused.
  np.testing.assert_array_equal(st.map_from_array(np.array([[0, 1]]), 1, 2), [[0, 1]])
  with pytest.raises(ExposureError, match="uint8"):
    st.map_from_array(np.array([[0, 100]]), 1, 2)
  with pytest.raises(ExposureError, match="uint8"):
    st.map_from_array(np.array([[-1, 1]], np.int32), 1, 2)


def test_user_map_resized_to_photo():
  # a 1 x 2 ramp [0, 1] resized bilinearly (half-pixel centres, clamped) to width 4
  got = st.map_from_array(np.array([[0.0, 1.0]], np.float32), 3, 4)
  assert got.shape == (3, 4) and got.dtype == np.float32
  np.testing.assert_allclose(got, np.tile([0.0, 0.25, 0.75, 1.0], (3, 1)), atol=1e-6)
  # constant maps stay constant when shrunk too; uint8 is scaled before resizing
  np.testing.assert_allclose(st.map_from_array(np.full((40, 50), 204, np.uint8), 3, 4), 0.8,
                             atol=1e-6)
  small = st.map_from_array(np.random.default_rng(0).uniform(0, 1, (9, 9)), 30, 20)
  assert small.shape == (30, 20) and 0 <= small.min() and small.max() <= 1


def test_user_map_from_png_files(tmp_path):
  u8 = np.array([[0, 51, 255], [102, 153, 204]], np.uint8)
  path = tmp_path / "map8.png"
  Image.fromarray(u8).save(path)
  np.testing.assert_allclose(st.map_from_array(st.read_map_file(path), 2, 3), u8 / 255.0,
                             atol=1e-6)
  u16 = np.array([[0, 65535, 32768], [1000, 30000, 13107]], np.uint16)
  p16 = tmp_path / "map16.png"
  Image.fromarray(u16).save(p16)
  assert st.read_map_file(p16).dtype == np.uint16
  # colour file -> luma (PIL 'L': 299/587/114 per mille)
  rgb = np.zeros((1, 2, 3), np.uint8)
  rgb[0, 0, 0] = 255
  rgb[0, 1, 1] = 255
  Image.fromarray(rgb).save(tmp_path / "rgb.png")
  np.testing.assert_allclose(st.read_map_file(tmp_path / "rgb.png") * 255, [[76, 150]], atol=0.51)


def test_map_files_are_read_like_photos(tmp_path):
  # EXIF orientation 6 (rotate 90 degrees clockwise to display) is applied to a map
  # as to a photo, so a map drawn over the displayed photo lines up with it.
  stored = np.array([[0, 50, 100], [150, 200, 250]], np.uint8)
  exif = Image.Exif()
  exif[0x0112] = 6
  path = tmp_path / "rotated.png"
  Image.fromarray(stored).save(path, exif=exif.tobytes())
  shown = np.rot90(stored, k=-1)
  np.testing.assert_array_equal(st.read_map_file(path), shown)
  # an alpha channel is ignored; a colour map is its BT.601 luma in float
  rgba = np.zeros((1, 2, 4), np.uint8)
  rgba[0, 0] = (255, 0, 0, 0)
  rgba[0, 1] = (0, 0, 255, 255)
  Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
  got = st.read_map_file(tmp_path / "rgba.png")
  assert got.dtype == np.float32
  np.testing.assert_allclose(got, [[imagemath.LUMA_BT601[0], imagemath.LUMA_BT601[2]]], atol=1e-6)


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), float("inf"), "1.2", "-0.5", True])
def test_bad_constant_values(value):
  with pytest.raises(ExposureError):
    st.parse_setting(value)


@pytest.mark.parametrize("value", ["bright", "", "under!", "nan"])
def test_bad_strings(value):
  with pytest.raises(ExposureError):
    st.parse_setting(value)


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
    st.map_from_array(array, 2, 2)


def test_unreadable_files(tmp_path):
  bogus = tmp_path / "not_an_image.png"
  bogus.write_text("this is not a PNG")
  with pytest.raises(ExposureError):
    st.read_map_file(bogus)
  with pytest.raises(ExposureError):
    st.read_map_file(tmp_path / "missing.png")


def test_exposure_error_is_value_error():
  assert issubclass(ExposureError, ValueError)
  assert st.check_value("0.25") == 0.25 and st.check_value(1) == 1.0
  with pytest.raises(ValueError):
    st.check_value(2.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, bool])
def test_map_cells_of_a_photo_sized_map_are_the_networks_cell_means(dtype):
  from cudi_jax.exposure import values
  rng = np.random.default_rng(1)
  if dtype == bool:
    array = rng.random((37, 53)) > 0.5
  elif dtype == np.float32:
    array = rng.random((37, 53), dtype=np.float32)
  else:
    array = rng.integers(0, np.iinfo(dtype).max + 1, (37, 53)).astype(dtype)
  want = values.cells_from_map(st.map_from_array(array, 37, 53))
  np.testing.assert_array_equal(st.map_cells(array, 37, 53, rows_per_chunk=8), want)


def test_map_cells_of_other_sizes_go_straight_to_the_cell_grid():
  from cudi_jax.exposure import values
  yy, xx = np.mgrid[0:300, 0:400]
  smooth = (0.2 + 0.6 * xx / 400 + 0.1 * yy / 300).astype(np.float32)
  for height, width in ((61, 83), (2000, 3000)):   # enlarged, and shrunk via block means
    got = st.map_cells(smooth, height, width)
    assert got.shape == values.cell_shape(height, width) and got.dtype == np.float32
    via_full = values.cells_from_map(st.map_from_array(smooth, height, width))
    np.testing.assert_allclose(got, via_full, atol=0.01)
  huge = np.repeat(np.repeat((smooth * 255).astype(np.uint8), 8, axis=0), 8, axis=1)
  np.testing.assert_allclose(st.map_cells(huge, 120, 160),
                             st.map_cells(smooth, 120, 160), atol=0.01)


def test_large_maps_are_kept_small_and_huge_ones_refused(tmp_path, monkeypatch):
  big = np.full((400, 500), 102, np.uint8)
  small = st.shrink_map(big, max_pixels=20_000)
  assert small.size <= 20_000 and small.dtype == np.float32
  np.testing.assert_allclose(small, 0.4, atol=1e-6)
  assert st.shrink_map(big, max_pixels=10**6) is big
  path = tmp_path / "m.png"
  Image.fromarray(big).save(path)
  monkeypatch.setattr(st, "MAX_MAP_PIXELS", 1000)
  with pytest.raises(ExposureError, match="too large") as info:
    st.read_map_file(path)
  assert "--max-pixels" not in str(info.value) and "limited to 1,000" in str(info.value)
