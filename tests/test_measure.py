"""Measuring a calibration, and ``export.py --calibrate`` writing it."""
import os

import numpy as np
import pytest
from PIL import Image

import export
from cudi_jax import weights
from cudi_jax.exposure import measure
from cudi_jax.runtime import api as runtime
from tests import helpers


def _photos(folder, levels, seed):
  rng = np.random.default_rng(seed)
  folder.mkdir()
  for i, level in enumerate(levels):
    img = np.clip(level * (0.6 + 0.8 * rng.random((24, 32, 3))), 0, 1)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(folder / f"p{i}.png")
  return [np.asarray(Image.open(folder / f"p{i}.png")) for i in range(len(levels))]


def test_calibration_brings_photos_to_the_request(tmp_path):
  images = _photos(tmp_path / "photos", (0.05, 0.1, 0.2, 0.35, 0.5, 0.7), 0)
  student = tmp_path / "s.npz"
  weights.export_student(helpers.random_student_flat(seed=2, std=0.05), {}, student)
  out = tmp_path / "cal.npz"
  lines = export.calibrate(student, [tmp_path / "photos"], out, max_size=64, bins=3, map_bins=2)
  assert lines[0] == "calibrated on 6 photos (64 px)"
  model = runtime.load_student(out)
  c = model.rules.calibration
  assert len(c.auto.means) == 3 and len(c.maps.means) == 2
  assert list(c.auto.means) == sorted(c.auto.means)
  assert all(list(row) == sorted(row) for row in c.maps.fed)
  assert dict(c.measured_on) == {"photos": 6, "max_size": 64}
  # On the calibration photos the calibrated constant 0.4 lands closer to 0.4 on
  # average than the uncalibrated one does.
  plain = runtime.load_student(student)
  calibrated = np.mean([model.enhance(im, 0.4).mean() / 255 for im in images])
  uncalibrated = np.mean([plain.enhance(im, 0.4).mean() / 255 for im in images])
  assert abs(calibrated - 0.4) < abs(uncalibrated - 0.4)


def test_calibrating_a_calibrated_export_measures_the_network(tmp_path):
  """The shipped (calibrated) export and its bare weights calibrate alike: the old
  tables are not applied while the new ones are measured."""
  if not os.path.isfile(runtime.shipped_weights_path()):
    pytest.skip("this checkout ships no weights")
  shipped = runtime.load_student()
  assert shipped.rules.calibration.maps is not None  # the premise
  bare = runtime.StudentRuntime(shipped.params)
  rng = np.random.default_rng(3)
  images = [np.clip(level * (0.5 + rng.random((24, 32, 3))), 0, 1).astype(np.float32)
            for level in (0.05, 0.15, 0.3, 0.6)]
  a = measure.measure(shipped, images, shipped.presets, bins=2, map_bins=2)
  b = measure.measure(bare, images, shipped.presets, bins=2, map_bins=2)
  assert a == b
