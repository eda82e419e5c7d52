"""Fast NumPy student: banded, multi-threaded, float32, bounded memory.

The same mathematics as :mod:`cudi_jax.student_math` (which stays the readable
reference, and is what the JAX model runs), reorganised for speed on a CPU:

* **Row bands.** The image is cut into bands of low-resolution rows. For each band
  the network runs on the band plus a halo of ``HALO = 8`` low-res rows on each side
  (7 for the seven 3x3 layers, 1 for the bilinear upsampling), then the band's
  full-resolution rows (4 per low-res row) are formed and written straight into the
  output. Working memory is set by the band (``band_pixels``), not by the image, so
  any size runs in bounded memory. Bands run on the calling thread and the engine's
  worker threads (NumPy and BLAS release the GIL), each with its own scratch buffers.
  Threads are kept between runs; buffers too when a run asks (``keep_buffers``, video:
  fresh buffers per frame cost page faults and zeroing, and page faults serialise the
  threads), for the latest band geometry (:meth:`Engine.release_memory` drops them).
  A still photo's run frees its buffers, so they do not add to what follows it.
* **Bitwise independent of the banding.** Every pixel goes through the same sequence
  of operations whatever band it falls in: elementwise NumPy operations, and BLAS
  calls of one fixed shape per image row (or, for the depthwise taps, per pair of
  rows, where either row of the pair gets the same 3 products in the same order: the
  tests would show a BLAS that summed otherwise). So the output of any band split,
  thread count or order is identical to whole-image processing (tests check it bit for
  bit, with scratch buffers pre-filled with NaN).
* **Channel-first flat layout.** A band's activations live in ``(C, P)`` float32
  buffers holding rows of ``w + 1`` pixels (one zero column between rows) framed by
  zero guard rows, so a 3x3 tap is a slice at flat offset ``dy*(w+1) + dx`` and zero
  'SAME' padding is free. The depthwise 3x3 is, per column offset, one batched BLAS
  call per two output rows: the banded (2, 4) matrix of the 3 vertical taps times the
  4 input rows, (2, 4) @ (4, w + 1) (BLAS reads the strided rows directly; each output
  is the same 3 products summed in the same order as a (1, 3) @ (3, w + 1) per row,
  the zeros adding nothing), plus two adds; the pointwise 1x1 is one matmul per row
  with the biases folded in (a row of ones). Skip concatenations are free: layer
  outputs are stored in one buffer ordered ``[l4, l3, l5, l2, l6, l1]``. Layers
  advance together a few rows at a time (a wavefront), so rows are still in cache when
  the next layer reads them.
* **Full-resolution stage.** K and B are formed from the network's output channel by
  channel (elementwise work on (rows, w, 3) arrays goes per channel: NumPy's inner
  loops then run along a row, not over 3 values), upsampled horizontally on the
  low-res rows ((w, 9) @ (9, 12) per row: 3 neighbours x RGB -> 4 phases x RGB), then
  vertically ((4, 3) @ (3, 12w) per low-res row), then ``K * I + B`` is formed in
  float32 a few rows at a time. For integer images the scale and the rounding offset
  are folded into B, so the image is never converted to floats as a whole:
  ``out = trunc(clip(K*u + (m*B + 0.5), 0, m))`` with ``m = 255`` or ``65535``, i.e.
  round-half-up of ``clip(K*I + B, 0, 1) * m``.
* **Cell sums.** :meth:`Engine.cell_sums` gives a frame's exact per-channel 4x4 cell
  sums; a :class:`Job` given them forms the network's RGB input from them (the same
  values), so the video path reads each frame once for its cell brightness and input.

BLAS is kept single-threaded while the worker threads run (:mod:`cudi_jax.runtime.blas`).
What one image asks for (its rows, exposure and outputs) is a :class:`cudi_jax.runtime.job.Job`.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cudi_jax import student_math
from cudi_jax.runtime import blas
from cudi_jax.runtime import fullres

NET_HALO = 7
UP_HALO = 1
#: Low-res rows of context each band needs on each side.
HALO = NET_HALO + UP_HALO
#: Low-res rows per depthwise matmul (see :class:`_Layer`).
DW_BLOCK = 2
def default_threads():
  try:
    n = len(os.sched_getaffinity(0))
  except AttributeError:  # pragma: no cover - not Linux
    n = os.cpu_count() or 1
  return max(1, min(int(n), 8))


def _view(buf, start, shape, strides):
  """A float32 view of the C-contiguous ``buf`` starting at flat element ``start``
  (np.ndarray's constructor: several times cheaper than ``as_strided``, and bounds-checked)."""
  return np.ndarray(shape, np.float32, buf, 4 * start, strides)


class _Layer:
  """One depthwise-separable layer prepared for the flat layout."""

  def __init__(self, dw_kernel, dw_bias, pw_kernel, pw_bias, relu):
    dw_kernel = np.asarray(dw_kernel, np.float32)
    pw_kernel = np.asarray(pw_kernel, np.float32)
    self.cin, self.cout = pw_kernel.shape
    self.relu = relu
    # dw bias folded into the pointwise bias: W^T (dw(x) + db) + pb. (Absurd weights
    # may overflow float32 here: the run then refuses the non-finite result.)
    bias = (np.asarray(pw_bias, np.float64)
            + np.asarray(dw_bias, np.float64) @ pw_kernel.astype(np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
      self.bias = bias.astype(np.float32)
    # Per column offset dx: the 3 vertical taps of every channel, (cin, 1, 1, 3).
    self.dw_cols = [np.ascontiguousarray(dw_kernel[:, dx, :].T[:, None, None, :])
                    for dx in range(3)]
    # The same taps for DW_BLOCK rows at once: a banded (DW_BLOCK, DW_BLOCK + 2) matrix
    # per channel whose row i holds the 3 taps at columns i..i+2, (cin, 1, R, R + 2).
    r = DW_BLOCK
    self.dw_blocks = []
    for dx in range(3):
      band = np.zeros((self.cin, 1, r, r + 2), np.float32)
      for i in range(r):
        band[:, 0, i, i:i + 3] = self.dw_cols[dx][:, 0, 0, :]
      self.dw_blocks.append(band)
    # Column 0 carries the bias (the scratch buffer's first row is all ones).
    self.w_aug = np.ascontiguousarray(
        np.concatenate([self.bias[:, None], pw_kernel.T], axis=1), np.float32)


class Engine:
  """The student network as prepared float32 NumPy arrays plus the banded driver.

  params: flat dict of student parameters (see ``student_math.student_param_shapes``).
  threads: worker threads (default: the CPUs available, at most 8).
  band_pixels: low-res pixels per band including its halo (bounds the working memory:
  about 0.6 KB per low-res pixel per thread at 4x4 cells, 0.7 at 8x8, 0.9 at 16x16).
  chunk: flat positions per depthwise step (cache blocking).
  """

  def __init__(self, params, threads=None, band_pixels=196608, chunk=16384):
    self.width = int(np.shape(params["conv1/pw_kernel"])[-1])
    topology = student_math.student_topology(self.width)
    if [src for src, _ in topology] != [("x",), (1,), (2,), (3,), (4, 3), (5, 2), (6, 1)]:
      raise ValueError("unsupported student topology")  # pragma: no cover
    self.out_channels = int(np.shape(params["conv7/pw_kernel"])[-1])
    self.layers = []
    for i in range(1, 8):
      self.layers.append(_Layer(params[f"conv{i}/dw_kernel"], params[f"conv{i}/dw_bias"],
                                params[f"conv{i}/pw_kernel"], params[f"conv{i}/pw_bias"],
                                relu=i < 7))
    self.threads = int(threads) if threads else default_threads()
    self.band_pixels = int(band_pixels)
    self.chunk = int(chunk)
    # Buffer slot (in units of width) of each layer output: [l4, l3, l5, l2, l6, l1].
    self._slot = {4: 0, 3: 1, 5: 2, 2: 3, 6: 4, 1: 5}
    self._mnk = blas.BLAS_MNK
    #: Tests set this to fill every scratch buffer with NaN first, so that reading a
    #: position no band computed shows up in the results.
    self.poison = False
    #: Floats per row-step buffer of the full-resolution stage (cache blocking).
    self.full_res_floats = 24000
    #: Low-res rows per wavefront step (None: as many as one depthwise chunk).
    self.wavefront_rows = None
    self._lock = threading.Lock()
    self._scratch = {}  # band geometry -> free per-thread scratch buffers
    self._pool = None   # worker threads, started on first use
    self._pool_size = 0

  # ------------------------------------------------------------------ planning

  def band_rows(self, h, w, band_rows=None):
    """Low-res rows per band for an (h, w) low-res grid."""
    if band_rows:
      return max(1, int(band_rows))
    rows = max(8, self.band_pixels // (w + 1) - 2 * HALO - 2)
    bands = -(-h // rows)
    if self.threads > 1 and h > 24 * self.threads:
      # A multiple of the thread count so that the threads finish together.
      bands = -(-bands // self.threads) * self.threads
    return max(1, -(-h // bands))

  # ------------------------------------------------------------------ public

  def run(self, job, band_rows=None, threads=None, progress=None, keep_buffers=False):
    """Runs a prepared :class:`Job` over all bands.

    progress: optional callable receiving the number of full-resolution rows of each
    band as it finishes (from the worker threads). keep_buffers: keep the threads'
    scratch buffers for the next run of the same geometry (video: a run per frame saves
    their page faults); by default they are freed, so that a still photo's run leaves
    no memory behind for what follows it (encoding the output, the next photo).
    """
    h, w = job.h, job.w
    rows = self.band_rows(h, w, band_rows)
    bands = [(q0, min(q0 + rows, h)) for q0 in range(0, h, rows)]
    threads = max(1, min(int(threads or self.threads), len(bands)))
    max_window = min(rows + 2 * HALO, h)
    # BLAS single-threaded for the whole banded section. With the limit, matmuls of any
    # size stay single-threaded; without it, they are kept below OpenBLAS's threading size.
    with blas.single_threaded_blas() as limited:
      self._mnk = None if limited else blas.BLAS_MNK
      self._run_bands(job, bands, threads, max_window, progress, keep_buffers)

  def _run_bands(self, job, bands, threads, max_window, progress, keep_buffers):
    failed = threading.Event()

    def bands_in_this_thread(todo, scratch):
      # Overflow in the network (absurd weights) is not reported as NumPy warnings:
      # each band checks its K and B and raises NonFiniteResultError instead.
      with np.errstate(invalid="ignore", over="ignore"):
        for q0, q1 in todo:
          if failed.is_set():
            return
          try:
            self._band(job, q0, q1, scratch)
          except BaseException:
            failed.set()
            raise
          if progress is not None:
            progress(min(job.cell * q1, job.H) - job.cell * q0)

    key = (job.w, max_window, job.channels_in, job.cell)
    scratches = [self._take_scratch(key, job, max_window) for _ in range(threads)]
    try:
      if threads == 1:
        bands_in_this_thread(bands, scratches[0])
        return
      # Bands are dealt out dynamically: each worker (the calling thread being one)
      # takes the next band until none is left.
      todo = iter(bands)
      lock = threading.Lock()

      def worker(scratch):
        while not failed.is_set():
          with lock:
            band = next(todo, None)
          if band is None:
            return
          bands_in_this_thread([band], scratch)

      pool = self._worker_pool(threads - 1)
      futures = [pool.submit(worker, sc) for sc in scratches[1:]]
      try:
        worker(scratches[0])
      finally:
        errors = [f.exception() for f in futures]
      for err in errors:
        if err is not None:
          raise err
    finally:
      if keep_buffers:
        for sc in scratches:
          self._give_scratch(key, sc)
      else:
        self.release_memory()

  def cell_sums(self, rgb, threads=None, cell=4):
    """Exact per-channel sums of the 4x4 cells (``cell`` x ``cell``) of an (H, W, 3)
    uint8 or uint16 image, edge-padded at the bottom and right as the network pads:
    (ceil(H/cell), ceil(W/cell), 3) uint16 (uint8 input) or uint32, on the worker threads. A
    :class:`Job` given them (``cell_sums=``) takes the network's RGB input from them
    instead of the image, and a frame's cell brightness is their total (the video path
    measures it so: one pass over the frame for both)."""
    H, W = rgb.shape[:2]
    f = int(student_math.check_cell(cell))
    h, w = -(-H // f), -(-W // f)
    row_type = np.uint16 if rgb.dtype == np.uint8 else np.uint32
    if rgb.dtype not in (np.uint8, np.uint16) or rgb.ndim != 3 or rgb.shape[2] != 3:
      raise ValueError(f"cell sums of (H, W, 3) uint8/uint16 images, got {rgb.dtype} {rgb.shape}")
    out = np.empty((h, w, 3), row_type)
    step = max(1, 4 * 32768 // (3 * f * w))  # cell rows per step (cache-sized row sums)

    def band(q0, q1):
      acc = np.empty((step, f * w, 3), row_type)
      for s0 in range(q0, q1, step):
        s1 = min(s0 + step, q1)
        n = s1 - s0
        rows = rgb[f * s0:f * s1]
        if f * s1 > H:  # rows past the bottom: copies of the last one
          rows = rgb[np.minimum(np.arange(f * s0, f * s1), H - 1)]
        blk = rows.reshape(n, f, W, 3)
        a = acc[:n]
        av = a[:, :W]
        np.add(blk[:, 0], blk[:, 1], out=av, dtype=row_type)
        for i in range(2, f):
          np.add(av, blk[:, i], out=av)
        if f * w > W:  # columns past the right edge: copies of the last one
          a[:, W:] = a[:, W - 1:W]
        # The columns of each cell, channel by channel: (n, w) slices 3f values apart
        # (adding (n, w, 3) slices would run NumPy's inner loop over 3 values: 3x slower).
        flat = a.reshape(n, 3 * f * w)
        for c in range(3):
          o = out[s0:s1, :, c]
          np.add(flat[:, c::3 * f], flat[:, 3 + c::3 * f], out=o)
          for i in range(2, f):
            np.add(o, flat[:, 3 * i + c::3 * f], out=o)

    threads = max(1, min(int(threads or self.threads), -(-h // step)))
    per = -(-h // threads)
    self._in_parallel(band, [(q, min(q + per, h)) for q in range(0, h, per)])
    return out

  def _in_parallel(self, fn, ranges):
    """fn(*r) for each range, the calling thread taking the first and the worker
    threads the others."""
    if len(ranges) == 1:
      fn(*ranges[0])
      return
    pool = self._worker_pool(len(ranges) - 1)
    futures = [pool.submit(fn, *r) for r in ranges[1:]]
    try:
      fn(*ranges[0])
    finally:
      errors = [f.exception() for f in futures]
    for err in errors:
      if err is not None:
        raise err

  # ------------------------------------------------------------------ reuse

  def _worker_pool(self, workers):
    """The engine's worker threads (kept between runs: starting threads per frame costs)."""
    with self._lock:
      if self._pool is None or self._pool_size < workers:
        if self._pool is not None:
          self._pool.shutdown(wait=False)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cudi-band")
        self._pool_size = workers
      return self._pool

  def _take_scratch(self, key, job, max_window):
    """A thread's scratch buffers, reused from an earlier run of the same band geometry
    when there is one (fresh buffers cost page faults, and fault handling serialises
    threads). Poisoned engines (tests) always get fresh, NaN-filled ones."""
    if not self.poison:
      with self._lock:
        free = self._scratch.get(key)
        if free:
          return free.pop()
    return _Scratch(self, job, max_window)

  def _give_scratch(self, key, sc):
    if self.poison:
      return
    with self._lock:
      # Only the latest geometry is kept: memory stays that of one run's bands.
      if key not in self._scratch:
        self._scratch = {key: []}
      self._scratch[key].append(sc)

  def release_memory(self):
    """Drops the scratch buffers kept for the next run (a later run allocates anew)."""
    with self._lock:
      self._scratch = {}

  # ------------------------------------------------------------------ one band

  def _band(self, job, q0, q1, sc):
    h, w, L = job.h, job.w, job.w + 1
    a0, a1 = max(q0 - HALO, 0), min(q1 + HALO, h)
    nw = a1 - a0
    self._fill_input(job, a0, a1, sc)
    n_lo = max(q0 - UP_HALO, 0) - a0
    n_hi = min(q1 + UP_HALO, h) - a0
    base = 1 + L  # flat index of (row 0, col 0)
    # Zero the guard rows this band can read (the buffers are reused between bands).
    tail = base + nw * L
    sc.act[:, :base] = 0
    sc.act[:, tail:tail + L + 1] = 0
    sc.out[:, :base] = 0
    sc.out[:, tail:tail + L + 1] = 0
    width = self.width
    plan = []
    for i, layer in enumerate(self.layers, start=1):
      reach = len(self.layers) - i
      r_lo, r_hi = max(0, n_lo - reach), min(nw, n_hi + reach)
      # The input as (buffer, its first channel row): taps are views made from these.
      if i == 1:
        src = (sc.x, 0)
      elif i in (5, 6, 7):
        src = (sc.act, self._slot[{5: 4, 6: 5, 7: 6}[i]] * width)
      else:
        src = (sc.act, self._slot[i - 1] * width)
      if i == 7:
        dst = sc.out
      else:
        dst = sc.act[self._slot[i] * width:(self._slot[i] + 1) * width]
      plan.append([layer, src, dst, r_lo, r_hi, reach])
    # Wavefront: every layer advances a few rows at a time (layer i stays ``reach`` rows
    # ahead of the last one), so each layer's fresh rows are still in cache when the
    # next layer reads them.
    step = self.wavefront_rows or max(1, self.chunk // L)
    done = [entry[3] for entry in plan]
    last_hi = plan[-1][4]
    target = done[-1]
    while target < last_hi:
      target = min(target + step, last_hi)
      for idx, (layer, src, dst, r_lo, r_hi, reach) in enumerate(plan):
        lo, hi = done[idx], min(r_hi, target + reach)
        if hi <= lo:
          continue
        self._separable_layer(layer, src, dst, lo, hi, L, sc)
        # Zero the pad columns of the computed rows (the flat ranges wrote garbage
        # there) and the one just before them, which the next layer reads as the left
        # neighbour of its first pixel (stale from an earlier band otherwise).
        if layer.relu:
          p0 = max(lo - 1, 0)
          dst[:, base + p0 * L + w:base + hi * L + w:L] = 0
        done[idx] = hi
    fullres.full_res(job, q0, q1, a0, n_lo, n_hi, sc, self.out_channels, self._mnk)

  def _separable_layer(self, layer, src, dst, r_lo, r_hi, L, sc):
    """Rows [r_lo, r_hi) of one layer, a few whole (padded) rows at a time.

    Depthwise: for each column offset dx, one batched matmul over (channel, row) of
    the 3 vertical taps, (1, 3) @ (3, L) with rows L apart -- BLAS reads the strided
    rows directly. Pointwise: a matmul per row with the bias in column 0 of ``w_aug``.
    Every BLAS call has the same shape whatever the band, so each pixel's result does
    not depend on how the image was cut into bands (bitwise).
    """
    cin, cout = layer.cin, layer.cout
    base = 1 + L
    step = max(1, self.chunk // L)
    buf, row0 = src
    cs = buf.strides[0]
    first = row0 * buf.shape[1]  # flat index of the input's first channel
    col_step = blas.matmul_cols(cout, cin + 1, self._mnk, cap=L)
    for r in range(r_lo, r_hi, step):
      nr = min(step, r_hi - r)
      m = nr * L
      s = base + r * L
      acc = sc.acc[1:cin + 1, :m].reshape(cin, nr, L)
      tmp = sc.tmp[:cin, :m].reshape(cin, nr, L)
      nb, rest = divmod(nr, DW_BLOCK)
      for dx, out in ((1, acc), (0, tmp), (2, tmp)):
        o = s - L + dx - 1  # flat offset of the tap row above the first output row
        if nb:
          view = _view(buf, first + o, (cin, nb, DW_BLOCK + 2, L),
                       (cs, 4 * DW_BLOCK * L, 4 * L, 4))
          np.matmul(layer.dw_blocks[dx], view,
                    out=out[:, :nb * DW_BLOCK].reshape(cin, nb, DW_BLOCK, L))
        if rest:
          o += nb * DW_BLOCK * L
          view = _view(buf, first + o, (cin, rest, 3, L), (cs, 4 * L, 4 * L, 4))
          np.matmul(layer.dw_cols[dx], view, out=out[:, nb * DW_BLOCK:, None, :])
        if out is tmp:
          np.add(acc, tmp, out=acc)
      aug = sc.acc[:cin + 1, :m].reshape(cin + 1, nr, L).transpose(1, 0, 2)
      if layer.relu:
        o = sc.mm[:cout, :m]
      else:
        o = dst[:, s:s + m]
      o3 = o.reshape(cout, nr, L).transpose(1, 0, 2)
      for c0 in range(0, L, col_step):
        c1 = min(c0 + col_step, L)
        np.matmul(layer.w_aug, aug[:, :, c0:c1], out=o3[:, :, c0:c1])
      if layer.relu:
        # Against a zero row, not the scalar 0: NumPy's maximum is ~3x faster so.
        np.maximum(o, sc.zero_row[:m], out=dst[:, s:s + m])

  # ------------------------------------------------------------------ input

  def _fill_input(self, job, a0, a1, sc):
    """Downsampled concat(I, E) for low-res rows [a0, a1) into the flat input buffer."""
    w, L = job.w, job.w + 1
    nw = a1 - a0
    base = 1 + L
    x = sc.x
    x[:, :base] = 0
    x[:, base + nw * L:base + (nw + 1) * L + 1] = 0
    xv = x[:, base:base + nw * L].reshape(4, nw, L)
    xv[:, :, w] = 0
    step = sc.ds_rows
    for s in range(a0, a1, step):
      e = min(s + step, a1)
      job.downsample(s, e, xv[:, s - a0:e - a0, :w], sc)

class _Scratch:
  """Per-thread buffers, sized once per call for the largest band."""

  def __init__(self, engine, job, max_window):
    w = job.w
    L = w + 1
    p = (max_window + 2) * L + 2
    width = engine.width
    cin_max = max(layer.cin for layer in engine.layers)
    chunk = max(engine.chunk // L, 1) * L
    if engine.poison:
      zeros = empty = lambda shape, dtype: np.full(shape, np.nan, dtype)
    else:
      zeros, empty = np.zeros, np.empty
    # Zero-initialised so that positions a band never writes hold finite values.
    self.x = zeros((4, p), np.float32)
    self.act = zeros((6 * width, p), np.float32)
    self.out = zeros((engine.out_channels, p), np.float32)
    self.acc = empty((cin_max + 1, chunk), np.float32)
    self.acc[0] = 1.0
    self.tmp = empty((cin_max, chunk), np.float32)
    self.mm = empty((max(layer.cout for layer in engine.layers), chunk), np.float32)
    self.zero_row = np.zeros(chunk, np.float32)
    band = max_window  # upper bound on nq + 2
    self.luma = empty((band + 2, w + 2), np.float32)
    self.sk = empty((band + 2, w + 2, 3), np.float32)
    self.sb = empty((band + 2, w + 2, 3), np.float32)
    self.im2col = empty(((band + 2) * w, 9), np.float32)
    f = job.cell
    self.shk = empty((band + 2, 3 * f * w), np.float32)
    self.shb = empty((band + 2, 3 * f * w), np.float32)
    # Low-res rows (x ``cell`` full-res rows) per step of the full-resolution stage:
    # about 4 * full_res_floats floats per buffer (cache-sized).
    self.fr_rows = max(1, 4 * engine.full_res_floats // (3 * f * f * w))
    self.kc = empty((self.fr_rows, f, 3 * f * w), np.float32)
    self.bc = empty((self.fr_rows, f, 3 * f * w), np.float32)
    # Downsampling: low-res rows per step.
    self.ds_rows = max(1, 24000 // (3 * f * w))
    self.rsum = empty((self.ds_rows, f * w, job.channels_in), np.float32)
    self.job_scratch = {}
