"""The engine's full-resolution stage: a band's K and B from the network's raw output
(checked for overflow, natural colour applied, tempered), upsampled x4 (x the job's cell
size: horizontally by one small matmul per row, vertically by one per low-res row) and
handed to the job's ``apply``, which forms ``K * I + B`` into the output (see
:mod:`cudi_jax.runtime.engine`)."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from cudi_jax import imagemath
from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.runtime import blas

_LUMA32 = np.asarray(imagemath.LUMA_BT601, np.float32)

def _upsampling_matrices(cell):
  """Bilinear x``cell`` upsampling as matmuls: horizontally (9, 3 * cell), the 3
  neighbours x 3 channels -> ``cell`` phases x 3; vertically (cell, 3), output phases
  from rows (j - 1, j, j + 1)."""
  phases = student_math.upsample_phases(cell)
  horizontal = np.zeros((9, 3 * cell), np.float32)
  vertical = np.zeros((cell, 3), np.float32)
  for p, (w_nb, w_self, off) in enumerate(phases):
    for c in range(3):
      horizontal[(1 + off) * 3 + c, p * 3 + c] = w_nb
      horizontal[3 + c, p * 3 + c] = w_self
    vertical[p, 1 + off] = w_nb
    vertical[p, 1] = w_self
  return horizontal, vertical


#: Cell size -> (horizontal, vertical) upsampling matrices.
_UPSAMPLING = {cell: _upsampling_matrices(cell) for cell in student_math.CELLS}


#: Largest |raw network output| accepted. Trained students give K and B of order 1;
#: beyond this, K * I + B (with the x65535 integer scaling) could overflow float32.
MAX_RAW = 1e20


class NonFiniteResultError(CudiError, ValueError):
  """The network's K or B are NaN, infinite or overflowing (broken weights)."""


def full_res(job, q0, q1, a0, n_lo, n_hi, sc, out_channels, mnk):
  """The full-resolution stage of one band: the network's raw output of low-res rows
  [q0, q1) -> K, B (checked, natural colour, edge-padded) -> upsampled x4 -> the
  job's output rows."""
  h, w, L = job.h, job.w, job.w + 1
  nq = q1 - q0
  base = 1 + L
  co = out_channels
  # K, B of low-res rows q0-1 .. q1 (edge-clamped), edge-padded by one column:
  # (nq + 2, w + 2, 3) each. Rows r0:r1 of the window exist; a row beyond the image
  # (above its top, below its bottom) is a copy of the edge row.
  r0, r1 = max(q0 - 1, 0) - a0, min(q1 + 1, h) - a0
  top = 1 if q0 == 0 else 0
  raw = sc.out[:, base:base + n_hi * L].reshape(co, n_hi, L)[:, r0:r1, :w]
  # K and B of this band at low resolution: 1/16 of the pixels, so checking them
  # costs little, and bounded K, B keep everything after finite.
  if not (raw.max() <= MAX_RAW and raw.min() >= -MAX_RAW):  # NaN fails the comparisons too
    raise NonFiniteResultError(
        "the model's slope/intercept maps are non-finite (NaN or overflow) for this "
        "image: the weights are broken (retrain or re-export them)")
  sk = sc.sk[:nq + 2]
  sb = sc.sb[:nq + 2]
  # Elementwise work on these (rows, w + 2, 3) arrays goes channel by channel: NumPy's
  # inner loops then run along the rows (a loop over 3 values is several times slower).
  rows = slice(top, top + r1 - r0)
  for c in range(3):
    np.add(raw[c], 1.0, out=sk[rows, 1:w + 1, c])                   # K = 1 + raw[:3]
    np.multiply(raw[3 + c], job.b_scale, out=sb[rows, 1:w + 1, c])  # B = raw[3:] (scaled)
  for m in (sk, sb):
    pad_edges(m, top, q1 == h, w)
  if job.color == "natural":
    natural_color(job, sk, sb, r0, r1, top, q1 == h, n_hi, w, sc)
  if job.tempered is not None:
    temper(job, sk, sb, q0, q1, r0, r1, top, n_hi, w, sc)
  if job.b_offset:  # + the rounding offset
    for c in range(3):
      np.add(sb[..., c], job.b_offset, out=sb[..., c])
  f = job.cell
  horizontal, vertical = _UPSAMPLING[f]
  shk = hupsample(sk, sc.shk[:nq + 2], sc, mnk, horizontal)
  shb = hupsample(sb, sc.shb[:nq + 2], sc, mnk, horizontal)
  wp3 = shk.shape[-1]
  # Vertically, each low-res row's f output rows come from rows j-1, j, j+1:
  # one (f, 3) @ (3, f w * 3) matmul per row, over overlapping views of the rows.
  rs = shk.strides[0]
  vk = as_strided(shk, shape=(nq, 3, wp3), strides=(rs, rs, 4))
  vb = as_strided(shb, shape=(nq, 3, wp3), strides=(rs, rs, 4))
  H = job.H
  step = sc.fr_rows
  for j0 in range(0, nq, step):
    j1 = min(j0 + step, nq)
    nj = j1 - j0
    y0 = f * (q0 + j0)
    y1 = min(f * (q0 + j1), H)
    if y1 <= y0:
      break
    kc = sc.kc[:nj]
    bc = sc.bc[:nj]
    np.matmul(vertical, vk[j0:j1], out=kc)
    np.matmul(vertical, vb[j0:j1], out=bc)
    n = y1 - y0
    k2 = kc.reshape(nj * f, wp3 // 3, 3)[:n, :job.W]
    b2 = bc.reshape(nj * f, wp3 // 3, 3)[:n, :job.W]
    job.apply(y0, y1, k2, b2, sc)

def natural_color(job, sk, sb, r0, r1, top, bottom, n_hi, w, sc):
  """:func:`cudi_jax.student_math.natural_color` in place on the edge-padded
  low-resolution K, B of a band, (rows, w + 2, 3) each, with few temporaries
  (window rows r0:r1 at row ``top``; ``bottom``: the band ends the image)."""
  L = w + 1
  base = 1 + L
  x = sc.x[:3, base:base + n_hi * L].reshape(3, n_hi, L)[:, r0:r1, :w]
  luma = sc.luma[:sk.shape[0]]
  inner = luma[top:top + r1 - r0, 1:w + 1]
  np.multiply(x[0], _LUMA32[0], out=inner)
  inner += x[1] * _LUMA32[1]
  inner += x[2] * _LUMA32[2]
  pad_edges(luma, top, bottom, w)
  kbar = np.matmul(sk, _LUMA32)
  bbar = np.matmul(sb, _LUMA32)
  gain = student_math.cell_gain(kbar, bbar, luma, np, scale=np.float32(job.b_scale))
  u = student_math.network_weight(gain, np)
  # The shared intercept in each cell's own colour: student_math.lift_colour's
  # arithmetic, channel by channel with out=, on the filled columns, then edge-padded
  # like the maps (it is per cell).
  lift = np.empty(sb.shape, np.float32)
  inv = np.maximum(inner, np.float32(1e-6))
  np.reciprocal(inv, out=inv)
  g = inner + np.float32(student_math.LIFT_COLOUR_TOE)
  np.divide(inner, g, out=g)
  rows = slice(top, top + r1 - r0)
  for c in range(3):
    f = lift[rows, 1:w + 1, c]
    np.multiply(x[c], inv, out=f)
    np.clip(f, 0.0, student_math.LIFT_COLOUR_MAX, out=f)
    f -= 1.0
    f *= g
    f += 1.0
  pad_edges(lift, top, bottom, w)
  for c in range(3):
    mc = sk[..., c]
    np.subtract(mc, kbar, out=mc)
    np.multiply(mc, u, out=mc)
    np.add(mc, kbar, out=mc)
    shared = bbar * lift[..., c]
    mc = sb[..., c]
    np.subtract(mc, shared, out=mc)
    np.multiply(mc, u, out=mc)
    np.add(mc, shared, out=mc)

def temper(job, sk, sb, q0, q1, r0, r1, top, n_hi, w, sc):
  """:func:`cudi_jax.student_math.temper` in place on the edge-padded low-resolution K,
  B of low-res rows q0-1 .. q1 (edge-clamped), (q1 - q0 + 2, w + 2, 3) each (window
  rows r0:r1 of the input's cell means at row ``top``)."""
  weights, gain, ceiling = job.tempered
  h = job.h
  rows = np.clip(np.arange(q0 - 1, q1 + 1), 0, h - 1)
  cols = np.clip(np.arange(-1, w + 1), 0, w - 1)
  if weights is not None:
    wt = weights[rows[:, None], cols[None, :]]
    for c in range(3):
      mk = sk[..., c]
      np.subtract(mk, gain, out=mk)
      np.multiply(mk, wt, out=mk)
      np.add(mk, gain, out=mk)
      np.multiply(sb[..., c], wt, out=sb[..., c])
  if ceiling is None:
    return
  cap = ceiling[rows[:, None], cols[None, :]]
  # The cells' mean colour (the network's input), edge-padded like K and B, and the
  # brightness of each cell in and out (channel by channel: NumPy's inner loops then
  # run along the rows).
  L = w + 1
  base = 1 + L
  x = sc.x[:3, base:base + n_hi * L].reshape(3, n_hi, L)[:, r0:r1, :w]
  given = np.zeros(sk.shape[:2], np.float32)
  made = np.zeros(sk.shape[:2], np.float32)
  cell = np.empty(sk.shape[:2], np.float32)
  inv = np.float32(1.0 / job.b_scale)
  for c in range(3):
    cell[top:top + r1 - r0, 1:w + 1] = x[c]
    pad_edges(cell, top, q1 == h, w)
    given += cell
    cell *= sk[..., c]
    made += cell
    made += sb[..., c] * inv
  excess = made - given
  excess *= np.float32(1.0 / 3.0)
  given *= np.float32(1.0 / 3.0)
  # v = (cap - given) / excess where the cell comes out above its cap, else 1.
  v = np.subtract(cap, given)
  over = (given + excess > cap) & (excess > 0)
  if not over.any():
    return
  np.divide(v, excess, out=v, where=over)
  v[~over] = 1.0
  np.clip(v, 0.0, 1.0, out=v)
  for c in range(3):
    mk = sk[..., c]
    np.subtract(mk, 1.0, out=mk)
    np.multiply(mk, v, out=mk)
    np.add(mk, 1.0, out=mk)
    np.multiply(sb[..., c], v, out=sb[..., c])


def hupsample(low, out, sc, mnk, horizontal=_UPSAMPLING[4][0]):
  """(rows, w + 2, 3) edge-padded low-res rows -> (rows, f w * 3) bilinear xf along
  width (f = 4, or the cell size ``horizontal`` is for).

  One (w, 9) @ (9, 3f) matmul per row: the 3 neighbours' RGB -> f phases' RGB.
  """
  rows, wp2, _ = low.shape
  w = wp2 - 2
  cols = as_strided(low, shape=(rows, w, 9), strides=(low.strides[0], 12, 4))
  t = sc.im2col[:rows * w].reshape(rows, w, 9)
  np.copyto(t, cols)
  n = horizontal.shape[1]
  o = out.reshape(rows, w, n)
  step = blas.matmul_cols(n, 9, mnk, cap=w)
  for c0 in range(0, w, step):
    c1 = min(c0 + step, w)
    np.matmul(t[:, c0:c1], horizontal, out=o[:, c0:c1])
  return out


def pad_edges(m, top, bottom, w):
  """Edge padding of a band's low-res (rows, w + 2, ...) array whose columns 1..w are
  filled: the side columns, and the first/last row where the band starts/ends the image."""
  if top:
    m[0, 1:w + 1] = m[1, 1:w + 1]
  if bottom:
    m[-1, 1:w + 1] = m[-2, 1:w + 1]
  m[:, 0] = m[:, 1]
  m[:, w + 1] = m[:, w]
