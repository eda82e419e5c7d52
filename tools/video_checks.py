"""The temporal-stability figures of video enhancement, on generated clips.

    python tools/video_checks.py                      # generated scenes and two sample photos
    python tools/video_checks.py PHOTO... --size 256  # fades of your own photos too

Each scene (the generated dark texture of :mod:`cudi_jax.video.synthetic`, scikit-image's
"astronaut" and "coffee", and any photos given, scaled to a mean brightness of
``--level``) is faded out to black and in from black over 1, 2 and 4 s at 30 frames/s
(with 10 frames before and 60 after) and run through :class:`VideoEnhancer` with the
default smoothing, at ``auto`` and at a constant 0.6. Per clip, from the output's
per-frame mean brightness: the largest step between frames, the largest step against
the fade's direction (a reversal), and for fades in the overshoot (the brightest frame
above the last one). Then: constant light with moving content (the standard deviation
of the mean), a light switched on (4x brighter at once: the largest rise in a frame,
and the output 0.6 s later against a fresh start on the bright frame) and off (4x
darker at once, and over 0.3 s as in a pan into a dark room: when the output settles
within 5% of a fresh start on the dark frame).
``--student`` to check another export (default: the packaged weights); ``--cell 8``
to run the network on 8x8 cells, as 4K frames are (default: by frame size, 4x4 here).
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from cudi_jax.eval import common  # noqa: E402
from cudi_jax.runtime import api as runtime  # noqa: E402
from cudi_jax.video import synthetic  # noqa: E402
from cudi_jax.video import temporal  # noqa: E402
from cudi_jax.video.enhancer import VideoEnhancer  # noqa: E402

RATE = 30


def means(model, frames, exposure="auto", smoothing=temporal.Smoothing(), cell=None):
  """The output's per-frame mean brightness for float frames in [0, 1]."""
  enhancer = VideoEnhancer(model, exposure, smoothing=smoothing, cell=cell)
  return np.array([enhancer.enhance(synthetic.to_uint8(f), time=i / RATE).mean() / 255.0
                   for i, f in enumerate(frames)])


def fade(scene, seconds, into):
  """Frames of ``scene`` faded in from black (``into``) or out to black."""
  n = int(round(RATE * seconds))
  ramp = [scene * (i / n if into else 1 - i / n) for i in range(n + 1)]
  before, after = (scene * 0, scene) if into else (scene, scene * 0)
  return [before] * 10 + ramp + [after] * 60


def fade_figures(y, into):
  """(largest step, largest reversal, overshoot or nan) of a fade's output means."""
  steps = np.diff(y)
  reversal = max(0.0, -steps.min() if into else steps.max())
  overshoot = y.max() - y[-1] if into else float("nan")
  return float(np.abs(steps).max()), float(reversal), float(overshoot)


def scenes(photos, size, level):
  """(name, float32 (H, W, 3) scene of mean ``level``) pairs."""
  import skimage.data
  from PIL import Image
  out = [("generated", synthetic.scene(96, 128, seed=4, level=level))]
  images = [("astronaut", skimage.data.astronaut()), ("coffee", skimage.data.coffee())]
  images += [(pathlib.Path(p).name, common.to_uint8(common.read_float_image(p))) for p in photos]
  for name, img in images:
    im = Image.fromarray(np.asarray(img)[..., :3])
    im.thumbnail((size, size))
    x = np.asarray(im, np.float32) / 255.0
    out.append((name, np.clip(x * (level / max(x.mean(), 1e-3)), 0, 1).astype(np.float32)))
  return out


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("photos", nargs="*", help="more photos to fade")
  ap.add_argument("--size", type=int, default=128, help="longest side of the frames")
  ap.add_argument("--level", type=float, default=0.12, help="mean brightness of the scenes")
  ap.add_argument("--seconds", default="1,2,4", help="fade lengths")
  ap.add_argument("--student", default=None, help="an export (default: the packaged one)")
  ap.add_argument("--cell", type=int, default=None, choices=(4, 8, 16),
                  help="the cell size the network runs at (default: by frame size)")
  args = ap.parse_args(argv)
  cell = args.cell
  model = runtime.load_student(args.student) if args.student else runtime.load_student()
  print(f"{'scene':12s} {'setting':7s} {'fade':9s} {'max step':>8s} {'reversal':>8s} "
        f"{'overshoot':>9s}")
  for name, scene in scenes(args.photos, args.size, args.level):
    for exposure in ("auto", 0.6):
      for seconds in (float(s) for s in args.seconds.split(",")):
        for into in (False, True):
          step, rev, over = fade_figures(means(model, fade(scene, seconds, into), exposure,
                                                   cell=cell), into)
          kind = f"{'in' if into else 'out'} {seconds:g} s"
          over_s = f"{over:9.3f}" if into else f"{'':9s}"
          print(f"{name[:12]:12s} {str(exposure):7s} {kind:9s} {step:8.4f} {rev:8.4f} {over_s}")
  moving = list(synthetic.moving_frames(96, 128, 60, seed=3))
  print(f"constant light, moving content: std of the mean {means(model, moving, cell=cell).std():.4f}")
  a = synthetic.scene(64, 96, seed=0)
  bright = np.clip(a * 2, 0, 1)
  light = means(model, [a * 0.5] * 10 + [bright] * 30, cell=cell)
  settled = means(model, [bright], smoothing=None, cell=cell)[0]
  print(f"light 4x brighter at once: largest rise in a frame {np.diff(light).max():.4f}, "
        f"0.6 s later {light[10 + 18]:.3f} (a fresh start: {settled:.3f})")
  for name, ramp in (("at once", 1), ("over 0.3 s", 9)):
    dim = [a * (1 - 0.75 * min(i / ramp, 1.0)) for i in range(1, 61)]
    y = means(model, [a] * 10 + dim, cell=cell)
    fresh = means(model, [dim[-1]], smoothing=None, cell=cell)[0]
    near = np.abs(y[10:] - fresh) <= 0.05 * fresh
    settled_at = next((i for i in range(len(near)) if near[i:].all()), None)
    when = "never" if settled_at is None else f"{settled_at / RATE:.2f} s"
    print(f"light 4x darker {name}: lowest {y[10:].min():.3f}, within 5% of a fresh start "
          f"({fresh:.3f}) from {when}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
