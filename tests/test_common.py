"""Loading photos and models for evaluation (cudi_jax.eval.common)."""
import numpy as np
import pytest
from PIL import Image

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common


def test_local_maps():
  emap, regions = eval_common.local_map("halves", 10, 20)
  assert emap[:, :10].max() == pytest.approx(0.3) and emap[:, 10:].min() == pytest.approx(0.7)
  assert regions["left"].sum() + regions["right"].sum() == 200
  emap, regions = eval_common.local_map("ellipse", 40, 60)
  assert emap[20, 30] == pytest.approx(0.7) and emap[0, 0] == pytest.approx(0.3)
  with pytest.raises(ValueError):
    eval_common.local_map("star", 10, 10)


def test_global_gain_reaches_its_target_after_clipping():
  rng = np.random.default_rng(0)
  image = (rng.random((20, 30, 3)) ** 3 * 0.3).astype(np.float32)
  image[0, 0] = 0.29                          # saturates under the gain: clipping matters
  out = eval_common.global_gain(image, 0.5)
  luma = out @ np.array(imagemath.LUMA_BT709)
  assert luma.mean() == pytest.approx(0.5, abs=1e-4)
  assert out.max() == 1.0 and out.min() >= 0.0
  gains = out[image > 0.001] / image[image > 0.001]
  assert np.ptp(gains[out[image > 0.001] < 1.0]) < 1e-3   # one gain for the whole photo
  assert np.array_equal(eval_common.global_gain(np.zeros((4, 4, 3), np.float32)), np.zeros((4, 4, 3)))


def test_parse_exposure(tmp_path):
  assert eval_common.parse_exposure("0.4") == pytest.approx(0.4)
  assert eval_common.parse_exposure("Under") == "under"
  with pytest.raises(ValueError):
    eval_common.parse_exposure("bright")
  m = tmp_path / "map.png"
  Image.fromarray(np.full((4, 4), 128, np.uint8)).save(m)
  assert eval_common.parse_exposure(str(m)) == m


def _global_gain_by_its_own_loop(image, target=0.5):
  """global_gain as it was written before it used imagemath.bisect_increasing."""
  image = np.asarray(image, np.float32)
  weights = np.array(imagemath.LUMA_BT709, np.float32)
  lit = image[image > 0]
  lo, hi = 0.0, 1.0 / float(lit.min())
  for _ in range(50):
    g = 0.5 * (lo + hi)
    if float((np.minimum(image * np.float32(g), 1.0) @ weights).mean()) < target:
      lo = g
    else:
      hi = g
  return np.clip(image * np.float32(lo), 0.0, 1.0)


@pytest.mark.parametrize("seed, scale, target", [(0, 0.1, 0.5), (1, 0.9, 0.5), (2, 0.3, 0.25)])
def test_global_gain_is_bit_identical_to_its_former_loop(seed, scale, target):
  image = (np.random.default_rng(seed).random((17, 23, 3)) ** 2 * scale).astype(np.float32)
  np.testing.assert_array_equal(eval_common.global_gain(image, target),
                                _global_gain_by_its_own_loop(image, target))


def test_unreadable_images_name_the_file(tmp_path):
  bad = tmp_path / "bad.png"
  bad.write_bytes(b"\x89PNG\r\n\x1a\nxx")
  with pytest.raises(eval_common.UnreadableImage, match=f"^{bad}: corrupt PNG"):
    eval_common.read_float_image(bad)
  seen = []
  assert eval_common.load_photo("bad", bad, on_error=lambda n, e: seen.append(n)) is None
  assert seen == ["bad"]
  arr = np.zeros((2, 2, 3), np.float32)
  assert eval_common.load_photo("arr", arr) is arr
  with pytest.raises(eval_common.EvaluationError, match="no such file"):
    eval_common.expand_image_paths([tmp_path / "missing"])


def test_default_targets():
  assert eval_common.DEFAULT_TARGETS == (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
