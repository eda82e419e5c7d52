"""Light-enhancement curves: LE step, the 8-step high-order curve, its derivative and tangent."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cudi_jax import student_math
from cudi_jax.train import curves

# jitted entry points (one compile per shape; eager op-by-op dispatch is slow on CPU)
hoc = jax.jit(curves.high_order_curve, static_argnames="num_iterations")
hoc_derivative = jax.jit(curves.high_order_curve_derivative, static_argnames="num_iterations")
def _tangent_at(x0, maps, num_iterations=curves.NUM_ITERATIONS):
  """Slope and intercept of the high-order curve's tangent at x0 (from the analytic
  derivative), to check the derivative against the curve itself."""
  k = curves.high_order_curve_derivative(x0, maps, num_iterations)
  return k, curves.high_order_curve(x0, maps, num_iterations) - k * x0


tangent_at = jax.jit(_tangent_at, static_argnames="num_iterations")


def const_maps(values, num_iterations=curves.NUM_ITERATIONS):
  """(3 * n,) maps: iteration k uses values[k] on all three channels (0 past the list)."""
  a = np.zeros(3 * num_iterations, np.float64)
  for k, v in enumerate(values):
    a[3 * k : 3 * k + 3] = v
  return a


# --------------------------------------------------------------------------- LE step


@pytest.mark.parametrize("x, a, expected", [
    (0.5, 1.0, 0.75),     # 0.5 + 0.25
    (0.5, -1.0, 0.25),    # 0.5 - 0.25
    (0.2, 0.5, 0.28),     # 0.2 + 0.5 * 0.16
    (0.9, -0.5, 0.855),   # 0.9 - 0.5 * 0.09
    (0.0, 0.7, 0.0),      # fixed points 0 and 1
    (1.0, -0.7, 1.0),
    (0.3, 0.0, 0.3),      # a = 0 is the identity
])
def test_le_step_hand_values(x, a, expected):
  assert float(curves.le_step(jnp.float32(x), jnp.float32(a))) == pytest.approx(expected, abs=1e-6)


def test_le_step_broadcasts_per_channel():
  x = jnp.array([[0.5, 0.5, 0.5]], jnp.float32)
  a = jnp.array([[1.0, 0.0, -1.0]], jnp.float32)
  np.testing.assert_allclose(curves.le_step(x, a), [[0.75, 0.5, 0.25]], atol=1e-7)


# --------------------------------------------------------------------------- high-order curve


def test_high_order_curve_closed_forms():
  # a = 1 everywhere: x -> 1 - (1 - x)^2 per step, so LE_8 = 1 - (1 - x)^256.
  # a = -1 everywhere: x -> x^2 per step, so LE_8 = x^256.
  x = jnp.array([0.01, 0.02, 0.99], jnp.float32)
  up = hoc(x[:, None] * jnp.ones(3), jnp.ones(24))
  down = hoc(x[:, None] * jnp.ones(3), -jnp.ones(24))
  xs = np.array([0.01, 0.02, 0.99])
  np.testing.assert_allclose(up[:, 0], 1 - (1 - xs) ** 256, rtol=1e-5)
  np.testing.assert_allclose(down[:, 0], xs ** 256, rtol=1e-3, atol=1e-30)
  assert float(down[2, 0]) == pytest.approx(0.99 ** 256, rel=1e-3)  # 0.0763...


def test_high_order_curve_iteration_order_and_channels():
  # maps are iteration-major: maps[..., 3k:3k+3] is A_{k+1} for (R, G, B).
  # Iteration 1: a = 1 then iteration 2: a = -1 on R: 0.5 -> 0.75 -> 0.5625.
  # The reverse order on G: 0.5 -> 0.25 -> 0.4375. B: untouched (all zero).
  maps = np.zeros(24, np.float32)
  maps[0], maps[3] = 1.0, -1.0          # R: iteration 1 = +1, iteration 2 = -1
  maps[1], maps[4] = -1.0, 1.0          # G: iteration 1 = -1, iteration 2 = +1
  out = hoc(jnp.full((3,), 0.5, jnp.float32), jnp.asarray(maps))
  np.testing.assert_allclose(out, [0.5625, 0.4375, 0.5], atol=1e-7)


def test_high_order_curve_num_iterations_argument():
  maps = jnp.asarray(const_maps([1.0, 1.0], num_iterations=2), jnp.float32)
  out = hoc(jnp.full((3,), 0.5, jnp.float32), maps, num_iterations=2)
  np.testing.assert_allclose(out, 1 - 0.5 ** 4, atol=1e-7)  # 1 - (1 - x)^(2^2)


def _random_maps(rng, count):
  """count x 24 maps in [-1, 1] including the extremes a = +-1."""
  maps = [rng.uniform(-1, 1, (count, 24)),
          rng.choice([-1.0, 1.0], (count, 24)),            # random sign patterns of |a| = 1
          np.ones((1, 24)), -np.ones((1, 24)), np.zeros((1, 24))]
  return np.concatenate(maps)


def test_high_order_curve_monotonic_and_in_unit_range_float64():
  rng = np.random.default_rng(0)
  maps = _random_maps(rng, 40)[:, None, :]                      # (M, 1, 24)
  x = np.repeat(np.linspace(0.0, 1.0, 2001)[:, None], 3, axis=1)  # (N, 3)
  y = curves.high_order_curve(x, maps)                          # pure arithmetic: float64 NumPy
  assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == (83, 2001, 3)
  assert y.min() >= 0.0 and y.max() <= 1.0
  assert np.all(np.diff(y, axis=1) >= -1e-15)
  # endpoints are fixed points, and the curves are not all the identity
  np.testing.assert_array_equal(y[:, 0], 0.0)
  np.testing.assert_array_equal(y[:, -1], 1.0)
  assert np.abs(y - x).max() > 0.5


def test_high_order_curve_monotonic_and_in_unit_range_float32():
  rng = np.random.default_rng(1)
  maps = jnp.asarray(_random_maps(rng, 20)[:, None, :], jnp.float32)
  x = jnp.repeat(jnp.linspace(0.0, 1.0, 1025, dtype=jnp.float32)[:, None], 3, axis=1)
  y = np.asarray(hoc(x, maps))
  assert y.dtype == np.float32
  assert y.min() >= 0.0 and y.max() <= 1.0
  assert np.all(np.diff(y, axis=1) >= -1e-6)


# --------------------------------------------------------------------------- derivative / tangent


def test_derivative_hand_value():
  # two iterations, a1 = 1, a2 = -1: f(x) = (2x - x^2)^2, f'(x) = 2 (2x - x^2)(2 - 2x)
  maps = jnp.asarray(const_maps([1.0, -1.0], num_iterations=2), jnp.float32)
  for x in (0.5, 0.2, 0.9):
    expected = 2 * (2 * x - x * x) * (2 - 2 * x)
    got = hoc_derivative(jnp.full((3,), x, jnp.float32), maps, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def _finite_difference(x, maps, h=1e-6):
  """Central difference of the curve in float64 (NumPy; the curve is pure arithmetic)."""
  return (curves.high_order_curve(x + h, maps) - curves.high_order_curve(x - h, maps)) / (2 * h)


def test_derivative_matches_central_difference():
  rng = np.random.default_rng(2)
  maps = rng.uniform(-1, 1, (30, 1, 24))
  x = np.repeat(np.linspace(0.01, 0.99, 99)[:, None], 3, axis=1)
  fd = _finite_difference(x, maps)
  assert np.abs(fd).max() > 1.5 and fd.min() >= 0  # steep and monotonic somewhere
  got32 = np.asarray(hoc_derivative(jnp.asarray(x, jnp.float32),
                                                        jnp.asarray(maps, jnp.float32)))
  np.testing.assert_allclose(got32, fd, rtol=2e-4, atol=2e-5)
  # float64 through JAX, scoped so the global x64 setting is untouched
  with jax.enable_x64(True):
    got64 = np.asarray(hoc_derivative(jnp.asarray(x), jnp.asarray(maps)))
    assert got64.dtype == np.float64
  assert not jnp.zeros(1).dtype == jnp.float64
  np.testing.assert_allclose(got64, fd, rtol=1e-7, atol=1e-8)


def test_tangent_at_touches_the_curve_with_the_derivative_slope():
  rng = np.random.default_rng(3)
  maps = rng.uniform(-1, 1, (10, 1, 24))
  x0 = np.repeat(np.linspace(0.05, 0.95, 19)[:, None], 3, axis=1)
  with jax.enable_x64(True):
    k, b = tangent_at(jnp.asarray(x0), jnp.asarray(maps))
    k, b = np.asarray(k), np.asarray(b)
  y0 = curves.high_order_curve(x0, maps)
  np.testing.assert_allclose(k * x0 + b, y0, atol=1e-12)            # TL(x0) = LE_n(x0)
  np.testing.assert_allclose(k, _finite_difference(x0, maps), rtol=1e-7, atol=1e-8)
  # second-order contact: the gap to the curve shrinks ~4x when the offset halves
  gaps = []
  for h in (2e-3, 1e-3):
    gaps.append(np.abs(curves.high_order_curve(x0 + h, maps) - (k * (x0 + h) + b)))
  mask = gaps[0] > 1e-10
  assert mask.mean() > 0.5
  ratio = gaps[0][mask] / gaps[1][mask]
  assert np.median(ratio) == pytest.approx(4.0, rel=0.05)


def test_tangent_at_float32_and_hand_value():
  # one active iteration a = 1: f = 2x - x^2, tangent at 0.5: K = 1, B = 0.75 - 0.5 = 0.25
  maps = jnp.asarray(const_maps([1.0]), jnp.float32)
  k, b = tangent_at(jnp.full((3,), 0.5, jnp.float32), maps)
  np.testing.assert_allclose(k, 1.0, atol=1e-7)
  np.testing.assert_allclose(b, 0.25, atol=1e-7)
  # tangent at 0.2: K = 2 - 0.4 = 1.6, B = f(0.2) - 0.32 = 0.36 - 0.32 = 0.04
  k, b = tangent_at(jnp.full((3,), 0.2, jnp.float32), maps)
  np.testing.assert_allclose(k, 1.6, rtol=1e-6)
  np.testing.assert_allclose(b, 0.04, atol=1e-6)


def test_tangent_line_clip():
  k = jnp.full((3,), 2.0)
  b = jnp.full((3,), -0.5)
  x = jnp.array([0.0, 0.5, 1.0])
  np.testing.assert_allclose(student_math.tangent_apply(k, b, x, jnp, clip=False), [-0.5, 0.5, 1.5])
  np.testing.assert_allclose(student_math.tangent_apply(k, b, x, jnp), [0.0, 0.5, 1.0])
