"""Fed exposure values: full-size maps and the exact reduction to cell means."""
import numpy as np
import pytest

from cudi_jax import student_math
from cudi_jax.exposure import values


@pytest.mark.parametrize("cell", [4, 8, 16])
@pytest.mark.parametrize("shape", [(16, 20), (17, 21), (5, 3), (1, 1), (300, 7)])
def test_cells_from_map_is_the_networks_cell_mean(shape, cell):
  rng = np.random.default_rng(sum(shape))
  emap = rng.random(shape, dtype=np.float32)
  got = values.cells_from_map(emap, rows_per_chunk=3, cell=cell)
  assert got.shape == values.cell_shape(*shape, cell) and got.dtype == np.float32
  # the network's edge-padded area mean (float64 here, so equal to rounding)
  want = student_math.downsample4(emap[..., None].astype(np.float64), np, cell)[..., 0]
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
  # the chunking changes nothing
  np.testing.assert_array_equal(got, values.cells_from_map(emap, cell=cell))
  from cudi_jax.exposure import settings
  np.testing.assert_array_equal(settings.map_cells(emap, *shape, rows_per_chunk=16, cell=cell),
                                got)


def test_full_map_of_each_value():
  image = np.zeros((6, 9, 3), np.float32)
  image[..., 1] = 0.5
  assert np.all(values.full_map(values.Constant(0.3), image) == np.float32(0.3))
  cells = np.arange(6, dtype=np.float32).reshape(2, 3)
  full = values.full_map(values.CellMap(cells), image)
  assert full.shape == (6, 9)
  np.testing.assert_array_equal(full[:4, :4], 0.0)
  np.testing.assert_array_equal(full[4:, 8:], 5.0)
  y = 0.587 * 0.5
  np.testing.assert_allclose(values.full_map(values.LumaLinear(0.6, 0.2), image), 0.6 - 0.2 * y,
                             rtol=1e-6)
  pixel = np.full((6, 9), 0.25, np.float32)
  assert values.full_map(values.PixelMap(pixel), image) is pixel
  with pytest.raises(TypeError):
    values.full_map(0.5, image)
  assert values.is_fed(values.Constant(0.1)) and not values.is_fed(0.1)
