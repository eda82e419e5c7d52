"""The runtime's speed now against another revision, alternating in one run (a
benchmark, not a test).

    python benchmarks/bench_compare.py --base be0a4f6              # 4K, exposure auto
    python benchmarks/bench_compare.py --base HEAD~3 --exposure adaptive --rounds 7

The other revision is extracted with ``git archive`` into a temporary folder; each
round times ``model.enhance`` on the same in-memory uint8 photo (a real 4K frame from
../shared/data/test/real/512_*.png when present, else a generated one) once with each
tree, in fresh processes, in alternating order, so that a busy machine slows both
alike. Prints each round and the median of the per-round ratios (this tree / base).
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTO_GLOB = os.path.join(REPO, "..", "shared", "data", "test", "real", "512_*.png")

TIMER = r"""
import sys, time
import numpy as np
from PIL import Image
from cudi_jax.runtime import load_student
photo, exposure, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
if photo:
  image = np.asarray(Image.open(photo).convert("RGB"))
else:
  yy, xx = np.mgrid[0:2160, 0:3840]
  image = (np.stack([xx % 256, yy % 256, (xx ^ yy) % 256], -1) * 0.3).astype(np.uint8)
try:
  exposure = float(exposure)
except ValueError:
  pass
model = load_student()
model.enhance(image, exposure)
times = []
for _ in range(repeats):
  start = time.perf_counter()
  model.enhance(image, exposure)
  times.append(time.perf_counter() - start)
print(min(times))
"""


def time_tree(tree, photo, exposure, repeats):
  env = dict(os.environ, PYTHONPATH=tree)
  out = subprocess.run([sys.executable, "-c", TIMER, photo, exposure, str(repeats)], cwd=tree,
                       env=env, capture_output=True, text=True, check=True)
  return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--base", required=True, help="the git revision to compare with")
  parser.add_argument("--exposure", default="auto")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--repeats", type=int, default=3, help="timed runs per process (min kept)")
  args = parser.parse_args(argv)
  photos = sorted(glob.glob(PHOTO_GLOB))
  photo = photos[0] if photos else ""
  with tempfile.TemporaryDirectory() as base:
    archive = subprocess.run(["git", "-C", REPO, "archive", args.base], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", base], input=archive, check=True)
    print(f"photo: {photo or 'generated 3840x2160'}; exposure {args.exposure}; "
          f"load average {os.getloadavg()[0]:.2f}")
    ratios = []
    for r in range(args.rounds):
      order = [("this", REPO), ("base", base)]
      if r % 2:
        order.reverse()
      t = {name: time_tree(tree, photo, args.exposure, args.repeats) for name, tree in order}
      ratios.append(t["this"] / t["base"])
      print(f"round {r + 1}: this {t['this'] * 1000:.0f} ms, {args.base} {t['base'] * 1000:.0f} ms, "
            f"ratio {ratios[-1]:.3f}")
    print(f"median ratio this / {args.base}: {statistics.median(ratios):.3f} "
          f"(load average {os.getloadavg()[0]:.2f})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
