"""Video speed (a benchmark, not a test): decode + encode alone against the whole
pipeline, and the enhancement alone at 1080p and 4K against the bare uint8 -> float32
conversion of the same frames, all in one run (the VM's load moves absolute figures;
compare the ratios).

    python benchmarks/bench_video.py                 # 2 s of generated 1080p, auto
    python benchmarks/bench_video.py --threads 2 --seconds 1 --skip-4k
    python benchmarks/bench_video.py --parts         # + one thread's CPU time by stage
    python benchmarks/bench_video.py --jax           # + the batched JAX enhancer, where
                                                     #   JAX sees an accelerator

Needs the [video] extra (PyAV).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cudi_jax.runtime import load_student  # noqa: E402
from cudi_jax.video import VideoEnhancer, enhance_video, synthetic  # noqa: E402
from cudi_jax.video.enhancer import network_cell  # noqa: E402


def load_average():
  try:
    return "load average %.2f %.2f %.2f" % os.getloadavg()
  except OSError:
    return "load average n/a"


def median_ms(fn, repeats):
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return 1000 * float(np.median(times))


def frames_of(height, width, count):
  base = synthetic.to_uint8(synthetic.scene(height, width, seed=2))
  rng = np.random.default_rng(0)
  # Cheap motion: the scene shifted a little each frame, plus a moving bright band.
  out = []
  for i in range(count):
    f = np.roll(base, 4 * i, axis=1)
    x = (i * width // max(count, 1)) % width
    f[:, x:x + width // 10] = np.minimum(f[:, x:x + width // 10].astype(np.uint16) * 3,
                                         255).astype(np.uint8)
    out.append(f ^ (rng.integers(0, 2, f.shape[:2], dtype=np.uint8)[..., None]))
  return out


def enhance_alone(model, frames, repeats, cell=None):
  enhancer = VideoEnhancer(model, "auto", cell=cell)
  enhancer.enhance(frames[0])  # warm-up
  i = [0]

  def one():
    enhancer.enhance(frames[i[0] % len(frames)], time=i[0] / 30)
    i[0] += 1

  return median_ms(one, repeats), median_ms(lambda: frames[0].astype(np.float32), repeats)


def cpu_parts(frames, count=8, cell=None):
  """One thread's CPU time per frame (``time.thread_time``) of the enhancement and of a
  fresh uint8 -> float32 conversion, and cProfile's split of the enhancement: the
  network's layers, the full-resolution stage, the cell sums."""
  import cProfile
  import pstats
  model = load_student(threads=1)
  enhancer = VideoEnhancer(model, "auto", cell=cell)
  enhancer.enhance(frames[0])

  def cpu_ms(fn):
    t0 = time.thread_time()
    for i in range(count):
      fn(i)
    return 1000 * (time.thread_time() - t0) / count

  frame = lambda i: frames[i % len(frames)]  # noqa: E731
  total = cpu_ms(lambda i: enhancer.enhance(frame(i), time=i / 30))
  conversion = cpu_ms(lambda i: frame(i).astype(np.float32))
  profile = cProfile.Profile()
  profile.enable()
  cpu_ms(lambda i: enhancer.enhance(frame(i), time=(count + i) / 30))
  profile.disable()
  stats = pstats.Stats(profile).stats

  def share(name, cumulative, module="engine.py"):
    return 1000 * sum(v[3 if cumulative else 2] for k, v in stats.items()
                      if k[2] == name and k[0].endswith(module)) / count

  return (total, share("_separable_layer", False), share("full_res", True, "fullres.py"),
          share("cell_sums", True), conversion)


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--threads", type=int, default=None)
  p.add_argument("--seconds", type=float, default=2.0, help="length of the 1080p clip")
  p.add_argument("--repeats", type=int, default=15)
  p.add_argument("--skip-4k", action="store_true")
  p.add_argument("--jax", action="store_true")
  p.add_argument("--parts", action="store_true",
                 help="also one thread's CPU time per frame, split by stage (cProfile)")
  args = p.parse_args(argv)
  model = load_student(threads=args.threads)
  print(f"{os.cpu_count()} CPUs, runtime threads {model.threads}; {load_average()}")
  count = int(round(30 * args.seconds))
  frames = frames_of(1080, 1920, count)
  with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "clip.mp4")
    synthetic.write_clip(src, frames, rate=30, crf=18)
    passthrough = enhance_video(model, src, os.path.join(tmp, "copy.mp4"), enhance=False)
    whole = enhance_video(model, src, os.path.join(tmp, "out.mp4"))
  print(f"1080p clip, {count} frames, H.264 (libx264 veryfast, CRF 18) + AAC:")
  print(f"  decode + encode alone : {passthrough.fps:6.1f} frames/s")
  print(f"  whole pipeline        : {whole.fps:6.1f} frames/s "
        f"({whole.fps / passthrough.fps:.2f}x of decode + encode); stage busy time per "
        f"frame: decode {1000 * whole.decode_s / count:.1f} ms, enhance "
        f"{1000 * whole.enhance_s / count:.1f} ms, encode {1000 * whole.encode_s / count:.1f} ms")
  sizes = [(1080, 1920, frames[:8], None)]
  if not args.skip_4k:
    frames_4k = frames_of(2160, 3840, 2)
    # The video default (8x8 cells at 4K), then the still photos' 4x4 cells.
    sizes += [(2160, 3840, frames_4k, None), (2160, 3840, frames_4k, 4)]
  for h, w, fr, cell in sizes:
    ms, base = enhance_alone(model, fr, args.repeats, cell)
    grid = cell or network_cell(h, w)
    print(f"  enhancement alone {w}x{h} ({grid}x{grid} cells): {ms:6.1f} ms/frame = "
          f"{1000 / ms:5.1f} frames/s; uint8 -> float32 conversion {base:5.1f} ms; "
          f"ratio {ms / base:4.1f}x")
    if args.parts:
      total, layers, full, sums, conversion = cpu_parts(fr, cell=cell)
      print(f"    one thread's CPU per frame: {total:.1f} ms (network layers {layers:.1f}, "
            f"full-resolution stage {full:.1f}, cell sums {sums:.1f}); conversion "
            f"{conversion:.1f} ms")
  if args.jax:
    try:
      import jax
      from cudi_jax.train.jax_enhance import make_jax_enhancer
    except ImportError as err:
      print(f"  JAX: unavailable ({err})")
    else:
      device = jax.devices()[0]
      if device.platform == "cpu":
        print("  JAX: no accelerator (CPU only): skipped")
      else:
        enhance = make_jax_enhancer(model.params)
        batch = np.stack(frames[:8]).astype(np.float32) / 255.0
        maps = np.full(batch.shape[:3], 0.5, np.float32)
        enhance(batch, maps).block_until_ready()
        ms = median_ms(lambda: enhance(batch, maps).block_until_ready(), 5)
        print(f"  JAX on {device.device_kind}: batches of 8 1080p frames, "
              f"{8000 / ms:.0f} frames/s (transfers included)")
  print(f"after: {load_average()}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
