"""Trains a teacher and then a student from it within a wall-clock budget, then
exports both, for a machine that is only lent for a fixed time.

    python tools/train_on_budget.py --data ../shared/data/sice_part1_train \
        --runs runs/gpu --budget 3600 --out runs/gpu/exports

1. Probe: the teacher config runs ``--probe-steps`` steps in a scratch workdir; the
   ``images_per_sec`` it logs over its last logging interval (input pipeline
   included) is the measured rate.
2. Plan: what is left of the budget after ``--reserve`` seconds (start-up, compiling,
   checkpoints, exports) is split between teacher and student (``--student-share``);
   each run's ``num_steps`` = its seconds * rate / batch size (at most
   ``--max-steps``), so each cosine learning rate schedule ends when its time does.
   The student's rate is taken as the teacher's times ``--student-speedup``. The plan is written to ``RUNS/plan.json``.
3. Trains the teacher (``RUNS/teacher``), then the student (``RUNS/student``), each
   with ``train.py`` and each stopped (SIGINT) if it overruns its seconds plus a
   grace period, keeping its latest checkpoint.
4. Exports ``teacher.npz`` and ``student.npz`` (checked with ``--verify``) to ``--out``.

Re-running the same command resumes: an existing plan.json is reused and train.py
continues each run from its latest checkpoint. Extra ``--teacher-flag`` /
``--student-flag`` values are passed to train.py (e.g. ``--config.batch_size=32``).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # configs/ and cudi_jax/ without an install


def log(message):
  print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def read_metrics(workdir):
  """A workdir's logged records, by step ([] before the first log)."""
  from cudi_jax import runlog

  path = os.path.join(workdir, "metrics.jsonl")
  return runlog.read_metrics(path) if os.path.exists(path) else []


def train(config, workdir, data, flags, seconds=None):
  """Runs train.py; with ``seconds``, interrupts it after that long. Returns the
  exit status (a run interrupted for time counts as done)."""
  cmd = [sys.executable, os.path.join(REPO, "train.py"), f"--config={config}",
         f"--workdir={workdir}", f"--config.data.path={data}", "--noprogress", *flags]
  log(" ".join(cmd[1:]))
  proc = subprocess.Popen(cmd, cwd=REPO)
  try:
    proc.wait(timeout=seconds)
  except subprocess.TimeoutExpired:
    log(f"{workdir}: out of time after {seconds:.0f} s; stopping at its latest checkpoint")
    proc.send_signal(signal.SIGINT)
    try:
      proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait()
    return 0
  return proc.returncode


def batch_size(config_path, flags):
  """The batch size the config gives, after any --config.batch_size flag."""
  for flag in flags:
    if flag.startswith("--config.batch_size="):
      return int(flag.split("=", 1)[1])
  import importlib.util
  spec = importlib.util.spec_from_file_location("budget_config", config_path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return int(module.get_config().batch_size)


def make_plan(args, start):
  probe_dir = os.path.join(args.runs, "probe")
  log_every = max(1, args.probe_steps // 4)
  status = train(args.teacher_config, probe_dir, args.data,
                 [f"--config.num_steps={args.probe_steps}", f"--config.log_every={log_every}",
                  *args.teacher_flag])
  rows = read_metrics(probe_dir)
  if status or not rows:
    raise SystemExit(f"the teacher probe failed (exit status {status})")
  rate = float(rows[-1]["images_per_sec"])
  left = args.budget - (time.time() - start) - args.reserve
  if left <= 0:
    raise SystemExit(f"no time left after the probe and the {args.reserve:.0f} s reserve")
  teacher_batch = batch_size(args.teacher_config, args.teacher_flag)
  student_batch = batch_size(args.student_config, args.student_flag)
  teacher_seconds = left * (1 - args.student_share)
  student_seconds = left * args.student_share
  teacher_steps = max(1, int(teacher_seconds * rate / teacher_batch))
  student_steps = max(1, int(student_seconds * rate * args.student_speedup / student_batch))
  cap = args.max_steps or None
  plan = {
      "probe_images_per_sec": rate,
      "teacher_seconds": teacher_seconds,
      "student_seconds": student_seconds,
      "teacher_steps_for_time": teacher_steps,
      "student_steps_for_time": student_steps,
      "max_steps": cap,
      "teacher_steps": min(teacher_steps, cap) if cap else teacher_steps,
      "student_steps": min(student_steps, cap) if cap else student_steps,
  }
  return plan


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--data", required=True, help="training image folder")
  parser.add_argument("--runs", required=True, help="folder for the probe, both workdirs "
                      "and plan.json")
  parser.add_argument("--budget", type=float, required=True,
                      help="seconds for everything, from the start of this command")
  parser.add_argument("--out", help="folder for teacher.npz and student.npz "
                      "(default RUNS/exports)")
  parser.add_argument("--teacher-config", default=os.path.join(REPO, "configs", "teacher_gpu.py"))
  parser.add_argument("--student-config", default=os.path.join(REPO, "configs", "student_gpu.py"))
  parser.add_argument("--teacher-flag", action="append", default=[],
                      help="extra train.py flag for the teacher (repeatable)")
  parser.add_argument("--student-flag", action="append", default=[],
                      help="extra train.py flag for the student (repeatable)")
  parser.add_argument("--probe-steps", type=int, default=200)
  parser.add_argument("--reserve", type=float, default=150.0,
                      help="seconds kept for start-up, compiling, saving and exporting")
  parser.add_argument("--student-share", type=float, default=0.3)
  parser.add_argument("--student-speedup", type=float, default=1.0,
                      help="student images/s over the teacher's (1 is safe: the student "
                      "step is cheaper, but both may be limited by the input pipeline)")
  parser.add_argument("--max-steps", type=int, default=0,
                      help="at most this many steps per run, whatever the budget allows "
                      "(0 = no cap); the plan also records the steps the time would allow")
  parser.add_argument("--grace", type=float, default=60.0,
                      help="seconds past its allowance before a run is stopped")
  args = parser.parse_args(argv)
  start = time.time()
  args.runs = os.path.abspath(args.runs)
  args.data = os.path.abspath(args.data)
  out = os.path.abspath(args.out or os.path.join(args.runs, "exports"))
  os.makedirs(args.runs, exist_ok=True)
  os.makedirs(out, exist_ok=True)

  plan_path = os.path.join(args.runs, "plan.json")
  if os.path.exists(plan_path):
    with open(plan_path) as f:
      plan = json.load(f)
    log(f"reusing {plan_path}: {plan}")
  else:
    plan = make_plan(args, start)
    with open(plan_path, "w") as f:
      json.dump(plan, f, indent=1)
    log(f"plan: {plan}")

  teacher_dir = os.path.join(args.runs, "teacher")
  student_dir = os.path.join(args.runs, "student")
  checkpoint_every = lambda steps: max(1, steps // 8)  # noqa: E731
  status = train(args.teacher_config, teacher_dir, args.data,
                 [f"--config.num_steps={plan['teacher_steps']}",
                  f"--config.checkpoint_every={checkpoint_every(plan['teacher_steps'])}",
                  *args.teacher_flag],
                 seconds=plan["teacher_seconds"] + args.grace)
  if status:
    raise SystemExit(f"teacher training failed (exit status {status})")
  status = train(args.student_config, student_dir, args.data,
                 [f"--config.num_steps={plan['student_steps']}",
                  f"--config.checkpoint_every={checkpoint_every(plan['student_steps'])}",
                  f"--config.teacher_checkpoint={teacher_dir}", *args.student_flag],
                 seconds=plan["student_seconds"] + args.grace)
  if status:
    raise SystemExit(f"student training failed (exit status {status})")

  for kind, workdir, extra in (("teacher", teacher_dir, []),
                               ("student", student_dir, ["--verify"])):
    cmd = [sys.executable, os.path.join(REPO, "export.py"), "--workdir", workdir,
           "--output", os.path.join(out, f"{kind}.npz"), "--kind", kind, *extra]
    log(" ".join(cmd[1:]))
    subprocess.run(cmd, cwd=REPO, check=True)
  for kind, workdir in (("teacher", teacher_dir), ("student", student_dir)):
    rows = read_metrics(workdir)
    if rows:
      last = rows[-1]
      loss = last.get("loss/total", last.get("loss/distill"))
      log(f"{kind}: step {last['step']}, loss {loss:.4f}, "
          f"{last['images_per_sec']:.0f} images/s at the end")
  log(f"done in {time.time() - start:.0f} s of a {args.budget:.0f} s budget; exports in {out}")


if __name__ == "__main__":
  main()
