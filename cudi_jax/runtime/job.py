"""One image for the engine: its input rows, the exposure it is given, and where the
results go (:class:`Job`); the engine (:mod:`cudi_jax.runtime.engine`) calls
:meth:`Job.downsample` for the network's input and :meth:`Job.apply` for the output."""
import numpy as np

from cudi_jax import imagemath
from cudi_jax import student_math
from cudi_jax.exposure import values

_LUMA = imagemath.LUMA_BT601


def integer_max(dtype):
  """Full-scale value of a supported integer dtype (uint8 -> 255, uint16 -> 65535)."""
  return float(np.iinfo(dtype).max)


class Job:
  """One image to process: its input rows, exposure and output targets.

  rgb: (H, W, 3) array view (any strides) or, with ``gray=True``, (H, W);
  dtype uint8, uint16 or float (float values are taken as [0, 1]).
  exposure: a fed value (:mod:`cudi_jax.exposure.values`): Constant, LumaLinear (formed
  from each cell's mean colour) or CellMap; a PixelMap is reduced to its CellMap first
  (:func:`cudi_jax.exposure.values.cells_from_map`, the same arithmetic); a Tempered
  one of these sets :attr:`tempered`, which the full-resolution stage applies.
  out: an array like ``rgb`` (same dtype, any strides) to receive the enhanced image,
  or None; maps: a pair of (H, W, 3) float32 arrays to receive K and B, or None;
  color: 'natural' or 'network' (:func:`cudi_jax.student_math.natural_color`).
  cell_sums: optional exact per-channel 4x4 cell sums of an integer ``rgb``
  (:meth:`cudi_jax.runtime.engine.Engine.cell_sums`): the network's RGB input is then
  formed from them (the same values: the sums are exact either way).
  cell: the size of the cells the network runs on (4, the model's own: what stills
  and the JAX model use; 8 or 16: a coarser grid for large video frames, where the
  per-cell values and ``cell_sums`` are of that size).
  """

  def __init__(self, rgb, exposure, out=None, maps=None, gray=False, color="natural",
               cell_sums=None, cell=4):
    self.rgb = rgb
    self.color = student_math.check_color(color)
    self.gray = gray
    self.cell = student_math.check_cell(cell)
    self.H, self.W = rgb.shape[:2]
    self.h, self.w = values.cell_shape(self.H, self.W, cell)
    self.tempered = None  # (per-cell weights or None, gain, per-cell ceiling or None)
    if isinstance(exposure, values.Tempered):
      per_cell = []
      for name in ("weights", "ceiling"):
        a = getattr(exposure, name)
        if a is not None:
          a = np.asarray(a, np.float32)
          if a.shape != (self.h, self.w):
            raise ValueError(f"tempering {name} of shape {a.shape} for a {self.H}x{self.W} "
                             f"image (expected {(self.h, self.w)})")
          if np.isnan(a).any() or (name == "weights" and not np.isfinite(a).all()):
            raise ValueError(f"tempering {name} must be finite numbers (a ceiling may be inf)")
        per_cell.append(a)
      if not np.isfinite(exposure.gain):
        raise ValueError(f"tempering gain must be finite, got {exposure.gain!r}")
      if isinstance(exposure.fed, values.Tempered):
        raise TypeError("a Tempered value cannot wrap another")
      if any(a is not None for a in per_cell):
        self.tempered = (per_cell[0], np.float32(exposure.gain), per_cell[1])
      exposure = exposure.fed
    if isinstance(exposure, values.PixelMap):
      exposure = values.CellMap(values.cells_from_map(exposure.values, cell=cell))
    if not isinstance(exposure, (values.Constant, values.LumaLinear, values.CellMap)):
      raise TypeError(f"a Job takes a fed exposure value, got {exposure!r}")
    if isinstance(exposure, values.CellMap) and exposure.cells.shape != (self.h, self.w):
      raise ValueError(f"cell map of shape {exposure.cells.shape} for a {self.H}x{self.W} "
                       f"image (expected {(self.h, self.w)})")
    self.exposure = exposure
    self.out = out
    self.maps = maps
    self.channels_in = 1 if gray else 3
    if np.issubdtype(rgb.dtype, np.integer):
      self.maxval = integer_max(rgb.dtype)
    else:
      self.maxval = 1.0
    # Integer RGB to an integer image: fold the scale and the rounding offset into B.
    self.fast_int = (out is not None and maps is None and not gray
                     and np.issubdtype(rgb.dtype, np.integer))
    if self.fast_int:
      self.b_scale, self.b_offset = self.maxval, 0.5
    else:
      self.b_scale, self.b_offset = 1.0, 0.0
    self.in_scale = np.float32(1.0 / (cell * cell * self.maxval))
    if cell_sums is not None:
      if gray or not np.issubdtype(rgb.dtype, np.integer):
        raise ValueError("cell_sums are for integer RGB images")
      if cell_sums.shape != (self.h, self.w, 3):
        raise ValueError(f"cell_sums of shape {cell_sums.shape} for a {self.H}x{self.W} image")
    self.cell_sums = cell_sums

  def _rows(self, array, y0, y1):
    """Full-res rows [y0, y1) with rows past the bottom replicated (edge padding)."""
    if y1 <= self.H:
      return array[y0:y1]
    idx = np.minimum(np.arange(y0, y1), self.H - 1)
    return array[idx]

  def downsample(self, s, e_row, xv, sc):
    """4x4 (cell) means of rows [4s, 4e) into xv: (4, e - s, w) channels R, G, B, E."""
    n, W, w = e_row - s, self.W, self.w
    c_in = self.channels_in
    if self.cell_sums is not None:
      # Exact integer sums (below 2**24): as float32 they equal the float32 sums below.
      for c in range(3):
        np.multiply(self.cell_sums[s:e_row, :, c], self.in_scale, out=xv[c], dtype=np.float32)
      self._exposure_input(s, e_row, xv, sc)
      return
    f = self.cell
    r = sc.rsum[:n]
    rows = self._rows(self.rgb, f * s, f * e_row)
    blk = rows.reshape((n, f, W, c_in))
    rv = r[:, :W]
    np.add(blk[:, 0], blk[:, 1], out=rv, dtype=np.float32)
    for i in range(2, f):
      np.add(rv, blk[:, i], out=rv, dtype=np.float32)
    if f * w > W:
      r[:, W:] = r[:, W - 1:W]
    for c in range(c_in):
      dst = xv[c]
      np.add(r[:, 0::f, c], r[:, 1::f, c], out=dst)
      for i in range(2, f):
        np.add(dst, r[:, i::f, c], out=dst)
      np.multiply(dst, self.in_scale, out=dst)
    if self.gray:
      xv[1] = xv[0]
      xv[2] = xv[0]
    self._exposure_input(s, e_row, xv, sc)

  def _exposure_input(self, s, e_row, xv, sc):
    """The exposure channel E of low-res rows [s, e_row) into xv[3]."""
    n, w = e_row - s, self.w
    e = self.exposure
    if isinstance(e, values.Constant):
      xv[3] = e.value
    elif isinstance(e, values.LumaLinear):
      np.multiply(xv[0], np.float32(_LUMA[0]), out=xv[3])
      t = sc.job_scratch.get("luma")
      if t is None or t.shape[1] < w or t.shape[0] < n:
        t = sc.job_scratch["luma"] = np.empty((max(n, sc.ds_rows), w), np.float32)
      t = t[:n, :w]
      np.multiply(xv[1], np.float32(_LUMA[1]), out=t)
      np.add(xv[3], t, out=xv[3])
      np.multiply(xv[2], np.float32(_LUMA[2]), out=t)
      np.add(xv[3], t, out=xv[3])
      np.multiply(xv[3], np.float32(-e.beta), out=xv[3])
      np.add(xv[3], np.float32(e.alpha), out=xv[3])
    else:
      xv[3] = e.cells[s:e_row]

  def apply(self, y0, y1, k, b, sc):
    """Writes rows [y0, y1): k, b are (n, W, 3) float32 views (scratch, may be modified)."""
    if self.maps is not None:
      self.maps[0][y0:y1] = k
      self.maps[1][y0:y1] = b
      if self.out is None:
        return
    src = self.rgb[y0:y1]
    dst = self.out[y0:y1]
    if self.fast_int:
      np.multiply(k, src, out=k)
      np.add(k, b, out=k)
      np.clip(k, 0.0, self.maxval, out=k)
      np.copyto(dst, k, casting="unsafe")
      return
    if self.gray:
      g = src.astype(np.float32)
      if self.maxval != 1.0:
        g *= np.float32(1.0 / self.maxval)
      np.multiply(k, g[..., None], out=k)
    elif src.dtype == np.float32:
      np.multiply(k, src, out=k)
    elif np.issubdtype(src.dtype, np.integer):
      np.multiply(k, src, out=k)
      np.multiply(k, np.float32(1.0 / self.maxval), out=k)
    else:
      np.multiply(k, src.astype(np.float32), out=k)
    np.add(k, b, out=k)
    np.clip(k, 0.0, 1.0, out=k)
    if self.gray:
      v = k[..., 0] + k[..., 1]
      v += k[..., 2]
      v *= np.float32(1.0 / 3.0)
      k = v
    if np.issubdtype(dst.dtype, np.integer):
      k *= np.float32(self.maxval)
      k += np.float32(0.5)
      np.floor(k, out=k)
      np.clip(k, 0.0, self.maxval, out=k)
    np.copyto(dst, k, casting="unsafe")
