"""One image for the engine (cudi_jax.runtime.job): what it accepts as exposure."""
import numpy as np
import pytest

from cudi_jax.exposure import values
from cudi_jax.runtime.job import Job, integer_max


def test_a_full_map_becomes_its_cell_means():
  rgb = np.zeros((9, 10, 3), np.uint8)
  emap = np.random.default_rng(0).random((9, 10), dtype=np.float32)
  job = Job(rgb, values.PixelMap(emap), out=np.empty_like(rgb))
  assert isinstance(job.exposure, values.CellMap)
  np.testing.assert_array_equal(job.exposure.cells, values.cells_from_map(emap))
  assert job.fast_int and job.maxval == integer_max(np.uint8) == 255.0


def test_settings_and_wrong_cell_grids_are_refused():
  rgb = np.zeros((9, 10, 3), np.uint8)
  with pytest.raises(TypeError, match="fed exposure"):
    Job(rgb, 0.5)
  with pytest.raises(ValueError, match="cell map of shape"):
    Job(rgb, values.CellMap(np.zeros((2, 2), np.float32)))
