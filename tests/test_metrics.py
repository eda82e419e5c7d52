"""PSNR / SSIM / Pearson / exposure-control metrics (cudi_jax.eval.metrics)."""
import math

import numpy as np

from cudi_jax import imagemath
import pytest

from cudi_jax.eval import metrics


def _skimage_ssim(a, b, data_range):
  skm = pytest.importorskip("skimage.metrics")
  kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range)
  if a.ndim == 3:
    kwargs["channel_axis"] = -1
  return skm.structural_similarity(a, b, **kwargs)


@pytest.mark.parametrize("shape", [(11, 11), (11, 11, 3), (23, 37, 3), (40, 29, 3), (32, 32)])
def test_ssim_matches_skimage(shape):
  rng = np.random.default_rng(sum(shape))
  a = rng.random(shape)
  b = np.clip(0.8 * a + 0.1 + 0.1 * rng.standard_normal(shape), 0, 1)
  assert metrics.ssim(a, b) == pytest.approx(_skimage_ssim(a, b, 1.0), abs=1e-4)


def test_ssim_matches_skimage_structured_float32_and_uint8():
  yy, xx = np.mgrid[0:48, 0:64] / 64.0
  a = np.stack([xx, yy, 0.5 * (xx + yy)], -1).astype(np.float32)
  b = np.clip(a ** 1.7 + 0.02 * np.sin(40 * xx)[..., None], 0, 1).astype(np.float32)
  assert metrics.ssim(a, b) == pytest.approx(_skimage_ssim(a.astype(np.float64), b.astype(np.float64), 1.0),
                                             abs=1e-4)
  a8 = (a * 255).round().astype(np.uint8)
  b8 = (b * 255).round().astype(np.uint8)
  assert metrics.ssim(a8, b8, data_range=255) == pytest.approx(_skimage_ssim(a8, b8, 255), abs=1e-4)


def test_ssim_identity_and_errors():
  a = np.random.default_rng(0).random((16, 16, 3))
  assert metrics.ssim(a, a) == pytest.approx(1.0, abs=1e-12)
  with pytest.raises(ValueError, match="11x11"):
    metrics.ssim(a[:10], a[:10])
  with pytest.raises(ValueError, match="same shape"):
    metrics.ssim(a, a[:, :15])


def test_gaussian_kernel_is_11_taps_sigma_1_5():
  k = metrics.gaussian_kernel1d()
  assert k.shape == (11,)
  assert k.sum() == pytest.approx(1.0)
  assert k[5] / k[6] == pytest.approx(math.exp(0.5 / 1.5 ** 2))


def test_psnr_hand_values():
  a = np.zeros((8, 8, 3))
  assert metrics.psnr(a, a + 0.1) == pytest.approx(20.0)  # MSE 0.01
  assert metrics.psnr(a, a + 0.05) == pytest.approx(10 * math.log10(1 / 0.0025))
  b = a.copy()
  b[0, 0, 0] = 1.0  # MSE 1/192
  assert metrics.psnr(a, b) == pytest.approx(10 * math.log10(192))
  assert metrics.psnr(np.zeros((4, 4)), np.full((4, 4), 25.5), data_range=255) == pytest.approx(20.0)
  assert metrics.psnr(a, a) == math.inf


def test_pearson():
  rng = np.random.default_rng(1)
  a = rng.random((10, 12, 3))
  assert metrics.pearson(a, 2 * a + 1) == pytest.approx(1.0)
  assert metrics.pearson(a, -a) == pytest.approx(-1.0)
  b = rng.random(a.shape)
  assert metrics.pearson(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
  assert metrics.pearson(np.ones(4), np.ones(4)) == 1.0


def test_to_float():
  assert metrics.to_float(np.array([0, 255], np.uint8)).tolist() == [0.0, 1.0]
  assert metrics.to_float(np.array([65535], np.uint16)).tolist() == [1.0]
  with pytest.raises(TypeError):
    metrics.to_float(np.array([1], np.int32))


def test_cell_means_partial_cells():
  x = np.arange(20 * 18, dtype=np.float64).reshape(20, 18)
  c = imagemath.cell_means(x, 16)
  assert c.shape == (2, 2)
  assert c[0, 0] == pytest.approx(x[:16, :16].mean())
  assert c[1, 1] == pytest.approx(x[16:, 16:].mean())
  assert c[0, 1] == pytest.approx(x[:16, 16:].mean())


def test_exposure_error_matches_l_sec():
  jnp = pytest.importorskip("jax.numpy")
  from cudi_jax.train import losses
  rng = np.random.default_rng(2)
  out = rng.random((37, 45, 3)).astype(np.float32)
  emap = np.where(rng.random((37, 45)) > 0.5, 0.3, 0.7).astype(np.float32)
  want = float(losses.exposure_control_loss(jnp.asarray(out[None]), jnp.asarray(emap[None, ..., None])))
  assert metrics.exposure_error(out, emap) == pytest.approx(want, rel=1e-5)
  np.testing.assert_allclose(imagemath.cell_means(out, 16),
                             np.asarray(losses.cell_means(jnp.asarray(out[None]), 16))[0], rtol=1e-5)


def test_exposure_error_zero_for_grey_output():
  emap = np.full((33, 50), 0.4)
  grey = np.repeat(emap[..., None], 3, -1)
  assert metrics.exposure_error(grey, emap) == pytest.approx(0.0, abs=1e-12)
  assert metrics.exposure_error(grey, 0.6) == pytest.approx(0.2)


def test_black_lift():
  rng = np.random.default_rng(0)
  image = rng.random((40, 50, 3)) * 0.5
  assert metrics.black_lift(image, image) == 0.0
  # A curve through 0 (two Zero-DCE quadratics with a = 1, slope 4 at 0) lifts the
  # darkest 1% by little; the same mean brightness reached by an offset lifts them by
  # the offset.
  curve = 2 * image - image ** 2
  curve = 2 * curve - curve ** 2
  offset = image + (curve.mean() - image.mean())
  assert offset.mean() == pytest.approx(curve.mean())
  assert metrics.black_lift(offset, image) == pytest.approx(curve.mean() - image.mean())
  assert metrics.black_lift(curve, image) < 0.5 * metrics.black_lift(offset, image)
  # Worked example: percentiles of the RGB mean.
  dark = np.zeros((10, 10, 3))
  dark[0, :] = 0.9  # 10% of the pixels bright; the 1st percentile is 0
  assert metrics.black_lift(dark + 0.2, dark) == pytest.approx(0.2)
  assert metrics.black_lift(dark, dark + 0.2) == pytest.approx(-0.2)


def test_exposure_floor():
  # a mid-grey photo: any target is reachable
  assert metrics.exposure_floor(np.full((32, 32, 3), 0.3), 0.7) == 0.0
  # left half black, right half white, 16x16 cells: black cells stay at 0, white at 1
  img = np.zeros((32, 64, 3))
  img[:, 32:] = 1.0
  assert metrics.exposure_floor(img, 0.4) == pytest.approx(0.5 * 0.4 + 0.5 * 0.6)
  # one black channel in every pixel of a cell caps it at 2/3; values within half a
  # code value of 0 count as black
  img = np.full((16, 16, 3), 0.5)
  img[..., 2] = 0.001
  assert metrics.exposure_floor(img, 0.8) == pytest.approx(0.8 - 2 / 3)
  assert metrics.exposure_floor(img, 0.6) == 0.0
  # a map: per-cell targets; a partial white cell (a quarter of its pixels) floors at 1/4
  img = np.full((16, 32, 3), 0.5)
  img[:8, 16:24] = 1.0
  emap = np.zeros((16, 32))
  emap[:, 16:] = 0.1
  assert metrics.exposure_floor(img, emap) == pytest.approx(0.5 * (0.25 - 0.1))
  # never above the error of leaving the photo as it is
  rng = np.random.default_rng(0)
  photo = rng.choice([0.0, 0.2, 1.0], size=(48, 48, 3))
  for e in (0.2, 0.5, 0.8):
    assert metrics.exposure_floor(photo, e) <= metrics.exposure_error(photo, e) + 1e-12


def test_region_exposure():
  h, w = 32, 64
  emap = np.full((h, w), 0.3)
  emap[:, 32:] = 0.7
  out = np.repeat(emap[..., None], 3, -1).copy()
  out[:, 32:] -= 0.1  # right half reaches 0.6 instead of 0.7
  mask = np.zeros((h, w), bool)
  mask[:, 32:] = True
  right = metrics.region_exposure(out, emap, mask)
  assert right["target"] == pytest.approx(0.7)
  assert right["mean"] == pytest.approx(0.6)
  assert right["abs_error"] == pytest.approx(0.1)
  assert right["cell_error"] == pytest.approx(0.1)
  assert right["cells"] == 4 and right["pixels"] == 32 * 32
  left = metrics.region_exposure(out, emap, ~mask)
  assert left["abs_error"] == pytest.approx(0.0, abs=1e-12)
  tiny = np.zeros((h, w), bool)
  tiny[:4, :4] = True
  assert math.isnan(metrics.region_exposure(out, emap, tiny)["cell_error"])


def test_blue_green_shift():
  grey = np.full((4, 5, 3), 0.4)
  bluish = grey * np.array([1.0, 1.0, 1.2])
  assert metrics.blue_green_shift(grey, grey) == pytest.approx(1.0)
  assert metrics.blue_green_shift(bluish, grey) == pytest.approx((0.481) / (0.401), rel=1e-9)
  assert metrics.blue_green_shift(grey, bluish) < 1
  # A cast the reference has too is no shift.
  assert metrics.blue_green_shift(bluish, bluish) == pytest.approx(1.0)
