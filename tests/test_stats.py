"""The runtime's banded statistics agree with the whole-image ones, computed once."""
import numpy as np
import pytest

from cudi_jax.exposure import resolve
from cudi_jax.runtime.prepared import Prepared
from cudi_jax.runtime.stats import Stats


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1)])
@pytest.mark.parametrize("size", [(37, 53), (5, 3), (300, 17)])
def test_banded_statistics_match_the_whole_image(dtype, top, size):
  rng = np.random.default_rng(size[0])
  x = rng.random(size + (3,), dtype=np.float32)
  image = (x * top).round().astype(dtype) if top != 1 else x
  as_float = image.astype(np.float32) / np.float32(top)
  banded = Stats(Prepared(image), threads=2)
  whole = resolve.ImageStats(as_float)
  np.testing.assert_allclose(banded.cell_brightness(), whole.cell_brightness(), atol=1e-6)
  np.testing.assert_allclose(banded.cell_luma(), whole.cell_luma(), atol=2e-7)
  assert banded.luma_range() == whole.luma_range()
  assert banded.cell_brightness() is banded.cell_brightness()   # computed once


def test_grey_images_count_one_channel():
  grey = np.full((8, 12), 51, np.uint8)
  stats = Stats(Prepared(grey), threads=1)
  np.testing.assert_allclose(stats.cell_brightness(), 0.2, atol=1e-6)
  assert stats.cell_brightness().shape == (2, 3)


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1)])
@pytest.mark.parametrize("size, gray", [((37, 53), False), ((600, 1203), False),
                                        ((130, 90), True)])
def test_dark_noise_matches_the_whole_image(dtype, top, size, gray):
  """Exact sums on integers and the same rows read (the large one reads every third
  row of cells)."""
  rng = np.random.default_rng(size[1])
  x = (0.004 + 0.01 * rng.random(size + ((1,) if gray else (3,)), dtype=np.float32) ** 3)
  x[: size[0] // 3] += 0.3                                        # not every cell is dark
  image = (x * top).round().astype(dtype) if top != 1 else x
  as_float = np.broadcast_to(image.astype(np.float32) / np.float32(top), size + (3,))
  banded = Stats(Prepared(image[..., 0] if gray else image), threads=2).dark_noise()
  whole = resolve.ImageStats(np.ascontiguousarray(as_float)).dark_noise()
  assert whole > 0
  assert banded == pytest.approx(whole, rel=1e-6)
  dark = resolve.ImageStats(np.ascontiguousarray(as_float)).cell_brightness() < resolve.DARK_CELL
  rows = resolve.noise_rows(dark[:size[0] // 4, :size[1] // 4])
  assert len(rows) * (size[1] // 4) <= resolve.NOISE_CELLS + size[1] // 4
