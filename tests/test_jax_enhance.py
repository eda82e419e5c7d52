"""The batched JAX enhancer and export verification (cudi_jax.train.jax_enhance)."""
import numpy as np
import pytest

from cudi_jax import weights
from cudi_jax.runtime import api as runtime
from tests import helpers

pytest.importorskip("jax")


@pytest.fixture(scope="module")
def params():
  return helpers.random_student_flat(seed=11, std=0.3)


@pytest.fixture(scope="module")
def weights_file(params, tmp_path_factory):
  path = tmp_path_factory.mktemp("weights") / "student.npz"
  weights.export_student(params, {"training": {"step": 3}}, path)
  return path



def test_jax_enhancer_shares_the_weights(weights_file, params):
  pytest.importorskip("jax")
  from cudi_jax.train import jax_enhance
  rng = np.random.default_rng(8)
  images = rng.uniform(0, 1, (2, 22, 27, 3)).astype(np.float32)
  maps = rng.uniform(0.2, 0.8, (2, 22, 27, 1)).astype(np.float32)
  numpy_model = runtime.load_student(weights_file)
  for source in (weights_file, params):
    enhance = jax_enhance.make_jax_enhancer(source, return_maps=True)
    out, k, b = (np.asarray(a) for a in enhance(images, maps))
    assert out.shape == (2, 22, 27, 3)
    for i in range(2):
      o_n, k_n, b_n = numpy_model.enhance(images[i], maps[i, ..., 0], return_maps=True)
      np.testing.assert_allclose(out[i], o_n, atol=1e-5, rtol=0)
      np.testing.assert_allclose(k[i], k_n, atol=1e-5, rtol=0)
      np.testing.assert_allclose(b[i], b_n, atol=1e-5, rtol=0)
  plain = jax_enhance.make_jax_enhancer(weights_file)
  np.testing.assert_allclose(np.asarray(plain(images, maps[..., 0])), out, atol=1e-6)
  u8 = np.floor(np.clip(out[0], 0, 1) * np.float32(255) + np.float32(0.5)).astype(np.uint8)
  assert np.abs(u8.astype(np.int64) - numpy_model.enhance(
      (images[0] * 255).round().astype(np.uint8), maps[0, ..., 0]).astype(np.int64)).max() <= 2


def test_verify_export_passes_and_detects_a_mismatch(weights_file, monkeypatch):
  pytest.importorskip("jax")
  from cudi_jax.train import jax_enhance
  from cudi_jax.runtime import api as runtime
  rows = jax_enhance.verify_export(weights_file)
  assert len(rows) >= 4
  assert all(max(r[1:4]) <= 1e-5 for r in rows)
  original = runtime.StudentRuntime.enhance

  def broken(self, image, exposure="auto", color="natural", return_maps=False, progress=None):
    result = original(self, image, exposure, color, return_maps, progress)
    if return_maps:
      out, k, b = result
      return out, k + np.float32(1e-4), b
    return result

  monkeypatch.setattr(runtime.StudentRuntime, "enhance", broken)
  with pytest.raises(jax_enhance.VerificationError, match="dK"):
    jax_enhance.verify_export(weights_file, samples=jax_enhance.sample_inputs()[:1])