"""tools/make_train_split.py, tools/make_quality_figures.py, tools/teacher_health.py,
tools/student_health.py, tools/train_on_budget.py, tools/auto_checks.py and
tools/video_checks.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import helpers

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


def test_teacher_health_tells_a_live_teacher_from_a_dead_one(tmp_path, capsys):
  import importlib.util
  import numpy as np
  from PIL import Image
  from cudi_jax import weights
  spec = importlib.util.spec_from_file_location("teacher_health",
                                                REPO / "tools" / "teacher_health.py")
  tool = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(tool)
  photo = tmp_path / "dark.png"
  rng = np.random.default_rng(2)
  Image.fromarray((rng.random((40, 48, 3)) * 70).astype(np.uint8)).save(photo)
  from cudi_jax import teacher_layout
  shapes = teacher_layout.param_shapes(width=4, multipliers=(1, 2, 2), convs_per_block=1)
  params = {k: (rng.normal(0, np.sqrt(2 / np.prod(s[:-1])), s) if k.endswith("kernel")
                else np.zeros(s)).astype(np.float32) for k, s in shapes.items()}  # He init
  weights.export_teacher(params, {}, tmp_path / "live.npz")
  dead = {k: (np.full_like(v, -1.0) if k.endswith("bias") and not k.startswith("head")
              else v) for k, v in params.items()}
  weights.export_teacher(dead, {}, tmp_path / "dead.npz")

  def run(name):
    assert tool.main([str(tmp_path / name), "--photo", str(photo), "--layers"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if "output at E = 0.2 / 0.8" in l)
    low, high = (float(v) for v in line.split(":")[-1].split("/"))
    dead_line = next(l for l in out.splitlines() if l.startswith("dead ReLU channels"))
    return low, high, float(dead_line.split()[3]), out

  low, high, dead_fraction, out = run("live.npz")
  assert high - low > 1e-3 and dead_fraction < 0.5
  assert "enc0/conv0" in out and "head" in out           # --layers: one row per conv
  low, high, dead_fraction, _ = run("dead.npz")
  assert low == high and dead_fraction == 1.0             # every ReLU off: a constant map
  assert tool.main([str(tmp_path / "missing.npz")]) == 1


@pytest.mark.slow
def test_train_on_budget_probes_plans_trains_and_exports(image_dir, tmp_path):
  pytest.importorskip("jax")
  pytest.importorskip("grain")
  from cudi_jax import weights

  runs = tmp_path / "runs"
  cmd = [sys.executable, str(REPO / "tools" / "train_on_budget.py"), "--data", str(image_dir),
         "--runs", str(runs), "--budget", "900", "--reserve", "6", "--probe-steps", "4",
         "--max-steps", "3",
         "--teacher-config", str(REPO / "configs" / "tiny_teacher.py"),
         "--student-config", str(REPO / "configs" / "tiny_student.py")]
  run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
  assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
  plan = json.loads((runs / "plan.json").read_text())
  assert plan["probe_images_per_sec"] > 0
  # Sized from the measured rate: seconds * images/s / batch (2 for the tiny configs),
  # then capped by --max-steps (the budget is generous so that a loaded machine's slow
  # probe still leaves time; the cap keeps the runs short).
  for kind in ("teacher", "student"):
    assert plan[f"{kind}_steps"] == min(3, plan[f"{kind}_steps_for_time"])
  assert plan["teacher_steps_for_time"] == max(1, int(plan["teacher_seconds"]
                                                      * plan["probe_images_per_sec"] / 2))
  assert plan["teacher_steps_for_time"] > 3 and plan["max_steps"] == 3
  assert plan["teacher_seconds"] + plan["student_seconds"] <= 900 - 6
  assert helpers.read_metrics(runs / "teacher")[-1]["step"] == plan["teacher_steps"]
  assert helpers.read_metrics(runs / "student")[-1]["step"] == plan["student_steps"]
  teacher = weights.load_export(str(runs / "exports" / "teacher.npz"), kind="teacher")
  student = weights.load_export(str(runs / "exports" / "student.npz"), kind="student")
  assert teacher.metadata["training"]["step"] == plan["teacher_steps"]
  assert student.metadata["training"]["step"] == plan["student_steps"]
  assert "verify: OK" in run.stdout
  # The student was distilled from this run's teacher.
  config = json.loads((runs / "student" / "config.json").read_text())
  assert config["teacher_checkpoint"] == str(runs / "teacher")
  # Re-running reuses the plan and finds both runs finished.
  again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
  assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
  assert "reusing" in again.stdout
  assert again.stdout.count("train.py --config=") == 2  # teacher and student, no probe
  assert json.loads((runs / "plan.json").read_text()) == plan


def test_auto_checks_measure_the_night_sky_and_both_ssims(tmp_path, photos, capsys):
  import importlib.util
  import numpy as np
  spec = importlib.util.spec_from_file_location("auto_checks", REPO / "tools" / "auto_checks.py")
  tool = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(tool)
  rng = np.random.default_rng(4)
  night = np.clip(0.3 * rng.random((64, 80, 3)), 0, 1)
  night[:32] = np.clip(0.002 + rng.normal(0, 0.001, (32, 80, 3)), 0, 1)   # a noisy black sky
  helpers.save_float_image(tmp_path / "night.png", night)
  assert tool.main(["veil", str(tmp_path / "night.png")]) == 0
  name, noise, share, mean, std = capsys.readouterr().out.splitlines()[1].split()
  assert name == "night.png" and 0 < float(noise) < 1 and float(share) == 0.5
  assert 0 <= float(mean) < 20 and float(std) >= 0
  ins, refs = photos
  (ins / "pairs.csv").write_text("input,reference,kind\np0.png,../ref/p0.png,under\n"
                                 "p1.png,../ref/p1.jpg,over\n")
  assert tool.main(["strata", str(ins), "--pairs", str(ins / "pairs.csv")]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 2 and lines[1].split()[:2] == ["r<8", "1"]   # the under pair only
  assert tool.main(["strata", str(ins), "--pairs", str(ins / "pairs.csv"), "--kind", "over"]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert len(lines) == 2 and lines[1].split()[:2] == ["r<8", "1"]   # the over pair only
  # --video: a still clip of each input through the video enhancer lands on the still
  assert tool.main(["strata", str(ins), "--pairs", str(ins / "pairs.csv"), "--video"]) == 0
  video = capsys.readouterr().out.splitlines()[1].split()
  assert tool.main(["strata", str(ins), "--pairs", str(ins / "pairs.csv")]) == 0
  assert video == capsys.readouterr().out.splitlines()[1].split()
  rng = np.random.default_rng(5)
  helpers.save_float_image(tmp_path / "dim.png", 0.15 * rng.random((48, 64, 3)))
  helpers.save_float_image(tmp_path / "black.png", np.zeros((48, 64, 3)))
  assert tool.main(["reach", str(tmp_path / "dim.png"), str(tmp_path / "black.png"),
                    "--targets", "0.3,0.7"]) == 0
  rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
  assert [row[0] for row in rows] == ["0.3", "0.7"]
  for _, mean, mean_ok, n_ok, _, n in rows:
    assert n == "2" and 1 <= int(n_ok) <= 2   # the dim photo reaches 0.3 at least
    # All reachable: the same mean; one not: the mean of all differs.
    assert (float(mean) == float(mean_ok)) == (n_ok == "2")


def _tool(name):
  import importlib.util
  spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
  tool = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(tool)
  return tool


def test_auto_checks_saturation_against_a_gain(tmp_path, capsys):
  import numpy as np
  tool = _tool("auto_checks")
  # (max - min) / max over pixels whose max is above 0.05: 0.5 and 0 -> 0.25; the
  # near-black pixel does not count.
  rgb = np.array([[[0.8, 0.4, 0.4], [0.3, 0.3, 0.3], [0.04, 0.0, 0.0]]], np.float32)
  assert tool.saturation_of(rgb) == pytest.approx(0.25)
  rng = np.random.default_rng(6)
  dark = 0.06 * rng.random((48, 64, 3))
  dark[:, :32, 1:] *= 0.2                                   # a dark red half
  helpers.save_float_image(tmp_path / "dark.png", dark)
  helpers.save_float_image(tmp_path / "bright.png", 0.3 + 0.4 * rng.random((48, 64, 3)))
  assert tool.main(["saturation", str(tmp_path / "dark.png"), str(tmp_path / "bright.png")]) == 0
  rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
  assert [(r[0], r[1]) for r in rows] == [("0-0.1", "1"), ("0.25-1", "1")]
  assert 0 < float(rows[0][2]) < 2        # the dark photo keeps some of its colour
  assert 0.5 < float(rows[1][2]) < 1.5    # a bright one about a gain's


def test_student_health_counts_dead_channels(tmp_path, capsys):
  import numpy as np
  from cudi_jax import weights
  from cudi_jax.runtime import api as runtime
  tool = _tool("student_health")
  helpers.save_float_image(tmp_path / "p.png", np.random.default_rng(7).random((32, 48, 3)))
  export = weights.load_export(runtime.shipped_weights_path())
  params = dict(export.params)
  params["conv3/pw_bias"] = np.full_like(params["conv3/pw_bias"], -1e3)   # layer 3 killed
  weights.save_export(tmp_path / "s.npz", "student", params, export.metadata)
  assert tool.main([str(tmp_path / "p.png"), "--student", str(tmp_path / "s.npz")]) == 0
  rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
  assert [r[0] for r in rows] == ["1", "2", "3", "4", "5", "6"]
  assert rows[2][1:3] == ["16", "16"]                       # every channel of layer 3 dead
  assert int(rows[3][2]) < 16 and int(rows[3][3]) >= int(rows[3][2])


def test_video_checks_print_the_fade_and_light_figures(capsys):
  import importlib.util
  spec = importlib.util.spec_from_file_location("video_checks", REPO / "tools" / "video_checks.py")
  tool = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(tool)
  assert tool.main(["--seconds", "2", "--size", "64"]) == 0
  lines = capsys.readouterr().out.splitlines()
  fades = [line.split() for line in lines[1:] if line.split()[2:3] in (["in"], ["out"])]
  assert len(fades) == 3 * 2 * 2   # 3 scenes x auto, 0.6 x out, in
  for scene, setting, kind, seconds, _, step, reversal, *over in fades:
    assert float(step) <= 0.02
    assert (kind == "in") == bool(over)
    if kind == "out":  # fades out are monotonic
      assert float(reversal) == 0.0
    else:  # 2 s fades in: monotonic too (longer ones come back a little: documented)
      assert float(reversal) == 0.0 and float(over[0]) == 0.0
  assert lines[-4].startswith("constant light") and float(lines[-4].split()[-1]) <= 0.01
  rise = float(lines[-3].split("largest rise in a frame ")[1].split(",")[0])
  assert 0.0 <= rise <= 0.0151
  assert lines[-1].startswith("light 4x darker over 0.3 s") and "never" not in lines[-1]
