"""The student's arithmetic (cudi_jax.student_math): the resampling rule and the
natural colour blend, in NumPy (and against JAX's resize where JAX is installed)."""
import numpy as np
import pytest

from cudi_jax import imagemath
from cudi_jax import student_math


def test_downsample4_edge_padding_hand_values():
  jnp = pytest.importorskip("jax.numpy")
  # x[r, c] = 6 r + c on 5 x 6, edge-padded to 8 x 8, 4x4 means:
  # cell (0,0): rows 0-3, cols 0-3 -> 6*1.5 + 1.5 = 10.5
  # cell (0,1): cols 4,5,5,5 (padded) -> mean col 4.75 -> 9 + 4.75 = 13.75
  # cell (1,0): rows 4,4,4,4 (padded) -> 24 + 1.5 = 25.5;  cell (1,1): 24 + 4.75 = 28.75
  x = np.arange(30, dtype=np.float32).reshape(5, 6, 1)
  expected = np.array([[10.5, 13.75], [25.5, 28.75]], np.float32)
  np.testing.assert_allclose(student_math.downsample4(x, np)[..., 0], expected, atol=1e-6)
  np.testing.assert_allclose(student_math.downsample4(jnp.asarray(x), jnp)[..., 0], expected, atol=1e-5)
  batched = np.stack([x, 2 * x])                          # leading batch dims
  np.testing.assert_allclose(student_math.downsample4(batched, np)[1, ..., 0], 2 * expected, atol=1e-5)
  assert student_math.padded_size(5, 6) == (8, 8) and student_math.padded_size(8, 1) == (8, 4)


def test_downsample4_matches_block_mean_on_multiples_of_4():
  rng = np.random.default_rng(9)
  x = rng.uniform(size=(8, 12, 2))
  ref = np.array([[x[4 * i:4 * i + 4, 4 * j:4 * j + 4].mean(axis=(0, 1)) for j in range(3)]
                  for i in range(2)])
  np.testing.assert_allclose(student_math.downsample4(x, np), ref, atol=1e-12)


def test_upsample4_constant_and_linear_ramp():
  const = np.full((3, 2, 2), 0.7, np.float32)
  up = student_math.upsample4(const, np)
  assert up.shape == (12, 8, 2)
  np.testing.assert_allclose(up, 0.7, atol=1e-7)
  # v[p, q] = 2 p + 3 q; output pixel j sits at source coordinate (j + 0.5)/4 - 0.5,
  # clamped to [0, n - 1] at the border (half-pixel centres, align_corners=False)
  h, w = 3, 5
  v = (2.0 * np.arange(h)[:, None] + 3.0 * np.arange(w)[None, :])[..., None]
  up = student_math.upsample4(v, np)
  sy = np.clip((np.arange(4 * h) + 0.5) / 4 - 0.5, 0, h - 1)
  sx = np.clip((np.arange(4 * w) + 0.5) / 4 - 0.5, 0, w - 1)
  expected = 2.0 * sy[:, None] + 3.0 * sx[None, :]
  np.testing.assert_allclose(up[..., 0], expected, atol=1e-12)
  # interior hand values along a row: source coordinates 0.125, 0.375, 0.625, 0.875
  np.testing.assert_allclose(up[0, 2:6, 0] / 3.0, [0.125, 0.375, 0.625, 0.875], atol=1e-12)
  # crop to a requested size
  assert student_math.upsample4(v, np, size=(10, 17)).shape == (10, 17, 1)
  np.testing.assert_allclose(student_math.upsample4(v, np, size=(10, 17)), up[:10, :17])


def test_upsample4_matches_jax_image_resize_bilinear():
  jax = pytest.importorskip("jax")
  jnp = jax.numpy
  rng = np.random.default_rng(10)
  x = rng.uniform(-1, 1, (2, 5, 7, 3)).astype(np.float32)
  ours = student_math.upsample4(x, np)
  ref = np.asarray(jax.image.resize(jnp.asarray(x), (2, 20, 28, 3), "bilinear"))
  np.testing.assert_allclose(ours, ref, atol=1e-6)
  np.testing.assert_allclose(student_math.upsample4(jnp.asarray(x), jnp), ours, atol=1e-6)


def test_natural_color_shares_maps_where_brightening_only():
  wts = np.asarray(imagemath.LUMA_BT601, np.float32)
  cells = np.full((1, 3, 3), 0.2, np.float32)  # three grey cells of luma 0.2
  # Per-channel maps whose luma-weighted gains are x2 (brighten), x1 and x0.5 (darken).
  k = np.array([[[1.5, 1.0, 0.5], [1.2, 1.0, 0.8], [0.7, 0.5, 0.3]]], np.float32)
  b = np.array([[[0.2, 0.2, 0.2], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], np.float32)
  kbar, bbar = (k * wts).sum(-1), (b * wts).sum(-1)
  gains = kbar + bbar / 0.2
  k2, b2 = student_math.natural_color(k, b, cells, np)
  t = 1 - np.clip((2 ** 0.25 - gains) / (2 ** 0.25 - 2 ** -0.25), 0, 1)  # shared weight
  assert gains[0, 0] > 1.5 and gains[0, 2] < 0.7 and t[0, 0] == 1 and t[0, 2] == 0
  np.testing.assert_allclose(k2[0, 0], kbar[0, 0])  # brightening: one slope for R, G, B
  np.testing.assert_allclose(b2[0, 0], bbar[0, 0])
  np.testing.assert_array_equal(k2[0, 2], k[0, 2])  # darkening: the network's own maps
  np.testing.assert_allclose(k2[0, 1], k[0, 1] + t[0, 1] * (kbar[0, 1] - k[0, 1]), rtol=1e-6)
  # The weighted means (what brightness follows) are unchanged everywhere.
  np.testing.assert_allclose((k2 * wts).sum(-1), kbar, rtol=1e-6)
  np.testing.assert_allclose((b2 * wts).sum(-1), bbar, atol=1e-7)
  # B in 8-bit units with the cells' scale: the same weights.
  k3, b3 = student_math.natural_color(k, b * 255, cells, np, scale=255.0)
  np.testing.assert_allclose(k3, k2, rtol=1e-6)
  np.testing.assert_allclose(b3, b2 * 255, rtol=1e-5, atol=1e-5)


def test_natural_color_lift_keeps_the_cells_colour():
  # A dark red cell (luma 0.1) and a near-black one, both brightened x6 by one shared
  # slope and a large intercept: the red cell's intercept is split in its own colour
  # ratios, so its mean comes out as a plain x6 gain of its colour (saturation kept,
  # not washed to pink); the near-black cell (colour ratios are noise there) gets an
  # almost neutral lift.
  wts = np.asarray(imagemath.LUMA_BT601, np.float32)
  red = np.array([0.24, 0.04, 0.04], np.float32)
  luma = float(red @ wts)
  black = np.array([0.0024, 0.0004, 0.0004], np.float32)
  cells = np.stack([red, black])[None]
  k = np.full((1, 2, 3), 2.0, np.float32)
  b = np.full((1, 2, 3), 4.0 * luma, np.float32)  # cell gain 2 + 4 = 6 for the red cell
  k2, b2 = student_math.natural_color(k, b, cells, np)
  out = k2[0, 0] * red + b2[0, 0]
  neutral = k[0, 0] * red + b[0, 0]  # one intercept for all three channels
  assert out[0] / out[1] > 0.65 * red[0] / red[1]       # most of its colour ...
  assert neutral[0] / neutral[1] < 0.4 * red[0] / red[1]  # where it was washed out
  assert abs(float(out @ wts) - 6 * luma) < 1e-6          # ... and the same brightness
  g = luma / (luma + student_math.LIFT_COLOUR_TOE)
  np.testing.assert_allclose(b2[0, 0], b[0, 0] * (1 + g * (red / luma - 1)), rtol=1e-5)
  spread = b2[0, 1].max() / b2[0, 1].min()
  assert spread < 1.3, b2[0, 1]
  # Grey cells keep one neutral intercept (the white balance).
  k3, b3 = student_math.natural_color(k, b, np.full((1, 2, 3), 0.05, np.float32), np)
  np.testing.assert_allclose(b3[0, 0], b[0, 0], rtol=1e-6)


@pytest.mark.parametrize("cell", student_math.CELLS)
def test_upsampling_at_any_cell_size_is_bilinear_on_half_pixel_centres(cell):
  """x``cell`` upsampling puts output pixel cell*q + p at source coordinate
  q + (p + 0.5)/cell - 0.5: a linear ramp comes back exactly away from the border,
  and the border is clamped."""
  assert student_math.upsample_phases(4) == student_math.UPSAMPLE_PHASES
  n = 6
  ramp = np.arange(n, dtype=np.float64)[:, None, None] * np.ones((1, 3, 1))
  up = student_math.upsample4(ramp, np, cell=cell)[:, 0, 0]
  coords = (np.arange(n * cell) + 0.5) / cell - 0.5
  np.testing.assert_allclose(up, np.clip(coords, 0, n - 1), atol=1e-12)
  x = np.arange(2 * cell * 3 * cell, dtype=np.float64).reshape(2 * cell, 3 * cell, 1)
  means = student_math.downsample4(x, np, cell)
  assert means.shape == (2, 3, 1)
  assert means[1, 2, 0] == x[cell:, 2 * cell:].mean()
  with pytest.raises(ValueError, match="cell size"):
    student_math.upsample_phases(6)
