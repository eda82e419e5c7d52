"""Image-quality and exposure-control metrics (NumPy only).

* :func:`psnr` and :func:`ssim` (Wang et al. 2004: Gaussian window 11, sigma 1.5,
  K1 = 0.01, K2 = 0.03, population covariance, per channel then averaged). The
  SSIM map is computed in "valid" mode (only windows that lie fully inside the
  image), which is exactly what ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` averages after
  cropping its filter radius from the border.
* :func:`pearson`: correlation of two outputs over all pixels and channels.
* :func:`cudi_jax.imagemath.cell_means` / :func:`exposure_error`: the L_sec definition of local
  brightness (RGB mean, non-overlapping 16x16 cells, partial border cells
  averaged over their valid pixels) used to measure exposure control.

Images are float arrays in [0, 1] unless ``data_range`` says otherwise; integer
arrays are accepted and scaled with :func:`to_float`.
"""
import numpy as np

from cudi_jax import imagemath

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # radius int(3.5 * 1.5 + 0.5) = 5 -> an 11-tap window
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def to_float(image):
  """uint8 / uint16 / bool -> float32 in [0, 1]; floats are returned as float32 unchanged."""
  image = np.asarray(image)
  if image.dtype == np.uint8:
    return image.astype(np.float32) / 255.0
  if image.dtype == np.uint16:
    return image.astype(np.float32) / 65535.0
  if image.dtype == bool:
    return image.astype(np.float32)
  if np.issubdtype(image.dtype, np.integer):
    raise TypeError(f"unsupported integer image dtype {image.dtype} (use uint8 or uint16)")
  return image.astype(np.float32, copy=False)


def _pair(a, b):
  a, b = np.asarray(a), np.asarray(b)
  if a.shape != b.shape:
    raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
  return a, b


def mse(a, b):
  a, b = _pair(a, b)
  d = a.astype(np.float64) - b.astype(np.float64)
  return float(np.mean(d * d))


def psnr(a, b, data_range=1.0):
  """Peak signal-to-noise ratio in dB, 10 log10(data_range^2 / MSE); inf for identical images."""
  err = mse(a, b)
  if err == 0.0:
    return float("inf")
  return float(10.0 * np.log10(float(data_range) ** 2 / err))


def gaussian_kernel1d(sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE):
  """The normalised 1-D Gaussian of ``scipy.ndimage.gaussian_filter`` (radius int(truncate*sigma+0.5))."""
  radius = int(truncate * sigma + 0.5)
  x = np.arange(-radius, radius + 1, dtype=np.float64)
  k = np.exp(-0.5 * (x / sigma) ** 2)
  return k / k.sum()


def _filter_valid_axis(x, kernel, axis):
  """Correlation of ``x`` with a 1-D kernel along ``axis`` keeping only fully covered positions."""
  n = x.shape[axis] - len(kernel) + 1
  out = None
  for i, w in enumerate(kernel):
    part = _slice(x, axis, i, i + n)
    out = w * part if out is None else out + w * part
  return out


def _slice(x, axis, start, stop):
  index = [slice(None)] * x.ndim
  index[axis] = slice(start, stop)
  return x[tuple(index)]


def gaussian_filter_valid(x, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE):
  """Separable Gaussian filter of a 2-D array, 'valid' mode: (H - 2r, W - 2r)."""
  k = gaussian_kernel1d(sigma, truncate)
  return _filter_valid_axis(_filter_valid_axis(x, k, 0), k, 1)


def ssim_map(a, b, data_range=1.0, sigma=SSIM_SIGMA, k1=SSIM_K1, k2=SSIM_K2):
  """SSIM map of two 2-D (single-channel) arrays over the valid region, float64."""
  a, b = _pair(a, b)
  if a.ndim != 2:
    raise ValueError(f"ssim_map takes 2-D arrays, got shape {a.shape}")
  radius = int(SSIM_TRUNCATE * sigma + 0.5)
  win = 2 * radius + 1
  if min(a.shape) < win:
    raise ValueError(f"SSIM needs images of at least {win}x{win} pixels, got {a.shape}")
  x = a.astype(np.float64)
  y = b.astype(np.float64)
  f = lambda z: gaussian_filter_valid(z, sigma)
  ux, uy = f(x), f(y)
  vx = f(x * x) - ux * ux
  vy = f(y * y) - uy * uy
  vxy = f(x * y) - ux * uy
  c1 = (k1 * data_range) ** 2
  c2 = (k2 * data_range) ** 2
  num = (2.0 * ux * uy + c1) * (2.0 * vxy + c2)
  den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
  return num / den


def ssim(a, b, data_range=1.0, sigma=SSIM_SIGMA):
  """Mean SSIM of two (H, W) or (H, W, C) images; colour images: mean over channels.

  Matches ``skimage.metrics.structural_similarity(a, b, gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False, data_range=data_range, channel_axis=-1)``.
  Images must be at least 11x11.
  """
  a, b = _pair(a, b)
  if a.ndim == 2:
    return float(ssim_map(a, b, data_range, sigma).mean())
  if a.ndim != 3:
    raise ValueError(f"expected (H, W) or (H, W, C) images, got shape {a.shape}")
  return float(np.mean([ssim_map(a[..., c], b[..., c], data_range, sigma).mean()
                        for c in range(a.shape[-1])]))


def pearson(a, b):
  """Pearson correlation of all values of two arrays (1.0 if both are constant and equal)."""
  a, b = _pair(a, b)
  x = a.astype(np.float64).ravel()
  y = b.astype(np.float64).ravel()
  x = x - x.mean()
  y = y - y.mean()
  den = np.sqrt(np.dot(x, x) * np.dot(y, y))
  if den == 0.0:
    return 1.0 if np.array_equal(a, b) else float("nan")
  return float(np.dot(x, y) / den)


def blue_green_shift(output, reference, eps=1e-3):
  """How much bluer than ``reference`` an image is: (mean B / mean G of ``output``) over
  (mean B / mean G of ``reference``); 1 = no shift, above 1 = a blue/lavender cast.
  output, reference: (H, W, 3) in [0, 1]."""
  def ratio(x):
    x = np.asarray(x, np.float64)
    return (x[..., 2].mean() + eps) / (x[..., 1].mean() + eps)
  return float(ratio(output) / ratio(reference))


def exposure_error(output, exposure_map, cell=16):
  """L_sec as a metric: mean over ``cell x cell`` regions of |mean(R) - mean(E)|, R averaged over RGB.

  output: (H, W, 3) in [0, 1]; exposure_map: (H, W) or a number.
  """
  y = imagemath.brightness(output)
  e = np.broadcast_to(np.asarray(exposure_map, np.float64), y.shape)
  return float(np.mean(np.abs(imagemath.cell_means(y, cell) - imagemath.cell_means(e, cell))))


def black_lift(output, image, percentile=1.0):
  """How far an enhancement lifts the darkest values: the ``percentile``-th percentile
  of the output's brightness minus the input's (:func:`brightness`, mean over RGB).

  A tone curve through 0 keeps it near 0 however much it brightens; a model that
  reaches a target brightness by adding an offset (a grey haze over black regions)
  shows it here, while the cell error (:func:`exposure_error`) rewards it.
  output, image: (H, W, 3) in [0, 1].
  """
  out = np.percentile(imagemath.brightness(output), percentile)
  ref = np.percentile(imagemath.brightness(image), percentile)
  return float(out - ref)


def exposure_floor(image, exposure_map, cell=16, tol=0.5 / 255.0):
  """The smallest L_sec error (:func:`exposure_error`) that any per-pixel tone curve
  through 0 and 1 can reach on ``image``: such curves (the teacher's iterated
  quadratics among them) keep black channel values (<= ``tol``) at 0 and white ones
  (>= 1 - ``tol``) at 1 and can move every other value anywhere in (0, 1). A cell's
  brightness can thus reach [fraction of white values, 1 - fraction of black
  values]; the floor is the mean distance of each cell's target from that interval.

  image: (H, W, 3) input in [0, 1]; exposure_map: (H, W) or a number.
  """
  x = np.asarray(image, np.float64)
  low = imagemath.cell_means((x >= 1.0 - tol).mean(axis=-1), cell)
  high = 1.0 - imagemath.cell_means((x <= tol).mean(axis=-1), cell)
  e = imagemath.cell_means(np.broadcast_to(np.asarray(exposure_map, np.float64), x.shape[:2]), cell)
  return float(np.mean(np.maximum(low - e, 0.0) + np.maximum(e - high, 0.0)))


def region_exposure(output, exposure_map, mask, cell=16):
  """Exposure-control statistics inside one region (a boolean (H, W) mask).

  Returns a dict: ``target`` (mean of E in the region), ``mean`` (mean RGB
  brightness of the output over the region's pixels), ``abs_error`` =
  |mean - target|, ``cell_error`` (the L_sec error over the cells lying fully
  inside the region; NaN when no cell does), ``cells`` (their count) and
  ``pixels`` (the region's size).
  """
  y = imagemath.brightness(output)
  e = np.broadcast_to(np.asarray(exposure_map, np.float64), y.shape)
  mask = np.asarray(mask, bool)
  if mask.shape != y.shape:
    raise ValueError(f"mask shape {mask.shape} does not match the image {y.shape}")
  pixels = int(mask.sum())
  if pixels == 0:
    nan = float("nan")
    return {"target": nan, "mean": nan, "abs_error": nan, "cell_error": nan, "cells": 0, "pixels": 0}
  target = float(e[mask].mean())
  mean = float(y[mask].mean())
  full = imagemath.cell_means(mask.astype(np.float64), cell) >= 1.0
  # Border cells that are partial but entirely inside the mask count as inside too.
  cells = int(full.sum())
  if cells:
    cell_error = float(np.abs(imagemath.cell_means(y, cell) - imagemath.cell_means(e, cell))[full].mean())
  else:
    cell_error = float("nan")
  return {"target": target, "mean": mean, "abs_error": abs(mean - target),
          "cell_error": cell_error, "cells": cells, "pixels": pixels}
