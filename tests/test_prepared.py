"""Input images for the runtime: layout facts, byte order and float range."""
import numpy as np
import pytest

from cudi_jax.runtime.prepared import Prepared, check_float_range


def test_layouts():
  rgba = Prepared(np.zeros((4, 5, 4), np.uint8))
  assert rgba.alpha_index == 3 and not rgba.gray and rgba.color.shape == (4, 5, 3)
  grey_alpha = Prepared(np.zeros((4, 5, 2), np.uint16))
  assert grey_alpha.alpha_index == 1 and grey_alpha.gray and grey_alpha.maxval == 65535
  grey = Prepared(np.zeros((4, 5), np.float32))
  assert grey.alpha_index is None and grey.gray and grey.maxval == 1.0 and grey.shape2 == (4, 5)


def test_byte_order_is_made_native():
  p = Prepared(np.arange(12, dtype=">u2").reshape(2, 2, 3))
  assert p.image.dtype.isnative and p.image[1, 1, 2] == 11


@pytest.mark.parametrize("bad, error", [
    (np.zeros((4, 4, 3), np.int32), TypeError),
    (np.zeros((4, 4, 5), np.uint8), ValueError),
    (np.zeros((0, 4, 3), np.uint8), ValueError),
    (np.full((2, 2, 3), 255.0, np.float32), ValueError),
])
def test_bad_inputs(bad, error):
  with pytest.raises(error):
    Prepared(bad)


def test_float_range_tolerance_and_hint():
  check_float_range(np.array([0.0, 1.0 + 5e-7]))
  with pytest.raises(ValueError, match="divide by 255"):
    check_float_range(np.array([0.0, 200.0]))
  with pytest.raises(ValueError, match="NaN"):
    check_float_range(np.array([np.nan]))
