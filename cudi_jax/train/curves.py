"""Light-enhancement curves (JAX).

All maps are (..., H, W, C) arrays; images are in [0, 1].
"""
import jax.numpy as jnp

NUM_ITERATIONS = 8


def le_step(x, a):
  """One quadratic curve step LE(x) = x + a * x * (1 - x), a in [-1, 1]."""
  return x + a * x * (1.0 - x)


def split_curve_maps(maps, num_iterations=NUM_ITERATIONS):
  """(..., 3 * n) curve maps -> list of n (..., 3) maps, iteration-major order."""
  return [maps[..., 3 * k : 3 * (k + 1)] for k in range(num_iterations)]


def high_order_curve(x, maps, num_iterations=NUM_ITERATIONS):
  """Applies LE n times with one 3-channel map A_k per iteration.

  x: (..., 3) in [0, 1]; maps: (..., 3 * n) in [-1, 1]. Returns (..., 3) in [0, 1].
  """
  for a in split_curve_maps(maps, num_iterations):
    x = le_step(x, a)
  return x


def high_order_curve_derivative(x, maps, num_iterations=NUM_ITERATIONS):
  """d LE_n / d x = prod_k (1 + A_k (1 - 2 LE_{k-1})): the analytic tangent slope."""
  slope = jnp.ones_like(x)
  for a in split_curve_maps(maps, num_iterations):
    slope = slope * (1.0 + a * (1.0 - 2.0 * x))
    x = le_step(x, a)
  return slope
