"""Banded, multi-threaded statistics of a prepared image: what resolving an exposure
setting asks of a photo (:class:`Stats`, the interface of
:class:`cudi_jax.exposure.resolve.ImageStats`), each computed once."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import resolve


class Stats:
  """Statistics of a :class:`cudi_jax.runtime.prepared.Prepared` image, computed in
  row bands on ``threads`` threads, each at most once."""

  def __init__(self, prepared, threads):
    self.prepared = prepared
    self.threads = threads
    self._cells = None
    self._noise = None

  def luma_range(self):
    return _luma_range(self.prepared, self.threads)

  def cell_brightness(self):
    if self._cells is None:
      self._cells = _cell_brightness(self.prepared, self.threads)
    return self._cells

  def cell_luma(self):
    return _cell_brightness(self.prepared, self.threads, weights=imagemath.LUMA_BT601)

  def dark_noise(self):
    if self._noise is None:
      self._noise = dark_noise(self.prepared, self.cell_brightness())
    return self._noise


def _row_bands(n_rows, threads, target_rows=256):
  step = max(16, min(target_rows, -(-n_rows // max(1, threads))))
  return [(r, min(r + step, n_rows)) for r in range(0, n_rows, step)]


def _parallel(fn, bands, threads):
  if threads <= 1 or len(bands) == 1:
    return [fn(b) for b in bands]
  with ThreadPoolExecutor(max_workers=min(threads, len(bands))) as pool:
    return list(pool.map(fn, bands))


def _cell_brightness(prepared, threads, weights=None):
  """Mean RGB brightness of each 4x4 cell, edge-padded at the bottom/right as the
  student pads: (ceil(H/4), ceil(W/4)) float32, in bands of whole cells. With
  ``weights`` (R, G, B), the cells' mean luma with those weights instead."""
  color = prepared.color
  h, w = prepared.shape2
  hq, wq = -(-h // 4), -(-w // 4)
  out = np.empty((hq, wq), np.float32)
  channels = 1 if prepared.gray else 3
  if weights is not None:
    scale = np.float32(1.0 / (16.0 * prepared.maxval))
    mix = (np.asarray(weights, np.float32) if channels == 3
           else np.asarray([sum(weights)], np.float32))
  else:
    scale = np.float32(1.0 / (16.0 * channels * prepared.maxval))

  # Exact integer sums where the input is integer (4 rows of uint8 fit uint16).
  row_type = {np.dtype(np.uint8): np.uint16, np.dtype(np.uint16): np.uint32}.get(
      color.dtype, np.float32)
  cell_type = np.uint32 if row_type != np.float32 else np.float32

  def cells(band):
    q0, q1 = band
    rows = color[4 * q0:min(4 * q1, h)]
    if 4 * q1 > h:  # replicate the last row
      rows = np.concatenate([rows, np.repeat(rows[-1:], 4 * q1 - h, axis=0)], axis=0)
    acc = np.add.reduce(rows.reshape((q1 - q0, 4) + rows.shape[1:]), axis=1, dtype=row_type)
    if 4 * wq > w:  # replicate the last column
      acc = np.concatenate([acc, np.repeat(acc[:, -1:], 4 * wq - w, axis=1)], axis=1)
    if weights is not None:
      acc = np.add.reduce(acc.reshape((q1 - q0, wq, 4, channels)), axis=2, dtype=cell_type)
      out[q0:q1] = (acc.astype(np.float32) @ mix) * scale
      return
    acc = acc.reshape((q1 - q0, wq, -1))  # the 4 columns (x channels) of each cell
    out[q0:q1] = np.add.reduce(acc, axis=-1, dtype=cell_type) * scale

  _parallel(cells, _row_bands(hq, threads, target_rows=64), threads)
  return out


def _luma_band(prepared, r0, r1):
  """BT.601 luma of rows [r0, r1), exactly as :func:`cudi_jax.imagemath.luma` of the float image."""
  rows = prepared.color[r0:r1]
  scale = np.float32(prepared.maxval)

  def channel(c):
    v = rows if prepared.gray else rows[..., c]
    v = v.astype(np.float32)
    if prepared.maxval != 1.0:
      v /= scale
    return v

  y = channel(0) * np.float32(imagemath.LUMA_BT601[0])
  y += channel(1) * np.float32(imagemath.LUMA_BT601[1])
  y += channel(2) * np.float32(imagemath.LUMA_BT601[2])
  return y


def _luma_range(prepared, threads):
  def minmax(band):
    y = _luma_band(prepared, *band)
    return float(y.min()), float(y.max())

  results = _parallel(minmax, _row_bands(prepared.shape2[0], threads), threads)
  return min(r[0] for r in results), max(r[1] for r in results)


def dark_noise(prepared, cells):
  """:meth:`cudi_jax.exposure.resolve.ImageStats.dark_noise` from the photo's own
  values (exact integer sums for integer images), reading the same rows (a few
  percent of a large photo, so in one thread); ``cells``: the photo's 4x4 cell
  brightness (or any array covering its (H // 4, W // 4) grid)."""
  h, w = prepared.shape2
  hq, wq = h // 4, w // 4
  dark = cells[:hq, :wq] < resolve.DARK_CELL
  rows = resolve.noise_rows(dark)
  if rows is None:
    return 0.0
  color = prepared.color
  channels = 1 if prepared.gray else 3
  # uint8: a pixel's channel sum fits uint16, 16 squared sums uint32; uint16 needs 64 bits
  pixel_type, square_type = {np.dtype(np.uint8): (np.uint16, np.uint32),
                             np.dtype(np.uint16): (np.uint32, np.uint64)}.get(
                                 color.dtype, (np.float64, np.float64))
  pixels = color[(4 * rows[:, None] + np.arange(4)).ravel(), :4 * wq]
  if channels == 1:
    v = pixels.astype(pixel_type)
  else:
    v = pixels[..., 0].astype(pixel_type)
    v += pixels[..., 1]
    v += pixels[..., 2]
  v = v.reshape(len(rows), 4, wq, 4)
  s1 = v.sum(axis=(1, 3), dtype=square_type).astype(np.float64)
  v = v.astype(square_type)
  v *= v
  s2 = v.sum(axis=(1, 3), dtype=square_type).astype(np.float64)
  std = np.sqrt(np.maximum(16.0 * s2 - s1 * s1, 0.0)) / (16.0 * channels * prepared.maxval)
  return float(np.median(std[dark[rows]]))
