"""`cudi report` (cudi_jax.eval.report): contact sheets, matplotlib plots, HTML."""
import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import random_student_flat, random_teacher_variables
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
  weights.export_student(random_student_flat(seed=5, std=0.05), {}, student)
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
  _, variables = random_teacher_variables(seed=2)
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


def test_read_metrics_and_plot(setup, tmp_path):
  pytest.importorskip("matplotlib")
  _, _, _, workdir = setup
  records = report.read_metrics(workdir / "metrics.jsonl")
  assert len(records) == 30
  assert report.metric_keys(records)[0] == "loss/total"
  fig = report.plot_metrics(records, "teacher")
  assert [ax.get_title(loc="left") for ax in fig.axes] == [
      "loss/total", "loss/exposure", "images_per_sec", "lr"]
  assert fig.axes[0].get_xlabel() == "step"
  assert fig.axes[0].get_yscale() == "log"  # 2 ... 0.0069: more than two decades
  path = tmp_path / "curves.png"
  report.save_png(fig, path)
  with Image.open(path) as img:
    assert img.format == "PNG"
    assert abs(img.size[0] - 3 * 380) <= 2 and abs(img.size[1] - (2 * 250 + 26)) <= 2
    pixels = np.asarray(img.convert("RGB"))
  assert (pixels == 255).all(-1).mean() > 0.5 and (pixels < 128).any()  # ink on white
  assert report.plot_metrics([], "x") is None


def test_line_plot_curve_ema_and_axes(tmp_path):
  pytest.importorskip("matplotlib")
  ys = np.exp(-np.arange(100) / 10.0) * (1 + 0.3 * np.sin(np.arange(100)))
  fig = report.line_plot(range(100), ys, "loss/total", size=(300, 200))
  ax = fig.axes[0]
  raw, smooth = ax.get_lines()
  assert raw.get_label() == "raw" and smooth.get_label() == "EMA 0.9"
  np.testing.assert_allclose(raw.get_ydata(), ys)
  assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
  assert ax.get_ylabel() == "total (log)" and ax.get_title(loc="left") == "loss/total"
  assert np.all(np.diff(np.log(smooth.get_ydata()))[5:] < 0)  # the EMA is smooth
  report.save_png(fig, tmp_path / "one.png")
  with Image.open(tmp_path / "one.png") as img:
    assert img.format == "PNG" and abs(img.size[0] - 300) <= 2 and abs(img.size[1] - 200) <= 2
  linear = report.line_plot([0, 1, 2], [1.0, 2.0, 3.0], "lr").axes[0]
  assert linear.get_yscale() == "linear" and len(linear.get_lines()) == 1  # no EMA
  assert report.line_plot([], [], "empty").axes[0].texts[0].get_text() == "no data"
  assert len(report.line_plot([1], [2.0], "one point").axes[0].get_lines()) == 1


def test_curves_without_matplotlib_fail_with_one_line(setup, monkeypatch, capsys):
  tmp_path, photos, student, workdir = setup
  for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
               "matplotlib.backends.backend_agg"):
    monkeypatch.setitem(sys.modules, name, None)  # import fails
  records = report.read_metrics(workdir / "metrics.jsonl")
  with pytest.raises(report.PlottingUnavailable, match=r'pip install "cudi-jax\[eval\]"'):
    report.plot_metrics(records, "x")
  out = tmp_path / "r"
  assert report.main([str(photos), "-o", str(out), "--student", str(student), "--metrics",
                      str(workdir / "metrics.jsonl"), "-q"]) == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and 'pip install "cudi-jax[eval]"' in err
  assert "Traceback" not in err and not (out / "index.html").exists()
  # Without curves, the report needs no matplotlib.
  out = tmp_path / "no_curves"
  assert report.main([str(photos), "-o", str(out), "--student", str(student),
                      "--sweep", "0.5", "-q"]) == 0
  assert len(_referenced_files(out / "index.html")) == 2 * 4
  assert not (out / "plots").exists()


def test_contact_sheet_layout():
  a = np.zeros((20, 30, 3))
  sheet = report.contact_sheet([[(a, "one\ntwo"), (np.ones((20, 30)), "map")], [(a, "x")]], pad=5)
  assert sheet.size[0] == 30 * 2 + 5 * 3
  assert sheet.size[1] > 40 + 5 * 3


def test_report_takes_the_common_progress_options(setup, capsys):
  """--no-progress and --quiet as for enhance; bars only on a terminal (here
  stderr is captured: no bar)."""
  tmp_path, photos, student, _ = setup
  for extra in (["--no-progress"], ["--quiet"], []):
    out = tmp_path / f"r{len(extra)}{extra[:1]}"
    assert report.main([str(photos), "-o", str(out), "--student", str(student),
                        "--sweep", "0.5", "--local", "", *extra]) == 0
    err = capsys.readouterr().err
    assert "%|" not in err and "photo/s" not in err, err


def _ink_columns(sheet, y0):
  pixels = np.asarray(sheet.convert("L"))[y0:]
  return np.nonzero((pixels < 200).any(axis=0))[0]


def test_captions_are_wrapped_to_the_panel_width():
  """A caption wider than its panel (the local-exposure caption under a
  portrait thumbnail) is wrapped, never drawn into the next panel."""
  from PIL import Image as PILImage
  narrow = PILImage.new("RGB", (60, 90), (255, 255, 255))
  caption = "student\nellipse 0.7->0.65  outside 0.3->0.31  supercalifragilisticexpialidocious"
  pad = 6
  sheet = report.contact_sheet([[(narrow, caption), (narrow, "")]], pad=pad)
  ink = _ink_columns(sheet, pad + 90 + 1)
  assert len(ink) and ink.max() < pad + 60, ink.max()  # inside the first column
  one_line = report.contact_sheet([[(narrow, "x")]], pad=pad)
  assert sheet.size[1] > one_line.size[1] + 3 * 10  # more lines, nothing dropped
  assert sheet.size[0] == 2 * 60 + 3 * pad  # the layout itself is unchanged


def test_setting_captions_show_the_request_and_what_was_fed():
  import pathlib
  from cudi_jax.exposure.presets import DEFAULT_PRESETS as plain
  from cudi_jax.exposure.values import Constant, PixelMap
  img = np.zeros((8, 8, 3), np.float32)
  assert report._setting_caption("under", img, Constant(0.55), plain) == "under (E=0.55)"
  assert report._setting_caption("under", img, Constant(0.62), plain) == \
      "under (E=0.55, fed 0.62)"
  assert report._setting_caption(0.4, img, Constant(0.4), plain) == "E=0.40"
  assert report._setting_caption(0.4, img, Constant(0.47), plain) == "E=0.40, fed 0.47"
  assert report._setting_caption(pathlib.Path("m.png"), img, PixelMap(np.zeros((8, 8))),
                                 plain) == "E=m.png"
