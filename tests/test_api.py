"""The public NumPy API: load_student / StudentRuntime.enhance / resolve_exposure, and
the jitted JAX enhancer sharing the same weights."""
import os
import warnings

import numpy as np
import pytest

from cudi_jax import weights
from cudi_jax import imagemath
from cudi_jax.exposure import calibration as calibration_lib
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax.exposure import values as exposure_values
from cudi_jax.runtime import reference
from cudi_jax.runtime import api as runtime
from cudi_jax import student_math
from tests import helpers


@pytest.fixture(scope="module")
def params():
  return helpers.random_student_flat(seed=11, std=0.3)


@pytest.fixture(scope="module")
def model(params):
  return runtime.StudentRuntime(params, threads=2)


@pytest.fixture(scope="module")
def weights_file(params, tmp_path_factory):
  path = tmp_path_factory.mktemp("weights") / "student.npz"
  weights.export_student(params, {"training": {"step": 3}}, path)
  return path


def _resolved_map(setting, x, rules=resolve_lib.DEFAULT_RULES):
  return exposure_values.full_map(rules.resolve_image(setting, x), x)


def _float_reference(params, x, emap, color="natural"):
  k, b = student_math.student_maps(params, x, emap[..., None], np, color=color)
  return student_math.tangent_apply(k, b, x, np), k, b


# --------------------------------------------------------------------------- loading


def test_load_student_from_file(weights_file, params):
  model = runtime.load_student(weights_file)
  assert model.metadata["training"]["step"] == 3
  for name, value in params.items():
    assert np.array_equal(model.params[name], value)


def test_load_student_missing_shipped_weights(monkeypatch, tmp_path):
  monkeypatch.setattr(runtime, "shipped_weights_path", lambda: str(tmp_path / "none.npz"))
  with pytest.raises(runtime.WeightsNotFoundError, match="no shipped student weights"):
    runtime.load_student()


def test_load_student_shipped_weights():
  if not os.path.isfile(runtime.shipped_weights_path()):
    pytest.skip("this checkout ships no weights")
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # trained weights: no placeholder warning
    model = runtime.load_student()
  out = model.enhance(np.full((8, 8, 3), 40, np.uint8))
  assert out.shape == (8, 8, 3) and out.dtype == np.uint8


def test_placeholder_weights_warn(params, tmp_path):
  path = tmp_path / "placeholder.npz"
  weights.export_student(params, {"placeholder": True}, path)
  with pytest.warns(UserWarning, match="placeholder"):
    runtime.load_student(path)


def test_load_student_rejects_a_teacher_and_garbage(tmp_path):
  bad = tmp_path / "bad.npz"
  bad.write_bytes(b"not a zip")
  with pytest.raises(weights.ExportFormatError, match="not a valid CuDi export"):
    runtime.load_student(bad)


# --------------------------------------------------------------------------- enhance


@pytest.mark.parametrize("exposure", ["auto", "under", "over", "adaptive", 0.3, "0.45"])
def test_enhance_float_matches_reference(model, params, exposure):
  rng = np.random.default_rng(1)
  x = rng.uniform(0, 1, (29, 38, 3)).astype(np.float32)
  emap = _resolved_map(exposure if exposure != "0.45" else 0.45, x)
  ref, k_ref, b_ref = _float_reference(params, x, emap)
  out, k, b = model.enhance(x, exposure, return_maps=True)
  assert out.dtype == np.float32 and k.dtype == b.dtype == np.float32
  np.testing.assert_allclose(out, ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(k, k_ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(b, b_ref, atol=1e-5, rtol=0)
  fed = model.resolve_exposure(x, exposure)
  out2, k2, b2 = model.enhance(x, fed, return_maps=True)
  assert np.array_equal(k2, k) and np.array_equal(b2, b) and np.array_equal(out2, out)


def test_exposure_map_resolution(model):
  rng = np.random.default_rng(2)
  img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
  x = img.astype(np.float32) / 255
  for setting in ("auto", "under", "over", 0.7, "adaptive"):
    np.testing.assert_allclose(exposure_values.full_map(model.resolve_exposure(img, setting), x),
                               _resolved_map(setting, x), atol=1e-5)
  # auto asks a flat photo, bright or dark, for the target of its brightness.
  # (A flat bright photo is over-exposed: tempered, blown-free cells at the strength.)
  bright = np.full((10, 10, 3), 230, np.uint8)
  fed = model.resolve_exposure(bright, "auto")
  assert fed.fed.cells[0, 0] == pytest.approx(
      model.rules.calibration.auto_target(model.presets.auto_target, 230 / 255), abs=1e-6)
  assert model.presets.auto_temper < fed.weights[0, 0] < 1.0  # 0.90: nearly blown
  light = model.resolve_exposure(np.full((10, 10, 3), 200, np.uint8), "auto")
  assert light.weights[0, 0] == pytest.approx(model.presets.auto_temper)
  dark = np.full((10, 10, 3), 30, np.uint8)
  assert model.resolve_exposure(dark, "auto").cells.shape == (3, 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32, np.float64])
def test_enhance_keeps_dtype_and_rounds_consistently(model, params, dtype):
  rng = np.random.default_rng(3)
  x = rng.uniform(0, 1, (21, 17, 3)).astype(np.float32)
  if np.issubdtype(dtype, np.integer):
    top = np.iinfo(dtype).max
    image = np.round(x * top).astype(dtype)
    x = image.astype(np.float32) / np.float32(top)
  else:
    image = x.astype(dtype)
    x = image.astype(np.float32)
    top = None
  out = model.enhance(image, 0.6)
  assert out.dtype == dtype and out.shape == image.shape
  ref, _, _ = _float_reference(params, x, np.full((21, 17), 0.6, np.float32))
  if top is None:
    np.testing.assert_allclose(out.astype(np.float32), ref,
                               atol=1e-5 if dtype != np.float16 else 1e-3)
  else:
    # round-half-up of clip(K*I+B, 0, 1) * max; only exact ties may differ by float noise
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64) * top)
    assert diff.max() <= 0.5 + 1e-6 * top
    ref_int = reference.reference_enhance(params, image, 0.6)
    # float32 noise (~1e-7 relative) flips ties: rare at 8 bits, ~1% at 16 bits
    assert np.mean(out == ref_int) > (0.999 if top == 255 else 0.98)
    assert np.abs(out.astype(np.int64) - ref_int).max() <= 1


def test_grayscale_is_the_mean_of_the_enhanced_rgb(model, params):
  rng = np.random.default_rng(4)
  gray = rng.integers(0, 256, (18, 23), dtype=np.uint8)
  out = model.enhance(gray, "under")
  assert out.shape == gray.shape and out.dtype == np.uint8
  rgb = np.repeat((gray.astype(np.float32) / 255)[..., None], 3, axis=-1)
  ref, _, _ = _float_reference(params, rgb, np.full(gray.shape, 0.55, np.float32))
  expected = np.floor(ref.mean(axis=-1) * 255 + 0.5)
  assert np.abs(out.astype(np.int64) - expected).max() <= 1
  assert np.mean(out == expected) > 0.99
  # (H, W, 1) keeps its layout and equals the 2-D result
  out1 = model.enhance(gray[..., None], "under")
  assert out1.shape == (18, 23, 1) and np.array_equal(out1[..., 0], out)


def test_alpha_is_passed_through(model):
  rng = np.random.default_rng(5)
  rgba = rng.integers(0, 256, (16, 19, 4), dtype=np.uint8)
  out = model.enhance(rgba, "over")
  assert np.array_equal(out[..., 3], rgba[..., 3])
  assert np.array_equal(out[..., :3], model.enhance(np.ascontiguousarray(rgba[..., :3]), "over"))
  la = np.stack([rgba[..., 0], rgba[..., 3]], axis=-1)
  out_la = model.enhance(la, 0.5)
  assert np.array_equal(out_la[..., 1], la[..., 1])
  assert np.array_equal(out_la[..., 0], model.enhance(la[..., 0], 0.5))
  rgba16 = rng.integers(0, 65536, (9, 8, 4), dtype=np.uint16)
  assert np.array_equal(model.enhance(rgba16)[..., 3], rgba16[..., 3])


def test_exposure_maps_of_any_size_and_type(model, tmp_path):
  from PIL import Image
  img = np.full((24, 32, 3), 60, np.uint8)
  small = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
  a = model.enhance(img, small)
  b = model.enhance(img, exposure_settings.resize_map(small, 24, 32))
  assert np.array_equal(a, b)
  u8 = (small * 255).round().astype(np.uint8)
  path = tmp_path / "map.png"
  Image.fromarray(u8).save(path)
  assert np.array_equal(model.enhance(img, path), model.enhance(img, u8))
  assert np.array_equal(model.enhance(img, str(path)), model.enhance(img, u8))  # str path too
  bright = model.enhance(img, 0.8).astype(int).mean()
  dark = model.enhance(img, 0.2).astype(int).mean()
  assert bright != dark


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "bright", "", True,
                                 np.zeros((2, 3, 4)), np.full((4, 4), 2.0)])
def test_bad_exposures_raise(model, bad):
  with pytest.raises(exposure_settings.ExposureError):
    model.enhance(np.zeros((8, 8, 3), np.uint8), bad)


@pytest.mark.parametrize("bad, error", [
    (np.zeros((4, 4, 3), np.int32), TypeError),
    (np.zeros((4, 4, 3), bool), TypeError),
    (np.zeros((4, 4, 5), np.uint8), ValueError),
    (np.zeros((4,), np.uint8), ValueError),
    (np.zeros((0, 4, 3), np.uint8), ValueError),
])
def test_bad_images_raise(model, bad, error):
  with pytest.raises(error):
    model.enhance(bad)


def test_presets_and_calibration_come_from_the_metadata(params):
  auto = calibration_lib.Table((0.05, 0.5), (0.5,), ((0.65,), (0.45,)))
  custom = runtime.StudentRuntime(params, {
      "exposure_presets": {"under": 0.7, "over": 0.3, "auto": {"target": 0.5, "strength": 0.5}},
      "calibration": calibration_lib.Calibration(auto=auto).to_metadata()})
  img = np.full((8, 8, 3), 30, np.uint8)   # brightness 0.118: between the two calibration points
  assert custom.resolve_exposure(img, "under") == exposure_values.Constant(0.7)
  want = np.interp(np.log(30 / 255), np.log([0.05, 0.5]), [0.65, 0.45])
  assert custom.resolve_exposure(img, "auto").cells[0, 0] == pytest.approx(want, abs=1e-6)
  # The runtime's banded statistics resolve auto exactly as the whole-image ones do.
  rng = np.random.default_rng(3)
  photo = rng.integers(0, 120, (45, 63, 3), dtype=np.uint8)
  np.testing.assert_allclose(custom.resolve_exposure(photo, "auto").cells,
                             custom.rules.resolve_image("auto", photo.astype(np.float32) / 255).cells,
                             atol=1e-6)
  assert np.array_equal(custom.enhance(img, "under"), custom.enhance(img, 0.7))


def test_thread_counts_agree(params):
  rng = np.random.default_rng(6)
  img = rng.integers(0, 256, (61, 45, 3), dtype=np.uint8)
  one = runtime.StudentRuntime(params, threads=1).enhance(img, "adaptive")
  two = runtime.StudentRuntime(params, threads=2).enhance(img, "adaptive")
  assert np.array_equal(one, two)


# --------------------------------------------------------------------------- numbers in, numbers out


def test_runtime_shape_checks_raise_export_errors(params):
  """StudentRuntime's own shape checks raise the project's export error."""
  from cudi_jax.errors import CudiError
  five = dict(student_math.student_param_shapes(16, 5, 6))
  bad = {k: np.zeros(s, np.float32) for k, s in five.items()}
  with pytest.raises(weights.ExportFormatError, match="input channels") as info:
    runtime.StudentRuntime(bad)
  assert isinstance(info.value, CudiError)
  with pytest.raises(weights.ExportFormatError):
    runtime.StudentRuntime({k: v for k, v in params.items() if k != "conv3/dw_bias"})
  with pytest.raises(weights.ExportFormatError):
    runtime.StudentRuntime({"conv1/dw_kernel": np.zeros((3, 3, 4), np.float32)})


@pytest.mark.parametrize("value", [255.0, 1.01, -0.5, np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_float_images_outside_0_1_are_refused(model, value, dtype):
  """Floats outside [0, 1] (a 0-255 image, negatives, inf) and NaN are refused with an
  error naming the range, by enhance and resolve_exposure alike."""
  image = np.full((9, 10, 3), 0.5, dtype)
  image[4, 5, 1] = value
  for call in (model.enhance, model.resolve_exposure):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
      call(image)


def test_float_images_within_rounding_of_0_1_are_accepted(model):
  image = np.full((9, 10, 3), 0.5, np.float32)
  image[0, 0] = 1.0 + 5e-7
  image[0, 1] = -5e-7
  out = model.enhance(image)
  assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1


def test_non_finite_results_are_refused_without_warnings(params):
  """Weights that overflow (finite but huge): a clear error, no NumPy
  warnings, never a silent black (or NaN) image."""
  import warnings
  scaled = {k: v * np.float32(1e10) for k, v in params.items()}  # overflows in the net
  bias = dict(params)
  bias["conv7/pw_bias"] = np.full_like(params["conv7/pw_bias"], 3e38)  # B = 3e38
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    for threads, huge in ((1, scaled), (2, scaled), (2, bias)):
      model = runtime.StudentRuntime(huge, threads=threads)
      for image in (np.full((40, 44, 3), 90, np.uint8), np.full((40, 44, 3), 0.3, np.float32),
                    np.full((40, 44), 900, np.uint16)):
        with pytest.raises(ValueError, match="non-finite"):
          model.enhance(image)
      with pytest.raises(ValueError, match="non-finite"):
        model.enhance(np.full((40, 44, 3), 0.3, np.float32), return_maps=True)


def test_huge_weights_are_refused_at_load(params, tmp_path):
  """An export whose weights cannot be meant (|w| > 1e4) is refused when loaded."""
  import io
  import json
  arrays = dict(params)
  arrays["conv2/dw_kernel"] = np.full_like(params["conv2/dw_kernel"], 2e4)
  meta = weights.build_metadata("student", {"name": "student", "width": 16, "in_channels": 4,
                                            "out_channels": 6}, arrays)
  arrays[weights.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  (tmp_path / "big.npz").write_bytes(buf.getvalue())
  with pytest.raises(weights.ExportFormatError, match="magnitude"):
    runtime.load_student(tmp_path / "big.npz")


@pytest.mark.parametrize("dtype", [">u2", ">u1", ">f4", ">f8", "<u2", "<f4"])
def test_any_byte_order_is_accepted(model, dtype):
  """Non-native byte order is converted first (uint16 included)."""
  rng = np.random.default_rng(3)
  native = np.dtype(dtype).newbyteorder("=")
  if native.kind == "u":
    image = rng.integers(0, np.iinfo(native).max + 1, (8, 8, 3)).astype(native)
  else:
    image = rng.random((8, 8, 3)).astype(native)
  swapped = image.astype(dtype)
  out = model.enhance(swapped)
  assert out.dtype == native and np.array_equal(out, model.enhance(image))
  assert model.enhance(np.zeros((8, 8, 3), ">u2")).dtype == np.uint16


def test_calibrated_export_feeds_settings_and_fed_values_go_as_given(params):
  calibration = calibration_lib.Calibration(maps=calibration_lib.Table((0.2,), (0.0, 1.0),
                                                                       ((0.2, 0.9),)))
  model = runtime.StudentRuntime(params, {"calibration": calibration.to_metadata()})
  plain = runtime.StudentRuntime(params)
  img = np.random.default_rng(4).integers(0, 100, (20, 24, 3), dtype=np.uint8)
  fed = calibration.feed(0.5, 0.0)   # one bin: the photo's brightness does not matter
  assert fed == pytest.approx(0.55)
  assert np.array_equal(model.enhance(img, 0.5), plain.enhance(img, fed))
  emap = exposure_values.PixelMap(np.full((20, 24), 0.5, np.float32))
  assert np.array_equal(model.enhance(img, emap), plain.enhance(img, emap))
  assert np.array_equal(model.enhance(img, "auto"), plain.enhance(img, "auto"))
  # a full-size map is exactly its cell means to the network
  cells = exposure_values.CellMap(exposure_values.cells_from_map(emap.values))
  assert np.array_equal(model.enhance(img, cells), model.enhance(img, emap))


def test_malformed_exposure_metadata_is_refused(params):
  with pytest.raises(weights.ExportFormatError, match="exposure"):
    runtime.StudentRuntime(params, {"exposure_presets": {"under": 0}})
  with pytest.raises(weights.ExportFormatError, match="calibration"):
    runtime.StudentRuntime(params, {"calibration": {"maps": {"means": [0.5], "requested": [0, 1],
                                                             "fed": [[0.0, 0.0]]}}})


# --------------------------------------------------------------------------- colour


def test_natural_color_keeps_grey_grey_when_brightening():
  """A dark grey photo brightened by the shipped weights stays grey in 'natural' colour
  and takes the network's tint in 'network' colour."""
  if not os.path.isfile(runtime.shipped_weights_path()):
    pytest.skip("this checkout ships no weights")
  model = runtime.load_student()
  grey = np.full((24, 32, 3), 20, np.uint8)
  grey[8:16, 8:24] = 35
  net = model.enhance(grey, 0.7, color="network").astype(int)
  nat = model.enhance(grey, 0.7, color="natural").astype(int)
  gain = model.enhance(grey, 0.7, color="network", return_maps=True)[1:]
  wts = np.asarray(imagemath.LUMA_BT601, np.float32)
  x = grey.astype(np.float32) / 255
  brightened = ((gain[0] * x + gain[1]) @ wts) > 1.25 * (x @ wts)
  assert brightened.mean() > 0.9  # the premise: these weights brighten this photo
  spread = lambda img: (img.max(-1) - img.min(-1))[brightened]  # noqa: E731
  assert spread(net).mean() > 2  # the network's own maps tint grey
  assert spread(nat).max() <= 1  # natural: one curve for the three channels (rounding)


def test_color_mode_is_checked(model):
  with pytest.raises(ValueError, match="color must be one of"):
    model.enhance(np.zeros((8, 8, 3), np.uint8), color="vivid")
