"""`cudi report` (cudi_jax.eval.report): contact sheets, Pillow plots, HTML."""
import json
import re

import numpy as np
import pytest
from PIL import Image

from cudi_jax.eval import common as eval_common
from cudi_jax import weights
from cudi_jax.eval import report


@pytest.fixture
def setup(tmp_path):
  photos = tmp_path / "photos"
  photos.mkdir()
  yy, xx = np.mgrid[0:40, 0:60] / 60.0
  for i, gain in enumerate((0.3, 0.9)):
    img = np.clip(np.stack([xx, yy, 0.5 * (xx + yy)], -1) * gain, 0, 1)
    Image.fromarray((img * 255).astype(np.uint8)).save(photos / f"shot {i}.png")
  student = tmp_path / "student.npz"
  weights.export_student(eval_common.random_student_params(seed=5), {}, student)
  workdir = tmp_path / "teacher_run"
  workdir.mkdir()
  with open(workdir / "metrics.jsonl", "w") as f:
    for step in range(0, 300, 10):
      f.write(json.dumps({"step": step, "loss/total": 2.0 / (1 + step), "loss/exposure": 0.1,
                          "lr": 1e-4, "images_per_sec": 12.5}) + "\n")
    f.write('{"step": 300, "loss/to')  # a line being written
  return tmp_path, photos, student, workdir


def _referenced_files(index):
  return re.findall(r"src='([^']+)'", index.read_text())


def test_report_without_teacher(setup):
  tmp_path, photos, student, workdir = setup
  out = tmp_path / "report"
  rc = report.main([str(photos), "-o", str(out), "--student", str(student), "--metrics",
                    str(workdir / "metrics.jsonl"), "--sweep", "0.2,0.5,0.8", "-q"])
  assert rc == 0
  index = out / "index.html"
  assert index.exists()
  files = _referenced_files(index)
  assert len(files) == 1 + 2 * 4  # curves + 4 sheets per photo
  for f in files:
    with Image.open(out / f) as img:
      assert img.format == "PNG" and img.size[0] > 50
  html = index.read_text()
  assert "shot 0.png" in html and "Pearson" not in html  # no teacher columns


def test_report_with_teacher_and_workdir_curves(setup):
  pytest.importorskip("flax")
  tmp_path, photos, student, workdir = setup
  _, variables = eval_common.random_teacher(seed=2)
  teacher = tmp_path / "teacher.npz"
  weights.export_teacher(variables["params"], {}, teacher)
  out = tmp_path / "report_t"
  rc = report.main([str(photos / "shot 1.png"), "-o", str(out), "--student", str(student),
                    "--teacher", str(teacher), "--teacher-workdir", str(workdir), "--local", "halves",
                    "--sweep", "0.3,0.7", "--max-size", "48", "-q"])
  assert rc == 0
  files = _referenced_files(out / "index.html")
  assert "plots/teacher_curves.png" in files
  for f in files:
    assert (out / f).is_file()
  with Image.open(out / "images/shot_1_compare.png") as img:
    assert img.size[0] > 4 * 48  # input, teacher, student, difference
  assert "Pearson" in (out / "index.html").read_text()


def test_report_needs_something(tmp_path, capsys):
  assert report.main(["-o", str(tmp_path / "r"), "-q"]) == 2
  assert report.main([str(tmp_path / "missing.png"), "-o", str(tmp_path / "r"), "-q"]) == 2


def test_read_metrics_and_plot(setup):
  _, _, _, workdir = setup
  records = report.read_metrics(workdir / "metrics.jsonl")
  assert len(records) == 30
  assert report.metric_keys(records)[0] == "loss/total"
  sheet = report.plot_metrics(records, "teacher")
  assert sheet.size == (3 * 380, 2 * 250 + 26)
  assert report.plot_metrics([], "x") is None


def test_line_plot_and_ticks():
  img = report.line_plot(range(100), np.exp(-np.arange(100) / 10.0), "loss", size=(300, 200))
  assert img.size == (300, 200)
  pixels = np.asarray(img)
  assert (pixels != 255).any()
  assert report.line_plot([], [], "empty").size == (380, 250)
  assert report.line_plot([1], [2.0], "one point").size == (380, 250)
  assert report.nice_ticks(0, 1, 5) == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
  assert report.nice_ticks(3, 3) == [3]


def test_contact_sheet_layout():
  a = np.zeros((20, 30, 3))
  sheet = report.contact_sheet([[(a, "one\ntwo"), (np.ones((20, 30)), "map")], [(a, "x")]], pad=5)
  assert sheet.size[0] == 30 * 2 + 5 * 3
  assert sheet.size[1] > 40 + 5 * 3
