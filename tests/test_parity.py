"""NumPy runtime vs the JAX/Flax student: same K, B and enhanced image.

The runtime is exercised only through its public methods
(``StudentRuntime(params).enhance``) so that a faster
(banded / threaded) implementation stays guarded by these tests. Weights are
drawn from N(0, 0.3), so K and B are far from the identity (1, 0), unlike the
N(0, 0.02) training init where almost any implementation would agree.
"""
import jax.numpy as jnp
import numpy as np
import pytest

from cudi_jax import student_math
from cudi_jax.exposure import resolve
from cudi_jax.exposure import values
from cudi_jax.train import exposure_maps
from cudi_jax.runtime import StudentRuntime

TOL = 1e-5


@pytest.fixture(scope="module")
def runtime(student_flat):
  return StudentRuntime(student_flat)


def resize_photo(photo, h, w):
  transform = pytest.importorskip("skimage.transform")
  return np.clip(transform.resize(photo, (h, w), order=1, anti_aliasing=True), 0, 1).astype(np.float32)


def check_parity(runtime, student_apply, student_variables, image, emap):
  """Compares K, B and the final image; returns the runtime's outputs."""
  out_np, k_np, b_np = runtime.enhance(image, values.PixelMap(emap), return_maps=True)
  h, w = image.shape[:2]
  assert k_np.shape == b_np.shape == out_np.shape == (h, w, 3)
  assert k_np.dtype == b_np.dtype == out_np.dtype == np.float32
  k_j, b_j = student_apply(student_variables, jnp.asarray(image)[None], jnp.asarray(emap)[None, ..., None])
  out_j = student_math.tangent_apply(k_j, b_j, jnp.asarray(image)[None], jnp)
  np.testing.assert_allclose(k_np, np.asarray(k_j[0]), rtol=0, atol=TOL)
  np.testing.assert_allclose(b_np, np.asarray(b_j[0]), rtol=0, atol=TOL)
  np.testing.assert_allclose(out_np, np.asarray(out_j[0]), rtol=0, atol=TOL)
  assert out_np.min() >= 0.0 and out_np.max() <= 1.0
  return k_np, b_np, out_np


@pytest.mark.parametrize("size", [(64, 64), (37, 23), (3, 5), (1, 1)])
def test_parity_random_images(size, runtime, student_apply, student_variables):
  rng = np.random.default_rng(sum(size))
  image = rng.uniform(0, 1, size + (3,)).astype(np.float32)
  emap = rng.uniform(0.2, 0.8, size).astype(np.float32)
  k, b, out = check_parity(runtime, student_apply, student_variables, image, emap)
  if size[0] * size[1] > 100:
    assert np.abs(k - 1).mean() > 0.1 and np.abs(b).mean() > 0.05   # far from the identity
    assert np.abs(out - image).mean() > 0.05


@pytest.mark.parametrize("size, exposure", [
    ((517, 333), "adaptive"),
    ((517, 333), "training"),
    ((37, 23), "under"),
])
def test_parity_real_photo(size, exposure, photo, runtime, student_apply, student_variables):
  h, w = size
  if h > photo.shape[0] or w > photo.shape[1]:
    image = resize_photo(photo, h, w)                 # 512x512 -> 517x333
  else:
    image = np.ascontiguousarray(photo[100:100 + h, 200:200 + w])     # an odd-size crop
  if exposure == "training":
    emap = exposure_maps.training_map(11, h, w)
  else:
    emap = values.full_map(resolve.DEFAULT_RULES.resolve_image(exposure, image), image)
  k, b, out = check_parity(runtime, student_apply, student_variables, image, emap)
  assert np.abs(k - 1).mean() > 0.1


def test_runtime_accepts_float64_and_matches_float32(runtime):
  rng = np.random.default_rng(12)
  image = rng.uniform(0, 1, (9, 10, 3))
  a = runtime.enhance(image, 0.55)
  b = runtime.enhance(image.astype(np.float32), np.full((9, 10), 0.55, np.float32))
  assert a.dtype == np.float64 and b.dtype == np.float32
  np.testing.assert_allclose(a, b, atol=1e-6)


def test_runtime_rejects_mismatched_params(student_flat):
  missing = dict(student_flat)
  del missing["conv3/dw_bias"]
  with pytest.raises(ValueError, match="conv3/dw_bias"):
    StudentRuntime(missing)
  extra = dict(student_flat, **{"conv8/pw_bias": np.zeros(6, np.float32)})
  with pytest.raises(ValueError):
    StudentRuntime(extra)
  wrong = dict(student_flat, **{"conv7/pw_kernel": np.zeros((32, 5), np.float32)})
  with pytest.raises(ValueError, match="conv7/pw_kernel"):
    StudentRuntime(wrong)
