"""Training throughput: images/s of teacher_step and student_step on the devices
present, and of the input pipeline alone, at the CPU and paper configs.

    python benchmarks/train_throughput.py [--data DIR] [--steps 5] [--configs cpu,paper,gpu]

The pipeline must not be the bottleneck: the last column is pipeline rate / step
rate (> 1 means the step, not the data, limits training). Also times the student
step with the two depthwise implementations (shifted slices vs grouped conv).
Without --data, a folder of generated 512x512 JPEGs is used.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import jax  # noqa: E402
from PIL import Image  # noqa: E402

from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from cudi_jax.train import train_lib  # noqa: E402

DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data", "sice_part1_train")


def generated_folder(count=32, size=512):
  root = tempfile.mkdtemp(prefix="cudi_bench_")
  rng = np.random.default_rng(0)
  for i in range(count):
    img = (rng.random((size // 8, size // 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(img).resize((size, size), Image.BICUBIC).save(f"{root}/{i}.jpg", quality=90)
  return root


def time_steps(trainer, batch, steps):
  state = trainer.init_state()
  batch = trainer.global_batch(batch)
  state, metrics = trainer.step(state, batch)  # compile
  jax.block_until_ready(metrics)
  start = time.perf_counter()
  for _ in range(steps):
    state, metrics = trainer.step(state, batch)
  jax.block_until_ready(metrics)
  return (time.perf_counter() - start) / steps


def pipeline_rate(config, batches=20):
  ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
  it = data_lib.batch_iterator(ds, 0, config.data.num_threads, config.data.prefetch,
                               config.data.get("num_workers", 0))
  next(it)
  start = time.perf_counter()
  for _ in range(batches):
    next(it)
  rate = batches * config.batch_size / (time.perf_counter() - start)
  it.close()
  return rate


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--data", default=DEFAULT_DATA if os.path.isdir(DEFAULT_DATA) else "")
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--configs", default="cpu,paper")
  args = parser.parse_args()
  from configs import student, student_cpu, student_gpu, teacher, teacher_cpu, teacher_gpu

  data_dir = args.data or generated_folder()
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind} "
        f"({jax.default_backend()}); data: {data_dir}")
  print(f"{'config':<14}{'step':<17}{'batch':>6}{'patch':>6}{'s/step':>9}{'img/s':>9}"
        f"{'pipe img/s':>12}{'pipe/step':>10}")
  pairs = {"cpu": (teacher_cpu, student_cpu), "paper": (teacher, student),
           "gpu": (teacher_gpu, student_gpu)}
  for name in args.configs.split(","):
    teacher_module, student_module = pairs[name]
    t_config = teacher_module.get_config()
    t_config.data.path = data_dir
    t_config.batch_size = max(t_config.batch_size, jax.device_count())
    trainer = train_lib.Trainer(t_config)
    p = t_config.data.patch_size
    rng = np.random.default_rng(0)
    batch = {"image": rng.random((t_config.batch_size, p, p, 3), dtype=np.float32),
             "exposure": np.full((t_config.batch_size, p, p, 1), 0.5, np.float32)}
    rate_pipe = pipeline_rate(t_config)
    sec = time_steps(trainer, batch, args.steps)
    teacher_params = jax.device_get(trainer.init_state().params)
    rows = [(f"{name} teacher", "teacher", t_config, sec)]
    for impl in ("shifted", "grouped"):
      s_config = student_module.get_config()
      s_config.data.path = data_dir
      s_config.batch_size = t_config.batch_size
      s_config.student.depthwise_impl = impl
      s_trainer = train_lib.Trainer(s_config, teacher=(t_config.teacher, teacher_params))
      rows.append((f"{name} student", f"student/{impl}", s_config,
                   time_steps(s_trainer, batch, args.steps)))
    for label, step, config, sec in rows:
      rate = config.batch_size / sec
      print(f"{label:<14}{step:<17}{config.batch_size:>6}{config.data.patch_size:>6}"
            f"{sec:>9.3f}{rate:>9.1f}{rate_pipe:>12.1f}{rate_pipe / rate:>10.1f}", flush=True)


if __name__ == "__main__":
  main()
