"""Image arithmetic shared by training, evaluation and the runtime (NumPy, or
``jax.numpy`` where an ``xp`` argument is taken). Nothing here imports the rest of
the package, so every layer may use it.

Words: *luma* is a weighted sum of the gamma-encoded R, G, B (BT.601 weights unless
a name says BT.709); *brightness* is their plain mean, which the exposure map E and
the exposure loss refer to.
"""
import numpy as np

#: BT.601 luma weights: the runtime's, the adaptive map's and the colour modes'.
LUMA_BT601 = (0.299, 0.587, 0.114)
#: BT.709 luma weights: the paired evaluation's gain baseline and dynamic range use them,
#: as the data's published numbers do.
LUMA_BT709 = (0.2126, 0.7152, 0.0722)


def luma(image, weights=LUMA_BT601):
  """Luma of an (..., 3) image -> (...) float32 (NumPy)."""
  image = np.asarray(image, np.float32)
  return image[..., 0] * weights[0] + image[..., 1] * weights[1] + image[..., 2] * weights[2]


def brightness(image):
  """Brightness of an (..., 3) image: the mean over R, G, B, float64 (NumPy)."""
  return np.asarray(image, np.float64).mean(axis=-1)


def cell_means(x, cell=16, xp=np):
  """Means over non-overlapping ``cell x cell`` regions of the (H, W) axes of an
  (H, W), (H, W, C) or (..., H, W, C) array.

  Partial cells at the bottom/right border are averaged over the pixels they
  contain; this one definition serves the metrics (NumPy, float64) and the
  training losses (``xp=jax.numpy``, the input's dtype).
  Returns (..., ceil(H/cell), ceil(W/cell)[, C]).
  """
  if xp is np:
    x = np.asarray(x, np.float64)
  squeeze = x.ndim == 2
  if squeeze:
    x = x[..., None]
  *lead, h, w, c = x.shape
  hc, wc = -(-h // cell), -(-w // cell)
  pad = ((0, hc * cell - h), (0, wc * cell - w), (0, 0))
  sums = xp.pad(x, ((0, 0),) * len(lead) + pad)
  sums = sums.reshape(tuple(lead) + (hc, cell, wc, cell, c)).sum(axis=(-4, -2))
  counts = xp.pad(xp.ones((h, w, 1), x.dtype), pad).reshape(hc, cell, wc, cell, 1).sum(axis=(1, 3))
  out = sums / counts
  return out[..., 0] if squeeze else out


def bisect_increasing(fn, goal, lo, hi, iterations):
  """The x in [lo, hi] where the increasing ``fn`` reaches ``goal``, by ``iterations``
  halvings; returns the last (lo, hi) bracket."""
  for _ in range(iterations):
    mid = 0.5 * (lo + hi)
    if fn(mid) < goal:
      lo = mid
    else:
      hi = mid
  return lo, hi


def equal_count_bins(values, bins):
  """Index arrays splitting ``values`` into at most ``bins`` groups of equal count,
  in increasing order of value."""
  order = np.argsort(np.asarray(values), kind="stable")
  return np.array_split(order, min(bins, len(order)))
