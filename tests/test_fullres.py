"""The engine's full-resolution stage (cudi_jax.runtime.fullres)."""
import numpy as np

from cudi_jax import student_math
from cudi_jax.runtime import fullres


class _Scratch:
  def __init__(self, rows, w):
    self.im2col = np.empty((rows * w, 9), np.float32)


def test_edge_padding_of_a_band():
  m = np.zeros((4, 5, 3), np.float32)
  m[1:3, 1:4] = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
  fullres.pad_edges(m, top=1, bottom=True, w=3)
  np.testing.assert_array_equal(m[0], m[1])
  np.testing.assert_array_equal(m[3], m[2])
  np.testing.assert_array_equal(m[:, 0], m[:, 1])
  np.testing.assert_array_equal(m[:, 4], m[:, 3])


def test_horizontal_upsampling_is_the_students_bilinear_x4():
  rng = np.random.default_rng(0)
  rows, w = 3, 7
  low = np.zeros((rows, w + 2, 3), np.float32)
  low[:, 1:w + 1] = rng.random((rows, w, 3), dtype=np.float32)
  fullres.pad_edges(low, top=0, bottom=False, w=w)
  out = np.empty((rows, 4 * w * 3), np.float32)
  fullres.hupsample(low, out, _Scratch(rows, w), mnk=None)
  want = student_math.upsample4_axis(low[:, 1:w + 1], 1, np)
  np.testing.assert_allclose(out.reshape(rows, 4 * w, 3), want, atol=1e-6)
