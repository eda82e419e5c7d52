"""Speed and memory of the NumPy runtime on a 4K photo (a benchmark, not a test).

    python benchmarks/bench_runtime.py                    # 3840x2160, exposure 'auto'
    python benchmarks/bench_runtime.py --exposure adaptive --threads 1
    python benchmarks/bench_runtime.py --megapixels 100 --skip-baseline   # bounded memory
    python benchmarks/bench_runtime.py --skip-baseline --bandwidth  # + memory bandwidth

Times ``model.enhance(image)`` on an in-memory uint8 photo (decoding excluded): median
and min over repeated runs, wall clock and process CPU time. Beside it, in the same
run, the straightforward NumPy implementation of the same math
(``cudi_jax.runtime.reference.reference_enhance``: ``student_math`` with ``xp=numpy`` on whole
float32 arrays), and the peak extra memory of both: NumPy allocations traced with
``tracemalloc`` (includes the output array) and the peak rise of the process RSS
(sampled every 2 ms). Uses a real 4K photo from ../shared/data/test/real/512_*.png
when present, else a generated one. Prints the machine, its load average, and
checks that both implementations agree.
"""
import argparse
import glob
import os
import sys
import threading
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cudi_jax.runtime import engine  # noqa: E402
from cudi_jax.runtime import api as runtime  # noqa: E402
from cudi_jax.runtime import reference  # noqa: E402

PHOTO_GLOB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                          "data", "test", "real", "512_*.png")


def machine():
  model = "unknown CPU"
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          model = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  try:
    cpus = len(os.sched_getaffinity(0))
  except AttributeError:
    cpus = os.cpu_count()
  return f"{model}, {cpus} CPUs available, numpy {np.__version__}"


def load_average():
  try:
    return "load average %.2f %.2f %.2f" % os.getloadavg()
  except OSError:
    return "load average n/a"


def test_image(megapixels=None, size=(2160, 3840)):
  if megapixels is None:
    paths = sorted(glob.glob(PHOTO_GLOB))
    if paths:
      from PIL import Image
      with Image.open(paths[0]) as img:
        array = np.asarray(img.convert("RGB"))
      if array.shape[:2] == size:
        return array, f"real photo {os.path.relpath(paths[0])}"
  else:
    side = int(round((megapixels * 1e6) ** 0.5))
    size = (side, side)
  h, w = size
  yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
  base = 0.25 + 0.2 * np.sin(xx / 97.0) * np.cos(yy / 61.0) + 0.15 * (xx / w)
  rng = np.random.default_rng(0)
  image = np.empty((h, w, 3), np.uint8)
  for c, gain in enumerate((1.0, 0.9, 0.75)):
    image[..., c] = np.clip((base * gain + rng.normal(0, 0.02, (h, w))) * 255, 0, 255)
  return image, f"generated {w}x{h} image"


class RSSSampler:
  """Peak rise of the resident set size while running."""

  def __init__(self, interval=0.002):
    self.interval = interval
    self.page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

  def rss(self):
    try:
      with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * self.page
    except OSError:
      return 0

  def __enter__(self):
    self.base = self.peak = self.rss()
    self.stop = False
    self.thread = threading.Thread(target=self._run, daemon=True)
    self.thread.start()
    return self

  def _run(self):
    while not self.stop:
      self.peak = max(self.peak, self.rss())
      time.sleep(self.interval)

  def __exit__(self, *exc):
    self.stop = True
    self.thread.join()
    self.peak = max(self.peak, self.rss())
    self.extra = self.peak - self.base
    return False


def timed(fn, repeats):
  walls, cpus, result = [], [], None
  for _ in range(repeats):
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    walls.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
  return result, walls, cpus


def memory(fn):
  import gc
  gc.collect()
  with RSSSampler() as rss:
    tracemalloc.start()
    try:
      fn()
      traced = tracemalloc.get_traced_memory()[1]
    finally:
      tracemalloc.stop()
  return traced, rss.extra


def report(name, walls, cpus, traced, rss):
  mb = 1024 * 1024
  print(f"{name:28s} median {np.median(walls):7.3f} s   min {min(walls):7.3f} s   "
        f"(CPU {np.median(cpus):6.3f} s/run)   peak extra memory: traced {traced / mb:7.1f} MB, "
        f"RSS {rss / mb:7.1f} MB")


def memory_bandwidth(threads, megabytes=64, repeats=8):
  """GB/s of ``np.add(a, b, out=c)`` over arrays far larger than the caches, with
  ``threads`` threads each on its own arrays (bytes read + written / wall time)."""
  n = megabytes * 1024 * 1024 // 4
  arrays = [[np.ones(n, np.float32) for _ in range(3)] for _ in range(threads)]

  def work(a, b, c):
    for _ in range(repeats):
      np.add(a, b, out=c)

  work(*arrays[0])  # touch the pages
  pool = [threading.Thread(target=work, args=arrays[i]) for i in range(threads)]
  t0 = time.perf_counter()
  for t in pool:
    t.start()
  for t in pool:
    t.join()
  return threads * repeats * 3 * n * 4 / (time.perf_counter() - t0) / 1e9


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--weights", help="student export (default: the shipped weights)")
  parser.add_argument("--exposure", default="auto")
  parser.add_argument("--threads", type=int, default=None)
  parser.add_argument("--repeats", type=int, default=9)
  parser.add_argument("--baseline-repeats", type=int, default=3)
  parser.add_argument("--skip-baseline", action="store_true")
  parser.add_argument("--bandwidth", action="store_true",
                      help="also measure the memory bandwidth from one thread and from the "
                           "runtime's default thread count (one per CPU, at most 8)")
  parser.add_argument("--megapixels", type=float, default=None,
                      help="generate a square image of this size instead of the 4K photo")
  args = parser.parse_args(argv)

  model = runtime.load_student(args.weights, threads=args.threads)
  image, source = test_image(args.megapixels)
  exposure = args.exposure
  try:
    exposure = float(exposure)
  except ValueError:
    pass
  print(f"machine: {machine()}; {load_average()}")
  print(f"image: {source}, {image.shape[1]}x{image.shape[0]} uint8 RGB "
        f"({image.nbytes / 1e6:.1f} MB); exposure {args.exposure!r}; "
        f"threads {model.threads}")

  fast = lambda: model.enhance(image, exposure)  # noqa: E731
  fast()  # warm-up
  out, walls, cpus = timed(fast, args.repeats)
  traced, rss = memory(fast)
  report("runtime (banded, threaded)", walls, cpus, traced, rss)
  if not args.skip_baseline:
    slow = lambda: reference.reference_enhance(model.params, image, exposure,  # noqa: E731
                                               model.rules)
    ref, walls_b, cpus_b = timed(slow, args.baseline_repeats)
    traced_b, rss_b = memory(slow)
    report("straightforward NumPy", walls_b, cpus_b, traced_b, rss_b)
    diff = np.abs(out.astype(np.int16) - ref.astype(np.int16))
    print(f"speed-up {np.median(walls_b) / np.median(walls):.1f}x (median); outputs agree: "
          f"max |diff| {int(diff.max())}, {np.mean(diff > 0) * 100:.4f}% of values differ "
          f"(float32 rounding ties)")
  if args.bandwidth:
    cpus_n = engine.default_threads()
    print(f"memory bandwidth (np.add on 64 MB arrays): 1 thread {memory_bandwidth(1):.1f} GB/s, "
          f"{cpus_n} threads {memory_bandwidth(cpus_n):.1f} GB/s")
  print(f"after: {load_average()}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
