"""The editor's soft brush (cudi_jax/edit/brush.py)."""
import numpy as np
import pytest

from cudi_jax.edit import brush


def test_falloff_hard_inside_soft_edge():
  d = np.array([0.0, 0.3, 0.5, 0.75, 1.0, 1.5], np.float32)
  w = brush.falloff(d, 0.5)
  assert np.allclose(w[:3], 1.0) and np.allclose(w[4:], 0.0)
  assert 0.0 < w[3] < 1.0 and np.isclose(w[3], 0.5)
  assert np.all(np.diff(brush.falloff(np.linspace(0, 1, 50), 0.0)) <= 0)


def test_stroke_mask_is_a_swept_disc():
  s = brush.Stroke((40, 60), radius=5, hardness=1.0, strength=1.0, mode="brighten")
  s.extend([(10.5, 20.5), (40.5, 20.5)])
  assert s.mask[20, 25] == 1.0 and s.mask[20, 8] == 1.0  # on the line, and a cap
  assert s.mask[20, 47] == 0.0 and s.mask[10, 25] == 0.0
  y0, y1, x0, x1 = s.box
  assert (y0, x0) <= (15, 5) and y1 >= 26 and x1 >= 46
  # dense and sparse points give the same stroke (no beads)
  dense = brush.Stroke((40, 60), 5, 0.3, 1.0, "brighten")
  dense.extend([(x + 0.5, 20.5) for x in range(10, 41)])
  sparse = brush.Stroke((40, 60), 5, 0.3, 1.0, "brighten")
  sparse.extend([(10.5, 20.5), (40.5, 20.5)])
  assert np.allclose(dense.mask, sparse.mask, atol=1e-5)


def test_single_click_and_outside_points():
  s = brush.Stroke((20, 20), 3, 0.5, 1.0, "darken")
  s.extend([(10, 10)])
  assert s.mask[9, 9] > 0.9 and s.box is not None
  far = brush.Stroke((20, 20), 3, 0.5, 1.0, "darken")
  far.extend([(-100, -100)])
  assert far.box is None and not far.mask.any()


def test_apply_modes_and_limits():
  shape = (1, 4)
  base = np.full(shape, 0.5, np.float32)
  offset = np.array([[0.0, 0.4, -0.2, 0.3]], np.float32)
  s = brush.Stroke(shape, 100, 1.0, 1.0, "brighten")
  s.extend([(2, 0.5)])
  up = s.apply(offset, base)
  assert np.allclose(base + up, [[1.0, 1.0, 0.8, 1.0]])  # +0.5, kept within [0, 1]
  s.mode = "darken"
  down = s.apply(offset, base)
  assert np.allclose(base + down, [[0.0, 0.4, 0.0, 0.3]])
  s.mode, s.strength = "erase", 0.5
  assert np.allclose(s.apply(offset, base), offset * 0.5)
  with pytest.raises(ValueError):
    brush.Stroke(shape, 1, 0, 1, "blur")
