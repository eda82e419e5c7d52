"""The banded, threaded NumPy engine: identical to whole-image processing, equal to
the reference math, bounded memory."""
import tracemalloc

import numpy as np
import pytest

from cudi_jax import student_math
from cudi_jax.exposure import values
from cudi_jax.runtime import engine
from cudi_jax.runtime.job import Job
from tests import helpers


@pytest.fixture(scope="module")
def params():
  return helpers.random_student_flat(seed=7, std=0.3)


@pytest.fixture(scope="module")
def whole(params):
  """One band covering the whole image, one thread."""
  return engine.Engine(params, threads=1, band_pixels=1 << 30)


@pytest.fixture(scope="module")
def poisoned(params):
  """Two threads; scratch buffers start as NaN, so a read of anything a band did not
  compute would show up as NaN or as a difference."""
  e = engine.Engine(params, threads=2)
  e.poison = True
  return e


def _run(eng, image, exposure, band_rows=None, gray=False, kind="out", color="natural"):
  h, w = image.shape[:2]
  if kind == "maps":
    k = np.empty((h, w, 3), np.float32)
    b = np.empty_like(k)
    eng.run(Job(image, exposure, maps=(k, b), gray=gray, color=color),
            band_rows=band_rows)
    return k, b
  out = np.empty_like(image)
  eng.run(Job(image, exposure, out=out, gray=gray, color=color), band_rows=band_rows)
  return (out,)


SIZES = [(37, 53), (64, 64), (5, 3), (1, 1), (9, 4), (4, 9), (130, 21)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("exposure_kind", ["const", "map", "luma"])
def test_banded_equals_whole_image_exactly(size, exposure_kind, whole, poisoned):
  rng = np.random.default_rng(size[0] * 100 + size[1])
  h, w = size
  image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
  exposure = {"const": values.Constant(0.55),
              "map": values.PixelMap(rng.uniform(0, 1, (h, w)).astype(np.float32)),
              "luma": values.LumaLinear(0.9, 0.5)}[exposure_kind]
  as_float = image.astype(np.float32) / 255
  ref_u8 = _run(whole, image, exposure)
  ref_f = _run(whole, as_float, exposure)
  ref_maps = _run(whole, as_float, exposure, kind="maps")
  for band_rows in (1, 2, 3, 5):
    for got, ref in ((_run(poisoned, image, exposure, band_rows), ref_u8),
                     (_run(poisoned, as_float, exposure, band_rows), ref_f),
                     (_run(poisoned, as_float, exposure, band_rows, kind="maps"), ref_maps)):
      for g, r in zip(got, ref):
        assert np.array_equal(g, r), (band_rows, float(np.nanmax(np.abs(g - r))))


def test_banded_gray_and_uint16_equal_whole(whole, poisoned):
  rng = np.random.default_rng(3)
  gray = rng.integers(0, 65536, (23, 31), dtype=np.uint16)
  ref = _run(whole, gray, values.Constant(0.4), gray=True)[0]
  for band_rows in (1, 2, 4):
    assert np.array_equal(_run(poisoned, gray, values.Constant(0.4), band_rows, gray=True)[0], ref)
  rgb = rng.integers(0, 65536, (23, 31, 3), dtype=np.uint16)
  ref = _run(whole, rgb, values.Constant(0.7))[0]
  for band_rows in (1, 3):
    assert np.array_equal(_run(poisoned, rgb, values.Constant(0.7), band_rows)[0], ref)


def test_strided_rgba_view_equals_contiguous(whole):
  rng = np.random.default_rng(4)
  rgba = rng.integers(0, 256, (19, 26, 4), dtype=np.uint8)
  out = np.zeros_like(rgba)
  whole.run(Job(rgba[..., :3], values.Constant(0.5), out=out[..., :3]), band_rows=2)
  ref = _run(whole, np.ascontiguousarray(rgba[..., :3]), values.Constant(0.5))[0]
  assert np.array_equal(out[..., :3], ref)
  assert np.all(out[..., 3] == 0)  # the engine never touches the other channels


@pytest.mark.parametrize("color", student_math.COLOR_MODES)
@pytest.mark.parametrize("size", [(37, 53), (8, 8), (2, 7)])
def test_engine_matches_reference_math(size, color, params, poisoned):
  """Float path: K, B and the image within 1e-5 of student_math with xp=numpy."""
  rng = np.random.default_rng(size[0])
  h, w = size
  image = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
  emap = rng.uniform(0.2, 0.8, (h, w)).astype(np.float32)
  k_ref, b_ref = student_math.student_maps(params, image, emap[..., None], np, color=color)
  out_ref = student_math.tangent_apply(k_ref, b_ref, image, np)
  k, b = _run(poisoned, image, values.PixelMap(emap), 2, kind="maps", color=color)
  out = _run(poisoned, image, values.PixelMap(emap), 3, color=color)[0]
  np.testing.assert_allclose(k, k_ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(b, b_ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(out, out_ref, atol=1e-5, rtol=0)
  assert np.abs(k_ref - 1).mean() > 0.1  # far from the identity: a real test


@pytest.mark.parametrize("color", student_math.COLOR_MODES)
@pytest.mark.parametrize("size", [(37, 53), (9, 4)])
def test_tempered_matches_reference_math_and_bands_agree(size, color, params, whole, poisoned):
  """A Tempered value: K, B mixed per cell with a gain before upsampling, as
  student_math.temper does; any band split gives the same uint8 image."""
  rng = np.random.default_rng(size[1])
  h, w = size
  image = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
  emap = rng.uniform(0.2, 0.8, (h, w)).astype(np.float32)
  weights = rng.uniform(0, 1, values.cell_shape(h, w)).astype(np.float32)
  ceiling = rng.uniform(0, 0.8, values.cell_shape(h, w)).astype(np.float32)
  ceiling[::3] = np.inf
  fed = values.Tempered(values.PixelMap(emap), weights, 0.7, ceiling)
  k_ref, b_ref = student_math.student_maps(params, image, emap[..., None], np, color=color,
                                           tempered=(weights, 0.7, ceiling))
  k, b = _run(poisoned, image, fed, 2, kind="maps", color=color)
  np.testing.assert_allclose(k, k_ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(b, b_ref, atol=1e-5, rtol=0)
  k0, _ = _run(poisoned, image, values.PixelMap(emap), 2, kind="maps", color=color)
  assert np.abs(k - k0).max() > 0.05  # tempering changed something
  u8 = (image * 255 + 0.5).astype(np.uint8)
  ref = _run(whole, u8, fed, color=color)[0]
  for band_rows in (1, 3):
    assert np.array_equal(_run(poisoned, u8, fed, band_rows, color=color)[0], ref)


def test_tempering_with_uniform_weights_mixes_the_outputs(params, whole):
  """Weights w everywhere: K' = w K + (1 - w) g and B' = w B at full resolution too
  (upsampling is linear), so the unclipped result is w * network + (1 - w) * g * I."""
  rng = np.random.default_rng(11)
  image = rng.uniform(0.3, 0.9, (20, 28, 3)).astype(np.float32)
  fed = values.Constant(0.4)
  k, b = _run(whole, image, fed, kind="maps")
  kt, bt = _run(whole, image, values.Tempered(fed, np.full((5, 7), 0.25, np.float32), 0.6),
                kind="maps")
  np.testing.assert_allclose(kt, 0.25 * k + 0.75 * 0.6, atol=1e-6)
  np.testing.assert_allclose(bt, 0.25 * b, atol=1e-6)
  with pytest.raises(ValueError, match="tempering weights"):
    Job(image, values.Tempered(fed, np.ones((4, 7), np.float32), 0.6), out=image.copy())
  with pytest.raises(ValueError, match="tempering ceiling"):
    Job(image, values.Tempered(fed, ceiling=np.ones((5, 8), np.float32)), out=image.copy())
  with pytest.raises(ValueError, match="finite"):
    Job(image, values.Tempered(fed, np.full((5, 7), np.nan, np.float32), 0.6), out=image.copy())
  with pytest.raises(ValueError, match="finite"):
    Job(image, values.Tempered(fed, np.ones((5, 7), np.float32), float("inf")), out=image.copy())
  with pytest.raises(TypeError):
    Job(image, values.Tempered(values.Tempered(fed, ceiling=np.ones((5, 7), np.float32))),
        out=image.copy())


def test_a_ceiling_holds_cells_to_it_and_never_below_their_input():
  """Cells that would come out brighter than their ceiling are mixed with the identity
  down to it (never below the cell itself); others are untouched (the packaged
  weights: a network that lifts a dark photo)."""
  from cudi_jax.runtime import load_student
  params = load_student().params
  whole = engine.Engine(params, threads=1, band_pixels=1 << 30)
  rng = np.random.default_rng(12)
  image = rng.uniform(0.0, 0.05, (16, 24, 3)).astype(np.float32)
  fed = values.Constant(0.9)
  ceiling = np.full((4, 6), np.inf, np.float32)
  ceiling[:2] = 0.02      # the top half: held near black
  ceiling[2:, :3] = 0.0   # below its input: the input itself
  k, b = student_math.student_maps(params, image, np.full((16, 24, 1), 0.9, np.float32), np,
                                   color="natural")
  kt, bt = student_math.student_maps(params, image, np.full((16, 24, 1), 0.9, np.float32), np,
                                     color="natural", tempered=(None, 1.0, ceiling))
  cells = student_math.downsample4(image, np)
  kc, bc = student_math.downsample4(kt, np), student_math.downsample4(bt, np)
  out = (kc * cells + bc).mean(axis=-1)  # (approximately: K, B are upsampled bilinearly)
  k0, b0 = student_math.downsample4(k, np), student_math.downsample4(b, np)
  assert (k0 * cells + b0).mean(axis=-1)[:2].min() > 0.05  # the limit binds
  # (Cells beside free ones take part of their K and B from the bilinear upsampling.)
  assert np.all(out[0] <= 0.02 + 0.01) and np.all(out[3, :2] <= cells[3, :2].mean(-1) + 0.01)
  np.testing.assert_allclose(kt[12:, 16:], k[12:, 16:], atol=1e-6)  # far from limited cells
  got = _run(whole, image, values.Tempered(fed, ceiling=ceiling), kind="maps")
  np.testing.assert_allclose(got[0], kt, atol=1e-5)
  np.testing.assert_allclose(got[1], bt, atol=1e-5)


def test_uint8_rounding_is_half_up_of_the_float_result(params, poisoned):
  rng = np.random.default_rng(5)
  image = rng.integers(0, 256, (41, 29, 3), dtype=np.uint8)
  x = image.astype(np.float32) / 255
  k, b = student_math.student_maps(params, x, np.full((41, 29, 1), 0.6, np.float32), np,
                                   color="natural")
  ref = student_math.tangent_apply(k, b, x, np) * 255
  out = _run(poisoned, image, values.Constant(0.6), 2)[0].astype(np.float64)
  # round-half-up of the float result; float32 noise may only flip exact ties
  assert np.max(np.abs(out - ref)) <= 0.5 + 1e-3
  assert np.mean(out == np.floor(ref + 0.5)) > 0.999


def test_band_planning_bounds_memory(params):
  eng = engine.Engine(params, threads=2, band_pixels=65536)
  for h, w in ((2500, 2500), (540, 960), (10, 30000), (30000, 10)):
    rows = eng.band_rows(h, w)
    assert 1 <= rows <= h
    assert (min(rows + 2 * engine.HALO, h) + 2) * (w + 1) <= max(65536, 30 * (w + 1))


def _peak_extra_memory(eng, image):
  out = np.empty_like(image)
  eng.run(Job(image, values.Constant(0.5), out=out))  # warm-up (imports, caches)
  tracemalloc.start()
  try:
    eng.run(Job(image, values.Constant(0.5), out=out))
    return tracemalloc.get_traced_memory()[1]
  finally:
    tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_image(params):
  """Working memory is set by the band, not the image: 4x the rows, same peak."""
  eng = engine.Engine(params, threads=1, band_pixels=8192)
  small = _peak_extra_memory(eng, np.full((1024, 256, 3), 90, np.uint8))
  large = _peak_extra_memory(eng, np.full((4096, 256, 3), 90, np.uint8))
  assert large < small * 1.2 + (256 << 10), (small, large)
  assert large < 12 << 20, large      # vs 12 MB for the image as float32, 48 MB for K and B


def test_progress_reports_every_row(params):
  eng = engine.Engine(params, threads=2)
  image = np.zeros((103, 17, 3), np.uint8)
  seen = []
  eng.run(Job(image, values.Constant(0.5), out=np.empty_like(image)), band_rows=4,
          progress=seen.append)
  assert sum(seen) == 103


def test_buffers_are_kept_only_when_a_run_asks(params):
  """A still photo's run leaves no scratch behind (it would add to the memory of what
  follows: encoding, the next photo); video runs keep theirs for the next frame."""
  eng = engine.Engine(params, threads=2)
  image = np.zeros((67, 17, 3), np.uint8)
  eng.run(Job(image, values.Constant(0.5), out=np.empty_like(image)), band_rows=4)
  assert not any(eng._scratch.values())
  eng.run(Job(image, values.Constant(0.5), out=np.empty_like(image)), band_rows=4,
          keep_buffers=True)
  assert sum(len(v) for v in eng._scratch.values()) == 2
  eng.release_memory()
  assert not any(eng._scratch.values())


@pytest.mark.parametrize("cell", [8, 16])
@pytest.mark.parametrize("size", [(37, 53), (64, 96), (5, 3), (130, 21)])
def test_larger_cells_match_reference_math_and_bands_agree(size, cell, params, whole, poisoned):
  """The network on 8x8 or 16x16 cells (video's grid for large frames): K, B within
  1e-5 of student_math at that cell size, with a cell map and tempering, and any band
  split gives the same uint8 image, from the image or from its cell sums."""
  rng = np.random.default_rng(size[0] + cell)
  h, w = size
  image = rng.uniform(0, 1, (h, w, 3)).astype(np.float32)
  cells = values.cell_shape(h, w, cell)
  assert cells == (-(-h // cell), -(-w // cell))
  emap = rng.uniform(0.2, 0.8, cells).astype(np.float32)
  weights = rng.uniform(0, 1, cells).astype(np.float32)
  fed = values.Tempered(values.CellMap(emap), weights, 0.8)
  full = values.full_map(fed, image, cell)
  k_ref, b_ref = student_math.student_maps(params, image, full[..., None], np, color="natural",
                                           tempered=(weights, 0.8, None), cell=cell)
  k, b = np.empty((h, w, 3), np.float32), np.empty((h, w, 3), np.float32)
  poisoned.run(Job(image, fed, maps=(k, b), cell=cell), band_rows=2)
  np.testing.assert_allclose(k, k_ref, atol=1e-5, rtol=0)
  np.testing.assert_allclose(b, b_ref, atol=1e-5, rtol=0)
  k4, _ = _run(whole, image, values.PixelMap(full), kind="maps")
  assert np.abs(k - k4).max() > 1e-3  # not the 4x4 grid's result
  u8 = (image * 255 + 0.5).astype(np.uint8)
  ref = np.empty_like(u8)
  whole.run(Job(u8, fed, out=ref, cell=cell))
  sums = whole.cell_sums(u8, cell=cell)
  for band_rows in (1, 3):
    for given in (None, sums):
      out = np.empty_like(u8)
      poisoned.run(Job(u8, fed, out=out, cell=cell, cell_sums=given), band_rows=band_rows)
      assert np.array_equal(out, ref), (band_rows, given is None)


@pytest.mark.parametrize("cell", [4, 8, 16])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_cell_sums_are_the_exact_edge_padded_sums(cell, dtype, whole):
  rng = np.random.default_rng(cell)
  image = rng.integers(0, np.iinfo(dtype).max + 1, (35, 50, 3)).astype(dtype)
  hp, wp = student_math.padded_size(35, 50, cell)
  padded = np.pad(image.astype(np.int64), ((0, hp - 35), (0, wp - 50), (0, 0)), mode="edge")
  want = padded.reshape(hp // cell, cell, wp // cell, cell, 3).sum(axis=(1, 3))
  got = whole.cell_sums(image, cell=cell)
  assert got.shape == want.shape and np.array_equal(got, want)
  with pytest.raises(ValueError, match="cell size"):
    whole.cell_sums(image, cell=6)


def test_cell_sizes_other_than_the_known_are_refused(params):
  with pytest.raises(ValueError, match="cell size"):
    Job(np.zeros((8, 8, 3), np.uint8), values.Constant(0.5), out=np.zeros((8, 8, 3), np.uint8),
        cell=5)
  with pytest.raises(ValueError, match="cell map of shape"):
    Job(np.zeros((16, 16, 3), np.uint8), values.CellMap(np.zeros((4, 4), np.float32)),
        out=np.zeros((16, 16, 3), np.uint8), cell=8)
