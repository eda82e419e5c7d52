"""tools/widen_student.py: a wider student that computes exactly what the original did."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from cudi_jax import weights
from cudi_jax import student_math

REPO = Path(__file__).resolve().parents[1]


def _tool():
  spec = importlib.util.spec_from_file_location("widen_student",
                                                REPO / "tools" / "widen_student.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.mark.parametrize("width", [16, 24, 32])
def test_widened_student_has_the_new_shapes_and_the_same_maps(make_student_flat, width):
  tool = _tool()
  params = make_student_flat(seed=3, std=0.3)
  wide = tool.widen(params, width, seed=1)
  assert {k: v.shape for k, v in wide.items()} == student_math.student_param_shapes(width)
  rng = np.random.default_rng(0)
  image = rng.uniform(0, 1, (2, 37, 29, 3)).astype(np.float32)
  exposure = rng.uniform(0.2, 0.8, (2, 37, 29, 1)).astype(np.float32)
  k0, b0 = student_math.student_maps(params, image, exposure, np)
  k1, b1 = student_math.student_maps(wide, image, exposure, np)
  np.testing.assert_allclose(k1, k0, atol=1e-5)
  np.testing.assert_allclose(b1, b0, atol=1e-5)
  if width > 16:
    # The new channels are live (non-zero incoming weights) but not yet read.
    assert np.abs(wide["conv1/pw_kernel"][:, 16:]).min() > 0
    assert not wide["conv2/pw_kernel"][16:, :16].any()
    # Layer 5 reads [layer 4, layer 3]: layer 3's old channels moved to offset `width`.
    np.testing.assert_array_equal(wide["conv5/pw_kernel"][width:width + 16, :16],
                                  params["conv5/pw_kernel"][16:32])


def test_widen_command_writes_a_loadable_export(make_student_flat, tmp_path):
  tool = _tool()
  source, output = tmp_path / "s.npz", tmp_path / "wide.npz"
  weights.save_export(str(source), "student", make_student_flat(seed=4))
  tool.main([str(source), str(output), "--width", "20"])
  wide = weights.load_export(str(output), kind="student")
  assert wide.metadata["architecture"]["width"] == 20
  with pytest.raises(ValueError, match="cannot narrow"):
    tool.widen(make_student_flat(seed=4), 8)
