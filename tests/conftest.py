"""Shared fixtures for the core tests.

Nothing here imports JAX at module level, so NumPy-only test modules stay cheap.
Flax ``init`` is slow on CPU (tens of seconds for the teacher, RNG compilation),
so model parameters are built from ``jax.eval_shape`` structures filled with
seeded NumPy draws instead.
"""
import os
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
  sys.path.insert(0, REPO_ROOT)


def random_student_flat(seed=0, std=0.3, width=16):
  """Flat student params (the export format) drawn from N(0, std), float32.

  std=0.3 gives slope/intercept maps far from the identity (K deviates from 1 and
  B from 0 by O(0.1..1)), unlike the N(0, 0.02) training init.
  """
  from cudi_jax import student_math
  rng = np.random.default_rng(seed)
  return {name: rng.normal(0.0, std, shape).astype(np.float32)
          for name, shape in sorted(student_math.student_param_shapes(width).items())}


def flax_student_variables(flat):
  """Flat student params -> Flax variables {'params': {'conv{i}': {...}}}."""
  import jax.numpy as jnp
  from cudi_jax import student_math
  tree = student_math.unflatten_params({k: jnp.asarray(v) for k, v in flat.items()})
  return {"params": tree}


@pytest.fixture(scope="session")
def make_student_flat():
  """The :func:`random_student_flat` factory (import-free access for test modules)."""
  return random_student_flat


@pytest.fixture(scope="session")
def to_flax_variables():
  """The :func:`flax_student_variables` converter."""
  return flax_student_variables


@pytest.fixture(scope="session")
def student_flat():
  """Realistic-magnitude random student parameters (seeded)."""
  return random_student_flat(seed=1234, std=0.3)


@pytest.fixture(scope="session")
def student_variables(student_flat):
  return flax_student_variables(student_flat)


@pytest.fixture(scope="session")
def student_apply():
  """jit-compiled Student().apply (the 'auto' depthwise implementation)."""
  import jax
  from cudi_jax.train import models
  return jax.jit(models.Student().apply)


@pytest.fixture(scope="session")
def photo():
  """A real photo as float32 (H, W, 3) in [0, 1] (skimage's astronaut, 512x512)."""
  skdata = pytest.importorskip("skimage.data")
  return np.asarray(skdata.astronaut(), np.float32) / 255.0


def random_teacher_variables(width=4, multipliers=(1, 2, 2, 2, 2), convs_per_block=1, seed=0,
                             std=0.02):
  """(Teacher module, variables) of a small teacher with N(0, std) weights, built from
  the shapes only (no init pass)."""
  import jax
  import jax.numpy as jnp
  from cudi_jax.train import models
  module = models.build("teacher", {"width": width, "multipliers": multipliers,
                                    "convs_per_block": convs_per_block})
  shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)),
                          jnp.zeros((1, 16, 16, 1)))
  rng = np.random.default_rng(seed)
  variables = jax.tree.map(lambda s: rng.normal(0.0, std, s.shape).astype(np.float32), shapes)
  return module, variables


@pytest.fixture(scope="session")
def make_teacher_variables():
  """The :func:`random_teacher_variables` factory."""
  return random_teacher_variables
