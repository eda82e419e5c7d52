"""train.py: end-to-end runs and its one-line errors (before JAX where possible)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("grain")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from configs import tiny_student, tiny_teacher  # noqa: E402
from cudi_jax.train import checkpoints  # noqa: E402
from tests import helpers  # noqa: E402


def _run_train(*args):
  return subprocess.run([sys.executable, str(REPO / "train.py"), "--progress=false", *args],
                        cwd=REPO, capture_output=True, text=True, timeout=900)

@pytest.mark.slow
def test_train_py_teacher_then_student(image_dir, tmp_path):
  teacher_dir, student_dir = tmp_path / "teacher", tmp_path / "student"
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(teacher_dir),
                   f"--config.data.path={image_dir}")
  assert run.returncode == 0, run.stderr[-3000:]
  metrics = helpers.read_metrics(teacher_dir)
  assert [m["step"] for m in metrics] == [1, 2, 3, 4]
  for m in metrics:
    for key in ("loss/total", "loss/exposure", "loss/spatial", "loss/color",
                "loss/smoothness", "grad_norm", "images_per_sec"):
      assert np.isfinite(m[key]), key
  # 8 samples from the 7 readable images + 1 corrupt one: the corrupt file is met and skipped.
  assert metrics[-1]["skipped_images"] >= 1
  assert "corrupt.jpg" in run.stderr
  assert sorted(os.listdir(teacher_dir / "checkpoints")) == ["2", "4"]
  assert json.loads((teacher_dir / "config.json").read_text())["model"] == "teacher"

  # config.teacher of a student is replaced by the checkpoint's own architecture.
  run = _run_train("--config", "configs/tiny_student.py", "--workdir", str(student_dir),
                   f"--config.data.path={image_dir}", "--config.teacher.width=8",
                   f"--config.teacher_checkpoint={teacher_dir}")
  assert run.returncode == 0, run.stderr[-3000:]
  metrics = helpers.read_metrics(student_dir)
  assert [m["step"] for m in metrics] == [1, 2, 3, 4]
  assert all(np.isfinite(m["loss/distill"]) for m in metrics)
  # The student's config.json records the teacher it was distilled from.
  assert json.loads((student_dir / "config.json").read_text())["teacher"] == \
      json.loads((teacher_dir / "config.json").read_text())["teacher"]
  student = checkpoints.load_trained(student_dir)
  assert student.kind == "student" and student.step == 4
  assert student.params["conv1"]["pw_kernel"].shape == (4, 4)

  # A student cannot distil from a student, nor from a missing teacher.
  run = _run_train("--config", "configs/tiny_student.py", "--workdir", str(tmp_path / "bad"),
                   f"--config.data.path={image_dir}",
                   f"--config.teacher_checkpoint={student_dir}")
  assert run.returncode == 1 and "not a teacher" in run.stderr
  with pytest.raises(checkpoints.CheckpointError, match="not found"):
    checkpoints.load_teacher_for_distillation(str(tmp_path / "missing"))
  with pytest.raises(checkpoints.CheckpointError, match="teacher_checkpoint"):
    checkpoints.load_teacher_for_distillation("")

def _error_lines(stderr):
  return [l for l in stderr.splitlines() if l.strip()]

def test_train_py_unreadable_folder_is_one_line(tmp_path):
  """Every image unreadable: one error line naming examples, no traceback."""
  for i in range(3):
    (tmp_path / f"bad{i}.jpg").write_bytes(b"not a jpeg")
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path}")
  assert run.returncode == 1, run.stderr[-3000:]
  assert "Traceback" not in run.stderr
  errors = [l for l in run.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "unreadable images" in errors[0], run.stderr[-3000:]
  assert "bad" in errors[0] and ".jpg" in errors[0]
  # The examples are distinct files, not the same one repeated.
  examples = [part for part in errors[0].split("bad")[1:]]
  assert len(set(e[:1] for e in examples)) == len(examples)

def test_train_py_missing_data_path_before_jax(tmp_path):
  """A missing --config.data.path is one line, before JAX starts."""
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path / 'nowhere'}")
  assert run.returncode == 1
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr[-3000:]
  assert "nowhere" in lines[0] and "--config.data.path" in lines[0]
  assert not (tmp_path / "wd").exists()

def test_train_py_reports_final_checkpoint_and_finished_runs(image_dir, tmp_path):
  """The end of a run says where the final checkpoint is; a rerun of a finished
  run says so and exits 0 without starting the loop."""
  workdir = tmp_path / "wd"
  args = ("--config", "configs/tiny_teacher.py", "--workdir", str(workdir),
          f"--config.data.path={image_dir}", "--config.num_steps=2",
          "--config.checkpoint_every=2")
  run = _run_train(*args)
  assert run.returncode == 0, run.stderr[-3000:]
  final = [l for l in run.stderr.splitlines() if "final checkpoint" in l]
  assert len(final) == 1 and str(workdir / "checkpoints" / "2") in final[0], run.stderr
  metrics = (workdir / "metrics.jsonl").read_text()
  again = _run_train(*args)
  assert again.returncode == 0, again.stderr[-3000:]
  assert f"already complete at step 2 in {workdir}" in again.stderr
  assert "global batch" not in again.stderr  # the loop was not set up
  assert (workdir / "metrics.jsonl").read_text() == metrics

@pytest.mark.parametrize("override, message", [
    ("--config.batch_size=0", "batch_size must be a positive integer, got 0"),
    ("--config.batch_size=-4", "batch_size must be a positive integer, got -4"),
    ("--config.num_steps=-5", "num_steps must be a positive integer, got -5"),
    ("--config.checkpoint_every=0", "checkpoint_every must be a positive integer, got 0"),
])
def test_train_py_refuses_bad_counts_before_jax(tmp_path, override, message):
  """Counts that cannot work are one line, before JAX starts, and nothing is written."""
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path}", override)
  assert run.returncode == 1
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and message in lines[0], run.stderr[-3000:]
  assert not (tmp_path / "wd").exists()

def test_train_py_names_an_unknown_config_key_and_the_closest(tmp_path):
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   "--config.batchsize=4", "--config.data.pth=x")
  assert run.returncode == 2
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and "unknown config key 'batchsize'" in lines[0], run.stderr[-3000:]
  assert "batch_size" in lines[0] and "Traceback" not in run.stderr
