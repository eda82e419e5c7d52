"""Teacher losses and the distillation loss on tiny hand-computed inputs."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cudi_jax.train import losses as _losses

# Jitted wrappers: one fused compile per shape is far cheaper on CPU than eager
# op-by-op dispatch (and it is how training calls the losses).


class _Jitted:
  exposure_control_loss = staticmethod(jax.jit(_losses.exposure_control_loss,
                                               static_argnames=("cell",)))
  spatial_consistency_loss = staticmethod(jax.jit(_losses.spatial_consistency_loss,
                                                  static_argnames=("cell",)))
  color_constancy_loss = staticmethod(jax.jit(_losses.color_constancy_loss))
  illumination_smoothness_loss = staticmethod(jax.jit(_losses.illumination_smoothness_loss))
  distillation_loss = staticmethod(jax.jit(_losses.distillation_loss))
  DEFAULT_WEIGHTS = _losses.DEFAULT_WEIGHTS

  @staticmethod
  def teacher_losses(output, image, exposure, maps, weights=None, exposure_cell=16, **modes):
    fn = lambda o, i, e, m: _losses.teacher_losses(o, i, e, m, weights, exposure_cell, **modes)
    return jax.jit(fn)(output, image, exposure, maps)


losses = _Jitted


def rgb_with_mean(gray, spread=(-0.1, 0.05, 0.05)):
  """(B, H, W, 3) image whose RGB mean is ``gray`` (B, H, W) but whose channels differ."""
  gray = np.asarray(gray, np.float32)
  return np.stack([gray + spread[0], gray + spread[1], gray + spread[2]], axis=-1)


# --------------------------------------------------------------------------- exposure control


def test_exposure_control_full_cell_hand_value():
  out = np.zeros((1, 16, 16, 3), np.float32)
  out[..., :] = (0.3, 0.6, 0.9)                       # RGB mean 0.6
  e = np.full((1, 16, 16, 1), 0.4, np.float32)
  assert float(losses.exposure_control_loss(out, e)) == pytest.approx(0.2, abs=1e-6)


def test_exposure_control_partial_border_cells():
  # 20 x 20 -> 2 x 2 cells (16x16, 16x4, 4x16, 4x4). Only the bottom-right 4x4 cell
  # differs: mean 1.0 vs E = 0.5 over its 16 valid pixels. Each partial cell counts
  # as one cell: loss = 0.5 / 4 cells. (Dropping partial cells would give 0; zero
  # padding would give |16/256 - 8/256| / 4.)
  gray = np.full((1, 20, 20), 0.5, np.float32)
  gray[:, 16:, 16:] = 1.0
  out = rgb_with_mean(gray, spread=(0.0, 0.0, 0.0))
  e = np.full((1, 20, 20, 1), 0.5, np.float32)
  assert float(losses.exposure_control_loss(out, e)) == pytest.approx(0.125, abs=1e-6)


def test_exposure_control_partial_cells_exposure_side():
  # the exposure map's partial cell is also averaged over valid pixels only:
  # output constant 0.5; E = 0.9 on the 4 right columns (a 16x4 partial cell... and
  # a 4x4 one): cells (0,1) and (1,1) each differ by 0.4 -> mean over 4 cells = 0.2.
  out = np.full((1, 20, 20, 3), 0.5, np.float32)
  e = np.full((1, 20, 20, 1), 0.5, np.float32)
  e[:, :, 16:] = 0.9
  assert float(losses.exposure_control_loss(out, e)) == pytest.approx(0.2, abs=1e-6)


def _exposure_reference(out, e, cell):
  """Loop reference: per image, per (possibly partial) cell |mean RGB - mean E|."""
  vals = []
  b, h, w, _ = out.shape
  for n in range(b):
    for i in range(0, h, cell):
      for j in range(0, w, cell):
        d = out[n, i:i + cell, j:j + cell].mean() - e[n, i:i + cell, j:j + cell].mean()
        vals.append(abs(d))
  return float(np.mean(vals))


def test_exposure_control_matches_loop_reference_on_odd_size():
  rng = np.random.default_rng(0)
  out = rng.uniform(0, 1, (2, 18, 33, 3)).astype(np.float32)   # 2 x 3 cells, all border partial
  e = rng.uniform(0.2, 0.8, (2, 18, 33, 1)).astype(np.float32)
  got = float(losses.exposure_control_loss(out, e))
  assert got == pytest.approx(_exposure_reference(out.astype(np.float64), e.astype(np.float64),
                                                  16), rel=1e-5)
  # another cell size
  got8 = float(losses.exposure_control_loss(out, e, cell=8))
  assert got8 == pytest.approx(_exposure_reference(out.astype(np.float64), e.astype(np.float64),
                                                   8), rel=1e-5)


# --------------------------------------------------------------------------- spatial consistency


def _cells_to_image(cell_values, cell=4, rows=None, cols=None):
  """Expands a (B, h, w) grid of values to 4x4 constant cells, cropped to rows x cols."""
  img = np.repeat(np.repeat(np.asarray(cell_values, np.float32), cell, 1), cell, 2)
  return img[:, :rows, :cols]


def test_spatial_consistency_2x2_hand_value():
  # cell differences D = O - I: [[0, 0.1], [0.2, 0.4]]
  # vertical pairs (0.2 - 0)^2 = 0.04, (0.4 - 0.1)^2 = 0.09 -> mean 0.065
  # horizontal pairs (0.1)^2 = 0.01, (0.2)^2 = 0.04 -> mean 0.025
  # L = 2 * 0.065 + 2 * 0.025 = 0.18 (each pair counted from both sides)
  base = np.array([[[0.3, 0.5], [0.2, 0.4]]])
  d = np.array([[[0.0, 0.1], [0.2, 0.4]]])
  image = rgb_with_mean(_cells_to_image(base))
  output = rgb_with_mean(_cells_to_image(base + d), spread=(0.05, -0.1, 0.05))
  got = float(losses.spatial_consistency_loss(output, image))
  assert got == pytest.approx(0.18, abs=1e-6)


def test_spatial_consistency_ignores_within_cell_detail():
  base = np.array([[[0.3, 0.5], [0.2, 0.4]]])
  d = np.array([[[0.0, 0.1], [0.2, 0.4]]])
  image = _cells_to_image(base)
  output = _cells_to_image(base + d)
  checker = 0.05 * (np.indices((8, 8)).sum(0) % 2 * 2 - 1)      # zero mean in every 4x4 cell
  got = float(losses.spatial_consistency_loss(rgb_with_mean(output + checker), rgb_with_mean(image)))
  assert got == pytest.approx(0.18, abs=1e-6)


def test_spatial_consistency_one_cell_wide_has_one_direction():
  # 8 x 4 image -> 2 x 1 cells: only the vertical direction exists.
  # D = [0.1, 0.3] -> 2 * 0.2^2 = 0.08 (no horizontal term, no NaN from an empty mean)
  image = _cells_to_image(np.array([[[0.4], [0.5]]]))
  output = _cells_to_image(np.array([[[0.5], [0.8]]]))
  got = float(losses.spatial_consistency_loss(rgb_with_mean(output), rgb_with_mean(image)))
  assert got == pytest.approx(0.08, abs=1e-6)
  # transposed: 1 x 2 cells, horizontal only
  got_t = float(losses.spatial_consistency_loss(rgb_with_mean(output.transpose(0, 2, 1)),
                                                rgb_with_mean(image.transpose(0, 2, 1))))
  assert got_t == pytest.approx(0.08, abs=1e-6)


def test_spatial_consistency_partial_cell():
  # 6 x 4 image -> cells of 4 rows and 2 rows (partial, averaged over its 8 pixels)
  image = np.full((1, 6, 4), 0.5, np.float32)
  output = image.copy()
  output[:, 4:] += 0.3          # only the partial cell changes: D = [0, 0.3]
  output[:, 4, :2] += 0.1       # ... plus detail inside it: D_partial = 0.3 + 0.1 * 2 / 8
  got = float(losses.spatial_consistency_loss(rgb_with_mean(output), rgb_with_mean(image)))
  assert got == pytest.approx(2 * 0.325 ** 2, abs=1e-6)


def test_spatial_consistency_zero_for_constant_shift_and_single_cell():
  rng = np.random.default_rng(1)
  image = rng.uniform(0.1, 0.6, (2, 13, 10, 3)).astype(np.float32)
  assert float(losses.spatial_consistency_loss(image + 0.25, image)) == pytest.approx(0.0, abs=1e-10)
  assert float(losses.spatial_consistency_loss(image, image)) == 0.0
  # a single cell has no neighbours
  one = image[:, :3, :3]
  val = _losses.spatial_consistency_loss(one * 2.0, one)      # eager, too
  assert float(val) == 0.0 and val.dtype == jnp.float32


# --------------------------------------------------------------------------- colour constancy


def test_color_constancy_hand_value():
  out = np.zeros((2, 3, 5, 3), np.float32)
  out[0] = (0.2, 0.4, 0.7)
  out[1] = 0.5                              # gray: 0
  # (0.2)^4 + (0.5)^4 + (0.3)^4 = 0.0016 + 0.0625 + 0.0081 = 0.0722
  expected = math.sqrt(0.0722) / 2
  assert float(losses.color_constancy_loss(out)) == pytest.approx(expected, rel=1e-5)


def test_color_constancy_uses_channel_means_not_pixels():
  out = np.zeros((1, 2, 2, 3), np.float32)
  out[0, 0, 0] = (0.8, 0.0, 0.4)             # channel means (0.2, 0, 0.1) over 4 pixels
  expected = math.sqrt(0.2 ** 4 + 0.1 ** 4 + 0.1 ** 4)
  assert float(losses.color_constancy_loss(out)) == pytest.approx(expected, rel=1e-5)


def test_color_constancy_gray_is_zero_with_finite_zero_gradient():
  gray = jnp.full((2, 4, 4, 3), 0.37, jnp.float32)
  assert float(losses.color_constancy_loss(gray)) == 0.0
  grad = jax.jit(jax.grad(_losses.color_constancy_loss))(gray)
  assert bool(jnp.all(jnp.isfinite(grad)))
  np.testing.assert_array_equal(np.asarray(grad), 0.0)
  # and a non-gray image has a finite, non-zero gradient matching a finite difference
  rng = np.random.default_rng(2)
  x = jnp.asarray(rng.uniform(0, 1, (1, 2, 2, 3)), jnp.float32)
  g = np.asarray(jax.jit(jax.grad(_losses.color_constancy_loss))(x))
  assert np.all(np.isfinite(g)) and np.abs(g).max() > 0
  eps = 1e-3
  dx = np.zeros((1, 2, 2, 3), np.float32)
  dx[0, 1, 0, 2] = eps
  fd = (float(losses.color_constancy_loss(x + dx)) - float(losses.color_constancy_loss(x - dx))) / (2 * eps)
  assert g[0, 1, 0, 2] == pytest.approx(fd, rel=2e-2, abs=1e-4)


# --------------------------------------------------------------------------- illumination smoothness


def test_illumination_smoothness_hand_value():
  # one map [[0, 1, 3], [1, 1, 1]]: vertical diffs [1, 0, -2] -> 5 / ((2-1) * 3);
  # horizontal diffs [1, 2], [0, 0] -> 5 / (2 * (3-1)); L = 2 * (5/3 + 5/4) = 35/6
  m = np.array([[0.0, 1.0, 3.0], [1.0, 1.0, 1.0]], np.float32)[None, :, :, None]
  assert float(losses.illumination_smoothness_loss(m)) == pytest.approx(35 / 6, rel=1e-6)
  # channels are summed (not averaged), the batch is averaged
  two_channels = np.concatenate([m, 2 * m], axis=-1)           # 1 + 4 = 5x
  assert float(losses.illumination_smoothness_loss(two_channels)) == pytest.approx(5 * 35 / 6, rel=1e-6)
  batch = np.concatenate([m, np.zeros_like(m)], axis=0)
  assert float(losses.illumination_smoothness_loss(batch)) == pytest.approx(35 / 12, rel=1e-6)


def test_illumination_smoothness_degenerate_sizes():
  row = np.array([0.0, 1.0, 3.0], np.float32)[None, None, :, None]      # H == 1
  assert float(losses.illumination_smoothness_loss(row)) == pytest.approx(2 * 5 / 2, rel=1e-6)
  col = np.array([0.0, 2.0, 2.0], np.float32)[None, :, None, None]      # W == 1
  assert float(losses.illumination_smoothness_loss(col)) == pytest.approx(2 * 4 / 2, rel=1e-6)
  single = np.full((1, 1, 1, 24), 0.3, np.float32)
  val = _losses.illumination_smoothness_loss(single)          # eager, too
  assert float(val) == 0.0 and val.dtype == jnp.float32
  assert float(losses.illumination_smoothness_loss(np.full((2, 5, 4, 24), 0.7, np.float32))) == 0.0


# --------------------------------------------------------------------------- totals


def _teacher_inputs():
  """Inputs whose four terms are known by hand.

  output: constant (0.2, 0.4, 0.7): RGB mean 1.3/3, colour term sqrt(0.0722);
  exposure 0.5: |1.3/3 - 0.5| = 1/15; image = output - 0.1: spatial 0;
  maps: every channel a column ramp 0.01 * col: 2 * (16*15*24*1e-4) / (16*15) = 0.0048.
  """
  out = np.zeros((1, 16, 16, 3), np.float32)
  out[...] = (0.2, 0.4, 0.7)
  image = out - 0.1
  e = np.full((1, 16, 16, 1), 0.5, np.float32)
  maps = np.broadcast_to(0.01 * np.arange(16, dtype=np.float32)[None, None, :, None],
                         (1, 16, 16, 24)).copy()
  return out, image, e, maps


def test_teacher_losses_default_weights():
  out, image, e, maps = _teacher_inputs()
  terms = losses.teacher_losses(out, image, e, maps)
  assert set(terms) == {"exposure", "spatial", "color", "smoothness", "total"}
  assert float(terms["exposure"]) == pytest.approx(1 / 15, abs=1e-6)
  assert float(terms["spatial"]) == pytest.approx(0.0, abs=1e-10)
  assert float(terms["color"]) == pytest.approx(math.sqrt(0.0722), rel=1e-5)
  assert float(terms["smoothness"]) == pytest.approx(0.0048, rel=1e-4)
  expected = 10 / 15 + 0 + 5 * math.sqrt(0.0722) + 200 * 0.0048
  assert float(terms["total"]) == pytest.approx(expected, rel=1e-5)       # 2.97017...


def test_teacher_losses_weight_overrides_and_options():
  out, image, e, maps = _teacher_inputs()
  image = image.copy()
  image[:, :4, :4] += 0.2                   # make the spatial term non-zero
  base = {k: float(v) for k, v in losses.teacher_losses(out, image, e, maps).items()}
  assert base["spatial"] > 0
  w = {"exposure": 1.0, "spatial": 3.0, "color": 0.0}
  terms = {k: float(v) for k, v in losses.teacher_losses(out, image, e, maps, weights=w).items()}
  expected = 1.0 * base["exposure"] + 3.0 * base["spatial"] + 0.0 + 200.0 * base["smoothness"]
  assert terms["total"] == pytest.approx(expected, rel=1e-5)
  # the per-term values do not depend on the weights
  for name in ("exposure", "spatial", "color", "smoothness"):
    assert terms[name] == pytest.approx(base[name], rel=1e-6)
  # the default weights dict is not mutated by overrides
  assert losses.DEFAULT_WEIGHTS == {"exposure": 10.0, "spatial": 1.0, "color": 5.0, "smoothness": 200.0}


def test_slope_limit_loss_worked_example_and_gradient():
  # Black pixels stay at 0, so every iteration multiplies the slope by (1 + a): with
  # a = 0.5, 1.5^8 = 25.63; white pixels by (1 - a): 0.5^8. Half black, half white.
  image = np.zeros((1, 4, 4, 3), np.float32)
  image[:, :, 2:] = 1.0
  maps = np.full((1, 4, 4, 24), 0.5, np.float32)
  loss = jax.jit(_losses.slope_limit_loss, static_argnames=("max_slope",))
  assert float(loss(image, maps, max_slope=16.0)) == pytest.approx(0.5 * (1.5 ** 8 - 16), rel=1e-5)
  assert float(loss(image, maps, max_slope=30.0)) == 0.0
  # Gradient descent lowers the curve strength where the curve is too steep (black),
  # and leaves it alone where it is not (white).
  grad = np.asarray(jax.grad(lambda m: _losses.slope_limit_loss(image, m, 16.0))(maps))
  assert np.all(grad[:, :, :2] > 0) and np.all(grad[:, :, 2:] == 0)


def test_highlight_slope_loss_counts_only_bright_inputs():
  # White pixels stay at 1 under a darkening curve (a = -0.5), so every iteration
  # multiplies their slope by 1 - a = 1.5: 1.5^8 = 25.63. Black pixels under a = +0.5
  # are as steep but are not highlights. Half black, half white.
  image = np.zeros((1, 4, 4, 3), np.float32)
  image[:, :, 2:] = 1.0
  maps = np.full((1, 4, 4, 24), 0.5, np.float32)
  maps[:, :, 2:] = -0.5
  loss = jax.jit(_losses.highlight_slope_loss, static_argnames=("max_slope",))
  assert float(loss(image, maps, max_slope=6.0)) == pytest.approx(0.5 * (1.5 ** 8 - 6), rel=1e-5)
  assert float(loss(image, maps, max_slope=30.0)) == 0.0
  # Descent weakens the darkening (raises a towards 0) on the white half only.
  grad = np.asarray(jax.grad(lambda m: _losses.highlight_slope_loss(image, m, 6.0))(maps))
  assert np.all(grad[:, :, 2:] < 0) and np.all(grad[:, :, :2] == 0)
  on = losses.teacher_losses(image, image, np.full((1, 4, 4, 1), 0.5, np.float32), maps,
                             weights={"highlight_slope": 2.0}, max_highlight_slope=6.0)
  assert float(on["highlight_slope"]) == pytest.approx(0.5 * (1.5 ** 8 - 6), rel=1e-5)
  assert "highlight_slope" not in losses.teacher_losses(
      image, image, np.full((1, 4, 4, 1), 0.5, np.float32), maps)


def test_shadow_slope_loss_counts_only_darkened_shadows():
  # A mid-grey 0.25 under a = -0.5 for 8 iterations is pulled towards black with a
  # slope well below 0.7; the same curve on white (slope 1.5^8) and a brightening curve
  # on the grey (slope > 1) do not count.
  from cudi_jax.train import curves
  image = np.full((1, 4, 4, 3), 0.25, np.float32)
  image[:, :, 3:] = 1.0
  maps = np.full((1, 4, 4, 24), -0.5, np.float32)
  maps[:, :, 2:3] = 0.1
  slope = np.asarray(curves.high_order_curve_derivative(image, maps, 8))
  assert np.all(slope[:, :, :2] < 0.7) and np.all(slope[:, :, 2:] > 1)
  want = np.mean(np.where(image < 0.5, np.maximum(0.7 - slope, 0), 0))
  loss = jax.jit(_losses.shadow_slope_loss, static_argnames=("min_slope",))
  assert float(loss(image, maps, min_slope=0.7)) == pytest.approx(want, rel=1e-5) and want > 0.1
  assert float(loss(image, maps, min_slope=0.0)) == 0.0
  # Descent weakens the darkening (raises a towards 0) on the darkened grey only.
  grad = np.asarray(jax.grad(lambda m: _losses.shadow_slope_loss(image, m, 0.7))(maps))
  assert np.all(grad[:, :, :2] < 0) and np.all(grad[:, :, 2:] == 0)
  emap = np.full((1, 4, 4, 1), 0.5, np.float32)
  on = losses.teacher_losses(image, image, emap, maps, weights={"shadow_slope": 3.0})
  assert float(on["shadow_slope"]) == pytest.approx(want, rel=1e-5)
  assert "shadow_slope" not in losses.teacher_losses(image, image, emap, maps)


def test_teacher_losses_slope_term_only_when_weighted():
  out, image, e, maps = _teacher_inputs()
  maps = maps + 0.8  # strong curves: slopes up to 1.95^8 near black
  image = np.clip(image - 0.15, 0, 1)
  base = {k: float(v) for k, v in losses.teacher_losses(out, image, e, maps).items()}
  assert "slope" not in base
  off = losses.teacher_losses(out, image, e, maps, weights={"slope": 0.0})
  assert "slope" not in off and float(off["total"]) == pytest.approx(base["total"], rel=1e-6)
  on = {k: float(v) for k, v in losses.teacher_losses(out, image, e, maps,
                                                      weights={"slope": 2.0}).items()}
  want = float(jax.jit(_losses.slope_limit_loss)(image, maps))
  assert on["slope"] == pytest.approx(want, rel=1e-6) and want > 0
  assert on["total"] == pytest.approx(base["total"] + 2.0 * want, rel=1e-5)


def test_teacher_losses_exposure_cell_option():
  # output bright in the top-left 8x8 quadrant, E bright in the bottom-right one:
  # one 16x16 cell sees equal means (0.6 vs 0.6) -> 0; 8x8 cells see two cells off by 0.4
  gray = np.full((1, 16, 16), 0.5, np.float32)
  gray[:, :8, :8] = 0.9
  out = rgb_with_mean(gray, spread=(0.0, 0.0, 0.0))
  e = np.full((1, 16, 16, 1), 0.5, np.float32)
  e[:, 8:, 8:] = 0.9
  maps = np.zeros((1, 16, 16, 24), np.float32)
  t16 = losses.teacher_losses(out, out, e, maps)
  t8 = losses.teacher_losses(out, out, e, maps, exposure_cell=8)
  assert float(t16["exposure"]) == pytest.approx(0.0, abs=1e-6)
  assert float(t8["exposure"]) == pytest.approx(0.2, abs=1e-6)
  assert float(t8["total"]) == pytest.approx(10 * 0.2, abs=1e-5)


# --------------------------------------------------------------------------- distillation


def test_distillation_loss_hand_value_and_unclipped():
  s = np.array([0.1, 0.5, 0.9, 1.2], np.float32).reshape(1, 1, 4, 1)
  t = np.array([0.2, 0.5, 0.6, 1.0], np.float32).reshape(1, 1, 4, 1)
  # (0.1 + 0 + 0.3 + 0.2) / 4 -- values outside [0, 1] are not clipped away
  assert float(losses.distillation_loss(s, t)) == pytest.approx(0.15, abs=1e-6)
  assert float(losses.distillation_loss(t, s)) == pytest.approx(0.15, abs=1e-6)
  assert float(losses.distillation_loss(s, s)) == 0.0


def test_distillation_loss_dark_weight_hand_value():
  # Two pixels with the same error 0.1: a dark target (brightness 0.05) and a bright one
  # (0.95). c = 0.05: weights 1/0.1 = 10 and 1/1.0 = 1, normalised by their mean 5.5.
  t = np.array([[0.05, 0.05, 0.05], [0.95, 0.95, 0.95]], np.float32).reshape(1, 1, 2, 3)
  s = t + np.float32(0.1)
  plain = float(_losses.distillation_loss(s, t))
  assert plain == pytest.approx(0.1, abs=1e-6)
  weighted = jax.jit(_losses.distillation_loss, static_argnames="dark_weight")(s, t, dark_weight=0.05)
  assert float(weighted) == pytest.approx((10 * 0.1 + 1 * 0.1) / 2 / 5.5, abs=1e-6)
  # Only the dark pixel wrong: it counts 10/5.5 as much as under plain L1.
  s_dark = t.copy()
  s_dark[..., 0, :] += 0.1
  assert float(_losses.distillation_loss(s_dark, t, 0.05)) == pytest.approx(
      0.05 * 10 / 5.5, abs=1e-6)
  s_bright = t.copy()
  s_bright[..., 1, :] += 0.1
  assert float(_losses.distillation_loss(s_bright, t, 0.05)) == pytest.approx(
      0.05 * 1 / 5.5, abs=1e-6)
  # Uniform brightness: every weight equal, the plain L1; 0 switches the weighting off.
  u = np.full((1, 2, 2, 3), 0.3, np.float32)
  v = u + np.array([0.1, -0.2, 0.3], np.float32)
  assert float(_losses.distillation_loss(v, u, 0.05)) == pytest.approx(0.2, abs=1e-6)
  assert float(_losses.distillation_loss(v, u, 0.0)) == float(_losses.distillation_loss(v, u))


def test_distillation_loss_dark_weight_gradient_ignores_the_weights():
  t = np.array([[0.02, 0.04, 0.06], [0.7, 0.8, 0.9]], np.float32).reshape(1, 1, 2, 3)
  s = t + np.array([0.1, -0.1, 0.2], np.float32)
  g_s, g_t = jax.grad(_losses.distillation_loss, argnums=(0, 1))(s, t, 0.05)
  w = 1.0 / (0.05 + t.mean(-1, keepdims=True))
  want = np.sign(s - t) * w / w.mean() / s.size
  np.testing.assert_allclose(np.asarray(g_s), want, rtol=1e-5)
  # The weights are constants: the teacher output gets only the L1 part's gradient.
  np.testing.assert_allclose(np.asarray(g_t), -want, rtol=1e-5)


# --------------------------------------------------------------------------- optional terms


def test_region_exposure_loss_ties_region_means_not_cells():
  # Left half E = 0.2, right half E = 0.8. The output has the right mean in each half
  # but strong structure inside it: the region loss is 0, the cell loss is not.
  out = np.zeros((1, 32, 32, 3), np.float32)
  out[:, :, :16] = np.where(np.arange(32)[:, None, None] < 16, 0.1, 0.3)
  out[:, :, 16:] = np.where(np.arange(32)[:, None, None] < 16, 0.7, 0.9)
  e = np.zeros((1, 32, 32, 1), np.float32)
  e[:, :, :16], e[:, :, 16:] = 0.2, 0.8
  assert float(_losses.region_exposure_loss(out, e)) == pytest.approx(0.0, abs=1e-5)
  assert float(_losses.exposure_control_loss(out, e)) == pytest.approx(0.1, abs=1e-6)
  # Each region's error counts once: left half 0.1 too bright -> (0.1 + 0) / 2.
  assert float(_losses.region_exposure_loss(out + np.where(
      np.arange(32)[None, None, :, None] < 16, 0.1, 0.0), e)) == pytest.approx(0.05, abs=1e-6)


def test_region_exposure_loss_constant_map_is_one_region_per_image():
  out = np.stack([np.full((8, 8, 3), 0.3), np.full((8, 8, 3), 0.9)]).astype(np.float32)
  e = np.stack([np.full((8, 8, 1), 0.5), np.full((8, 8, 1), 0.5)]).astype(np.float32)
  # |0.3 - 0.5| and |0.9 - 0.5| averaged over the batch.
  assert float(_losses.region_exposure_loss(out, e)) == pytest.approx(0.3, abs=1e-6)
  g = jax.grad(lambda o: _losses.region_exposure_loss(o, e))(jnp.asarray(out))
  assert np.all(np.isfinite(np.asarray(g)))


def test_log_spatial_consistency_is_free_for_a_gain_but_not_for_an_offset():
  rng = np.random.default_rng(0)
  image = rng.uniform(0.02, 0.2, (1, 16, 16, 3)).astype(np.float32)
  gain, offset = image * 3.0, image + 0.3
  assert float(_losses.spatial_consistency_loss(gain, image, log_eps=1e-9)) == pytest.approx(
      0.0, abs=1e-6)
  assert float(_losses.spatial_consistency_loss(offset, image, log_eps=1e-9)) > 1e-3
  # The paper's linear form ranks them the other way round.
  assert float(_losses.spatial_consistency_loss(offset, image)) == pytest.approx(0.0, abs=1e-9)
  assert float(_losses.spatial_consistency_loss(gain, image)) > 1e-4


def test_color_preservation_keeps_the_input_balance_where_grey_world_does_not():
  image = np.zeros((1, 4, 4, 3), np.float32)
  image[...] = (0.2, 0.1, 0.05)                  # a warm scene
  same_gain = image * 2.5
  grey = np.full_like(image, 0.25)
  assert float(_losses.color_preservation_loss(same_gain, image, eps=0.0)) == pytest.approx(0.0, abs=1e-6)
  assert float(_losses.color_preservation_loss(same_gain, image)) < 1e-3  # eps: near-black guard
  assert float(_losses.color_preservation_loss(grey, image)) > 0.1
  assert float(_losses.color_constancy_loss(grey)) == pytest.approx(0.0, abs=1e-7)
  assert float(_losses.color_constancy_loss(same_gain)) > 0.01
  # Hand value: input means (0.2, 0.1, 0.05), chromaticity (4, 2, 1) / 7; doubling red
  # gives (8, 2, 1) / 11, so d = (8/11 - 4/7, 2/11 - 2/7, 1/11 - 1/7).
  two_one_one = image * np.array([2.0, 1.0, 1.0], np.float32)
  d = np.array([8 / 11 - 4 / 7, 2 / 11 - 2 / 7, 1 / 11 - 1 / 7])
  want = np.sqrt((d[0] - d[1]) ** 4 + (d[0] - d[2]) ** 4 + (d[1] - d[2]) ** 4)
  assert float(_losses.color_preservation_loss(two_one_one, image, eps=0.0)) == pytest.approx(
      want, rel=1e-5)
  # Bounded gradient for a near-black input (the output's brightness sets its scale).
  dark = np.full((1, 4, 4, 3), 1e-4, np.float32)
  g = jax.grad(lambda o: _losses.color_preservation_loss(o, jnp.asarray(dark)))(
      jnp.asarray(np.full((1, 4, 4, 3), 0.4, np.float32) * np.array([1.2, 1.0, 0.8], np.float32)))
  assert float(jnp.abs(g).max()) < 1.0
  # Smooth at the optimum: the gradient vanishes there (an L1 form's would not).
  g = jax.grad(lambda o: _losses.color_preservation_loss(o, jnp.asarray(image), eps=0.0))(
      jnp.asarray(same_gain))
  assert float(jnp.abs(g).max()) < 1e-6


def test_teacher_losses_modes_and_bad_modes():
  rng = np.random.default_rng(1)
  image = rng.uniform(0.05, 0.3, (2, 16, 16, 3)).astype(np.float32)
  out = np.clip(image * 2, 0, 1)
  e = np.full((2, 16, 16, 1), 0.4, np.float32)
  maps = np.zeros((2, 16, 16, 24), np.float32)
  terms = _losses.teacher_losses(out, image, e, maps, exposure_mode="regions", spatial_log_eps=0.01,
                                 color_mode="input")
  assert float(terms["exposure"]) == pytest.approx(float(_losses.region_exposure_loss(out, e)))
  assert float(terms["color"]) == pytest.approx(float(_losses.color_preservation_loss(out, image)))
  assert float(terms["spatial"]) == pytest.approx(
      float(_losses.spatial_consistency_loss(out, image, log_eps=0.01)))
  from cudi_jax.errors import ConfigError
  with pytest.raises(ConfigError, match="exposure_mode"):
    _losses.teacher_losses(out, image, e, maps, exposure_mode="pixels")
  with pytest.raises(ConfigError, match="color_mode"):
    _losses.teacher_losses(out, image, e, maps, color_mode="auto")
