"""The teacher on tiles (cudi_jax.eval.teacher_runner; needs JAX)."""
import numpy as np
import pytest

from cudi_jax.eval import common as eval_common
from cudi_jax.exposure import values as exposure_values
from tests import helpers


@pytest.fixture(scope="module")
def teacher_npz(tmp_path_factory):
  pytest.importorskip("flax")
  return helpers.export_teacher_npz(tmp_path_factory.mktemp("teacher") / "teacher.npz")


def test_tile_windows_partition():
  pytest.importorskip("jax")
  from cudi_jax.eval import teacher_runner
  for n, tile, margin in [(10, 4, 2), (100, 32, 8), (33, 512, 64), (70, 24, 16)]:
    wins = teacher_runner.tile_windows(n, tile, margin)
    assert wins[0][2] == 0 and wins[-1][3] == n
    assert len({ws_we[1] - ws_we[0] for ws_we in wins}) == 1  # one window size: one compilation
    for (ws, we, cs, ce), nxt in zip(wins, wins[1:] + [None]):
      assert 0 <= ws <= cs < ce <= we <= n
      if nxt:
        assert nxt[2] == ce


def test_teacher_npz_runner_tiled_equals_whole(teacher_npz, tmp_path):
  from cudi_jax.eval import teacher_runner
  tiled = teacher_runner.load_teacher_runner(teacher_npz, tile=16, margin=12)
  module = tiled.module
  assert (module.width, tuple(module.multipliers), module.convs_per_block) == (4, (1, 2, 2, 2, 2), 1)
  whole = teacher_runner.TeacherRunner(tiled.module, tiled.variables, tile=None)
  image = eval_common.load_image(helpers.write_pair_photos(tmp_path)[0] / "p0.png")
  emap = exposure_values.PixelMap(np.full(image.shape[:2], 0.6, np.float32))
  a, b = tiled(image, emap), whole(image, emap)
  assert a.shape == image.shape and a.dtype == np.float32
  np.testing.assert_allclose(a, b, atol=1e-3)
