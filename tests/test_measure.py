"""Measuring a calibration, and ``export.py --calibrate`` writing it."""
import os

import numpy as np
import pytest
from PIL import Image

import export
from cudi_jax import weights
from cudi_jax.exposure import measure
from cudi_jax.exposure.settings import ExposureError
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
  assert lines[0] == "calibrated auto, maps on 6 photos (64 px)"
  # Six flat-textured photos of six brightnesses share no cell brightness.
  assert lines[1].startswith("cells: not measured (too few photos share cell brightnesses")
  model = runtime.load_student(out)
  c = model.rules.calibration
  assert len(c.auto.means) == 3 and len(c.maps.means) == 2
  assert list(c.auto.means) == sorted(c.auto.means)
  assert all(list(row) == sorted(row) for row in c.maps.fed)
  assert dict(c.measured_on) == {"auto_photos": 6, "auto_max_size": 64, "maps_photos": 6,
                                 "maps_max_size": 64}
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
  ramp = np.geomspace(0.005, 0.9, 64)[None, :, None] * np.ones((32, 1, 3), np.float32)
  images += [(ramp * scale).astype(np.float32) for scale in (0.6, 0.8, 1.0)]
  a = measure.measure(shipped, images, shipped.presets, bins=2, map_bins=2)
  b = measure.measure(bare, images, shipped.presets, bins=2, map_bins=2)
  assert a == b
  assert measure.measure_cells(shipped, images) == measure.measure_cells(bare, images)


class _GainModel:
  """A stand-in network: every pixel times (1 + 3 * fed), clipped; records what it was
  fed."""

  def __init__(self):
    self.fed = []

  def enhance(self, image, exposure):
    self.fed.append(exposure.value)
    return np.clip(np.asarray(image, np.float32) * (1 + 3 * exposure.value), 0, 1)


def test_cell_response_is_measured_per_cell_brightness():
  rng = np.random.default_rng(6)
  images = []
  for _ in range(6):
    img = np.empty((32, 64, 3), np.float32)
    img[:, :16] = 0.01                 # a dark region
    img[:, 16:32] = 0.1                # a mid region
    img[:, 32:] = 0.3 + 0.6 * rng.random((32, 32, 3))   # a bright, varied region
    images.append(img)
  model = _GainModel()
  table = measure.measure_cells(model, images)
  assert sorted(set(model.fed)) == list(measure.CELL_FED)
  b = np.asarray(table.brightness)
  assert list(b) == sorted(b) and table.fed == measure.CELL_FED
  dark = int(np.argmin(abs(b - 0.01)))
  mid = int(np.argmin(abs(b - 0.1)))
  assert b[dark] == pytest.approx(0.01, rel=1e-3) and b[mid] == pytest.approx(0.1, rel=1e-3)
  out = np.asarray(table.output)
  np.testing.assert_allclose(out[:, dark], 0.01 * (1 + 3 * np.asarray(measure.CELL_FED)),
                             rtol=1e-4)
  np.testing.assert_allclose(out[-1, mid], 0.4, rtol=1e-4)
  # Too few photos share a brightness: refused, not a table from one photo.
  one_each = [np.full((16, 16, 3), level, np.float32) for level in (0.01, 0.1, 0.3, 0.5, 0.7)]
  with pytest.raises(ExposureError, match="more photos"):
    measure.measure_cells(_GainModel(), one_each)


def test_export_calibrates_only_the_tables_asked_for(tmp_path, capsys):
  _photos(tmp_path / "photos", (0.05, 0.1, 0.2, 0.35, 0.5, 0.7), 0)
  ramp = np.geomspace(0.005, 0.9, 64)[None, :, None] * np.ones((48, 1, 3))
  for i, scale in enumerate((0.5, 0.7, 1.0)):   # cells of every brightness, in 3 photos
    Image.fromarray((ramp * scale * 255).round().astype(np.uint8)).save(
        tmp_path / "photos" / f"ramp{i}.png")
  student = tmp_path / "s.npz"
  weights.export_student(helpers.random_student_flat(seed=2, std=0.05), {}, student)
  first = tmp_path / "first.npz"
  export.calibrate(student, [tmp_path / "photos"], first, max_size=64, bins=3, map_bins=2,
                   tables=["auto", "maps"])
  before = runtime.load_student(first).rules.calibration
  assert before.cells is None and before.maps is not None
  second = tmp_path / "second.npz"
  assert export.main(["--calibrate", str(tmp_path / "photos"), "--weights", str(first),
                      "--output", str(second), "--tables", "cells", "--max-size", "48"]) == 0
  after = runtime.load_student(second).rules.calibration
  assert after.cells is not None
  assert (after.auto, after.maps) == (before.auto, before.maps)
  assert dict(after.measured_on) == {"auto_max_size": 64, "auto_photos": 9,
                                     "maps_max_size": 64, "maps_photos": 9, "cells_max_size": 48,
                                     "cells_photos": 9}
  assert "cells (output brightness" in capsys.readouterr().out
  assert "cells yes" in weights.describe(weights.load_export(second))
  with pytest.raises(SystemExit):
    export.main(["--calibrate", str(tmp_path / "photos"), "--weights", str(first),
                 "--output", str(second), "--tables", "cells,colour"])
  assert "--tables takes auto, maps and cells" in capsys.readouterr().err
  # Only the cell table asked for, and it cannot be measured: a one-line error.
  flat = tmp_path / "flat"
  _photos(flat, (0.05, 0.3), 2)
  assert export.main(["--calibrate", str(flat), "--weights", str(first), "--output",
                      str(tmp_path / "third.npz"), "--tables", "cells"]) == 1
  assert "too few photos share cell brightnesses" in capsys.readouterr().err
  assert not (tmp_path / "third.npz").exists()
