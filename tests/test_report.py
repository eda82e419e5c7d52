"""`cudi report` (cudi_jax.eval.report): the command line."""
import re
import sys

import numpy as np
import pytest
from PIL import Image

from cudi_jax.eval import report
from tests import helpers


@pytest.fixture
def setup(tmp_path):
  photos = tmp_path / "photos"
  photos.mkdir()
  yy, xx = np.mgrid[0:40, 0:60] / 60.0
  for i, gain in enumerate((0.3, 0.9)):
    img = np.clip(np.stack([xx, yy, 0.5 * (xx + yy)], -1) * gain, 0, 1)
    Image.fromarray((img * 255).astype(np.uint8)).save(photos / f"shot {i}.png")
  student = helpers.export_student_npz(tmp_path / "student.npz", seed=5)
  workdir = tmp_path / "teacher_run"
  workdir.mkdir()
  helpers.write_metrics_jsonl(workdir / "metrics.jsonl")
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
  teacher = helpers.export_teacher_npz(tmp_path / "teacher.npz", seed=2)
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


def test_curves_without_matplotlib_fail_with_one_line(setup, monkeypatch, capsys):
  tmp_path, photos, student, workdir = setup
  for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
               "matplotlib.backends.backend_agg"):
    monkeypatch.setitem(sys.modules, name, None)  # import fails
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


# --------------------------------------------------------------------------- robustness


def _one_line(err, *words):
  assert err.count("\n") == 1 and "Traceback" not in err, err
  for w in words:
    assert w in err, err


def test_an_unreadable_photo_is_skipped_with_a_warning(setup, capsys):
  tmp_path, photos, student, _ = setup
  (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
  (photos / "empty.jpg").write_bytes(b"")
  out = tmp_path / "r"
  rc = report.main([str(photos), "-o", str(out), "--student", str(student), "--sweep", "0.5",
                    "--local", "", "-q", "--no-progress"])
  assert rc == 1
  err = capsys.readouterr().err
  lines = err.strip().split("\n")
  assert len(lines) == 2 and "Traceback" not in err, err
  assert "broken.png" in lines[0] and "corrupt PNG" in lines[0] and "empty.jpg" in lines[1]
  html = (out / "index.html").read_text()
  assert "shot 0.png" in html and "shot 1.png" in html and "Skipped" in html
  assert len(_referenced_files(out / "index.html")) == 2 * 3


def test_output_that_cannot_be_a_folder_is_one_line(setup, capsys, monkeypatch):
  tmp_path, photos, student, _ = setup
  a_file = tmp_path / "file.txt"
  a_file.write_text("x")
  assert report.main([str(photos), "-o", str(a_file), "--student", str(student), "-q"]) == 2
  _one_line(capsys.readouterr().err, "-o", "is a file")
  assert report.main([str(photos), "-o", str(a_file / "sub"), "--student", str(student),
                      "-q"]) == 2
  _one_line(capsys.readouterr().err, "-o", "is a file")
  locked = tmp_path / "locked"
  locked.mkdir()
  real_access = report.options.os.access
  monkeypatch.setattr(report.options.os, "access",
                      lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
  assert report.main([str(photos), "-o", str(locked / "r"), "--student", str(student),
                      "-q"]) == 2
  _one_line(capsys.readouterr().err, "-o", "permission denied")
  assert not (locked / "r").exists()


@pytest.mark.parametrize("extra, words", [
    (["--thumb-size", "-3"], ("--thumb-size", "at least 1")),
    (["--max-size", "0"], ("--max-size",)),
    (["--sweep", ""], ("--sweep", "at least one")),
    (["--sweep", "0.2,abc"], ("--sweep", "abc")),
    (["--limit", "-1"], ("--limit",)),
])
def test_bad_options_are_one_line_usage_errors(setup, extra, words, capsys):
  tmp_path, photos, student, _ = setup
  with pytest.raises(SystemExit) as exc:
    report.main([str(photos), "-o", str(tmp_path / "r"), "--student", str(student), *extra])
  assert exc.value.code == 2
  _one_line(capsys.readouterr().err, *words)


def test_a_bad_local_map_is_a_usage_error(setup, capsys):
  tmp_path, photos, student, _ = setup
  not_an_image = tmp_path / "map.txt"
  not_an_image.write_text("not an image")
  for spec, words in [(str(not_an_image), ("--local", "map.txt")),
                      ("stars", ("--local", "stars"))]:
    assert report.main([str(photos), "-o", str(tmp_path / "r"), "--student", str(student),
                        "--local", spec, "-q"]) == 2
    _one_line(capsys.readouterr().err, *words)
  assert not (tmp_path / "r").exists()


def test_odd_metrics_lines_are_skipped_with_a_warning(setup, capsys):
  pytest.importorskip("matplotlib")
  tmp_path, _, _, workdir = setup
  path = workdir / "metrics.jsonl"
  path.write_text(path.read_text() + '\n{"step": "abc"}\n[1]\n{"step": 400, "loss/total": 0.001}\n')
  out = tmp_path / "r"
  assert report.main(["--metrics", str(path), "-o", str(out), "-q"]) == 0
  err = capsys.readouterr().err
  _one_line(err, "warning", str(path), "skipped 3 lines")
  assert "plots/teacher_run_curves.png" in _referenced_files(out / "index.html")
