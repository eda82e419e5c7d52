"""Training exposure maps: the paper's two-region draws and input-following maps."""
import numpy as np
import pytest

from cudi_jax.exposure import resolve
from cudi_jax.exposure import rules
from cudi_jax.train import exposure_maps as tm


@pytest.mark.parametrize("seed", range(6))
def test_training_map_two_values_in_range(seed):
  m = tm.training_map(seed, 48, 80)
  assert m.shape == (48, 80) and m.dtype == np.float32
  values = np.unique(m)
  assert 1 <= len(values) <= 2
  assert values.min() >= 0.2 and values.max() <= 0.8


def test_training_maps_mostly_have_two_regions():
  counts = [len(np.unique(tm.training_map(seed, 40, 56))) for seed in range(20)]
  assert all(c in (1, 2) for c in counts)
  assert sum(c == 2 for c in counts) >= 15


def test_training_map_seeding():
  a = tm.training_map(7, 32, 40)
  np.testing.assert_array_equal(a, tm.training_map(7, 32, 40))
  np.testing.assert_array_equal(a, tm.training_map(np.random.default_rng(7), 32, 40))
  assert not np.array_equal(a, tm.training_map(8, 32, 40))
  # a Generator advances: two successive draws differ
  rng = np.random.default_rng(3)
  assert not np.array_equal(tm.training_map(rng, 32, 40), tm.training_map(rng, 32, 40))


def test_training_map_value_range_and_shape_choice():
  for seed in range(5):
    m = tm.training_map(seed, 30, 30, value_range=(0.4, 0.45), shapes=("half_plane",))
    assert m.min() >= 0.4 and m.max() <= 0.45


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 1)])
def test_training_map_tiny_sizes(size):
  m = tm.training_map(0, *size)
  assert m.shape == size and np.all((m >= 0.2) & (m <= 0.8))


@pytest.mark.parametrize("shape", tm.SHAPES)
def test_every_shape_gives_non_trivial_masks(shape):
  fractions = []
  for seed in range(10):
    mask = tm.random_region(np.random.default_rng(seed), 64, 96, shape)
    assert mask.shape == (64, 96) and mask.dtype == bool
    fractions.append(mask.mean())
  fractions = np.array(fractions)
  non_trivial = (fractions >= 0.01) & (fractions <= 0.99)
  assert non_trivial.sum() >= 7, fractions
  assert len(np.unique(np.round(fractions, 4))) >= 5     # the masks really vary with the seed


def test_following_map_is_autos_map_at_full_size():
  rng = np.random.default_rng(2)
  patch = (rng.random((10, 13, 3)) * 0.4).astype(np.float32)
  m = tm.following_map(patch, 0.6, 0.3)
  assert m.shape == (10, 13) and m.dtype == np.float32
  cells = rules.auto_cells(resolve.ImageStats(patch).cell_brightness(), 0.6, 0.3, 1.5)
  np.testing.assert_array_equal(m[:4, :4], cells[0, 0])
  np.testing.assert_array_equal(m[8:, 12:], cells[2, 3])
