"""tools/make_train_split.py, tools/calibrate_exposure.py and tools/make_quality_figures.py."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_make_train_split_leaves_out_every_frame_of_val_scenes(tmp_path):
  photos = tmp_path / "photos"
  photos.mkdir()
  for i in range(1, 13):
    (photos / f"{i}.jpg").write_bytes(b"x")
  (photos / "notes.txt").write_text("not a frame")
  pairs = tmp_path / "pairs.csv"
  pairs.write_text("input,reference,kind,scene,split\n"
                   "2.jpg,3.jpg,under,1-4,train\n"
                   "6.jpg,7.jpg,under,5-8,val\n"
                   "8.jpg,7.jpg,over,5-8,val\n"
                   "10.jpg,11.jpg,under,9-12,train\n")
  out = tmp_path / "train"
  run = subprocess.run([sys.executable, str(REPO / "tools" / "make_train_split.py"), str(photos),
                        str(pairs), str(out)], capture_output=True, text=True, check=True)
  kept = sorted(os.listdir(out), key=lambda n: int(n.split(".")[0]))
  # Frames 5-8 belong to a val scene, even 5, which is in no pair.
  assert kept == ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "9.jpg", "10.jpg", "11.jpg", "12.jpg"]
  assert all(os.path.islink(out / n) and os.path.samefile(out / n, photos / n) for n in kept)
  assert "linked 8 photos" in run.stdout and "left out 4 frames" in run.stdout
  # Running again is harmless.
  subprocess.run([sys.executable, str(REPO / "tools" / "make_train_split.py"), str(photos),
                  str(pairs), str(out)], capture_output=True, text=True, check=True)
  assert len(os.listdir(out)) == 8


def test_calibrate_exposure_writes_a_calibration_that_brings_photos_to_the_request(
    tmp_path, make_student_flat):
  import numpy as np
  from PIL import Image
  from cudi_jax import weights
  from cudi_jax.runtime import load_student
  rng = np.random.default_rng(0)
  photos = tmp_path / "photos"
  photos.mkdir()
  for i, level in enumerate((0.05, 0.1, 0.2, 0.35, 0.5, 0.7)):
    img = np.clip(level * (0.6 + 0.8 * rng.random((24, 32, 3))), 0, 1)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(photos / f"p{i}.png")
  student = tmp_path / "s.npz"
  weights.export_student(make_student_flat(seed=2, std=0.05), {}, student)
  out = tmp_path / "cal.npz"
  run = subprocess.run([sys.executable, str(REPO / "tools" / "calibrate_exposure.py"),
                        str(student), str(photos), "-o", str(out), "--bins", "3",
                        "--response-bins", "2"], capture_output=True, text=True, check=True)
  assert "response" in run.stdout
  model = load_student(out)
  p = model.presets
  assert len(p.auto_means) == 3 and len(p.response_means) == 2
  assert list(p.auto_means) == sorted(p.auto_means)
  assert all(list(row) == sorted(row) for row in p.response_fed)
  # On the calibration photos the calibrated constant 0.4 lands closer to 0.4 on
  # average than the uncalibrated one does.
  plain = load_student(student)
  images = [np.asarray(Image.open(photos / f"p{i}.png")) for i in range(6)]
  calibrated = np.mean([model.enhance(im, 0.4).mean() / 255 for im in images])
  uncalibrated = np.mean([plain.enhance(im, 0.4).mean() / 255 for im in images])
  assert abs(calibrated - 0.4) < abs(uncalibrated - 0.4)


def test_calibrating_a_calibrated_export_measures_the_network(tmp_path):
  """The shipped (calibrated) export and its bare weights calibrate alike: the old
  tables must not be applied while the new ones are measured."""
  import numpy as np
  from PIL import Image
  from cudi_jax import weights
  from cudi_jax.runtime import api as runtime
  if not os.path.isfile(runtime.shipped_weights_path()):
    pytest.skip("this checkout ships no weights")
  shipped = weights.load_export(runtime.shipped_weights_path(), kind="student")
  assert shipped.metadata.get("exposure_presets", {}).get("response")  # the premise
  bare = tmp_path / "bare.npz"
  weights.export_student(shipped.nested_params(), {}, bare)
  photos = tmp_path / "photos"
  photos.mkdir()
  rng = np.random.default_rng(3)
  for i, level in enumerate((0.05, 0.15, 0.3, 0.6)):
    img = np.clip(level * (0.5 + rng.random((24, 32, 3))), 0, 1)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(photos / f"p{i}.png")
  tables = []
  for source in (runtime.shipped_weights_path(), bare):
    out = tmp_path / f"cal{len(tables)}.npz"
    subprocess.run([sys.executable, str(REPO / "tools" / "calibrate_exposure.py"), str(source),
                    str(photos), "-o", str(out), "--bins", "2", "--response-bins", "2"],
                   capture_output=True, text=True, check=True)
    p = runtime.load_student(out).presets
    tables.append((p.auto_targets, p.response_fed))
  assert tables[0] == tables[1]


def test_make_quality_figures_writes_sheets_and_crops(tmp_path):
  import numpy as np
  from PIL import Image
  photo = tmp_path / "dark.png"
  img = (np.random.default_rng(1).random((40, 60, 3)) * 60).astype(np.uint8)
  Image.fromarray(img).save(photo)
  out = tmp_path / "figs"
  run = subprocess.run([sys.executable, str(REPO / "tools" / "make_quality_figures.py"),
                        str(photo), "-o", str(out), "--crop", "0,0,20,30", "--max-size", "200"],
                       capture_output=True, text=True, check=True)
  sheet = Image.open(out / "dark.jpg")
  assert sheet.size[0] == 4 * 60 and sheet.size[1] == 40   # input, auto, previous, gain
  assert Image.open(out / "dark_crop.png").size == (4 * 30, 20)
  assert "auto  mean" in run.stdout and "gain to 0.5" in run.stdout
