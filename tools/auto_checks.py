"""Checks of ``auto`` on dark photos that `cudi evaluate` does not print.

    python tools/auto_checks.py veil PHOTOS...            # night skies: lifted? noisy?
    python tools/auto_checks.py strata SICE/ --pairs sice_part1_pairs.csv --split val [--kind over] [--video]
    python tools/auto_checks.py reach PHOTOS... --targets 0.3,0.5,0.7 --max-size 384
    python tools/auto_checks.py saturation PHOTOS... --max-size 384

``veil``: per photo, its dark noise (the median std of the pixels of its cells darker
than 0.01, what ``auto``'s noise limit uses; per 255), and over its near-black cells
(input brightness below 0.004, a night sky) the output's mean and the standard
deviation of its brightness, in 8-bit levels: a grey veil raises the mean, amplified
noise the deviation. ``strata``: the under-exposed (``--kind over``: over-exposed)
pairs' PSNR / SSIM by dynamic
range r, as `cudi evaluate paired --strata` prints them, but with scikit-image's
default SSIM (7x7 window) beside its Gaussian one, the global gain beside ``auto``
(``--video``: ``auto`` as video makes it, frame 10 of a still clip of the input through
:class:`cudi_jax.video.VideoEnhancer`).
``reach``: where constant exposures land (the mean output brightness over the photos,
as `cudi evaluate exposure` loads and scores them) split by whether the photo can reach
the target at all: its output with the network fed 1 (the most it is asked for) at or
above the target. ``saturation``: how much of a photo's colour ``auto`` keeps, by the
photo's mean brightness: the output's saturation ((max - min) / max of RGB, over
pixels whose max is above 0.05) over that of one global gain to the same mean
brightness (which keeps every colour ratio), averaged per brightness band.
``--student`` to check another export (default: the packaged weights).
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from cudi_jax.eval import common  # noqa: E402
from cudi_jax.eval import paired  # noqa: E402
from cudi_jax.eval import pairs as pairs_lib  # noqa: E402
from cudi_jax.exposure import resolve  # noqa: E402
from cudi_jax.runtime import api as runtime  # noqa: E402

#: Cells darker than this count as a night sky for ``veil``.
SKY = 0.004


def veil(model, path):
  """(dark noise x 255, near-black share of the cells, output mean and std over those
  cells in 8-bit levels; nan without such cells)."""
  image = common.read_float_image(path)
  stats = resolve.ImageStats(image)
  cells = stats.cell_brightness()
  out = common.to_uint8(model.enhance(image, "auto")).astype(np.float64)
  sky = np.repeat(np.repeat(cells < SKY, 4, axis=0), 4, axis=1)[:image.shape[0], :image.shape[1]]
  if not sky.any():
    return stats.dark_noise() * 255, 0.0, float("nan"), float("nan")
  return (stats.dark_noise() * 255, float((cells < SKY).mean()), float(out[sky].mean()),
          float(out[sky].mean(axis=-1).std()))


def video_auto(model, image, frames=10):
  """``auto`` on a float image as video makes it: the last of ``frames`` frames of a
  still clip of it (uint8) through :class:`cudi_jax.video.VideoEnhancer`, as floats."""
  from cudi_jax.video import VideoEnhancer
  frame = common.to_uint8(image)
  enhancer = VideoEnhancer(model, "auto")
  for i in range(frames):
    out = enhancer.enhance(frame, time=i / 30)
  return out.astype(np.float32) / np.float32(255)


def strata(model, inputs, pairs_csv, split, kind="under", video=False):
  """{stratum label: [(psnr, gaussian ssim, skimage ssim) for auto, then for the gain]}
  over the pairs of this kind (all pairs when the CSV has no kind column); ``video``:
  auto as video makes it (:func:`video_auto`)."""
  from skimage.metrics import structural_similarity
  from cudi_jax.eval import metrics
  found = {}
  for pair in pairs_lib.match_pairs(inputs, None, pairs_csv, split):
    if pair.kind not in (None, kind):
      continue
    _, input_path, reference_path = pair
    image = common.read_float_image(input_path)
    ref = common.resize_image(common.read_float_image(reference_path), size=image.shape[:2])
    label = paired.stratum(paired.dynamic_range(image))
    row = []
    made = video_auto(model, image) if video else model.enhance(image, "auto")
    for out in (made, common.global_gain(image)):
      out = common.to_uint8(out)
      scaled = out.astype(np.float32) / np.float32(255)   # as cudi evaluate scores it
      row += [metrics.psnr(scaled, ref), metrics.ssim(scaled, ref),
              structural_similarity(common.to_uint8(ref), out, channel_axis=-1,
                                    data_range=255)]
    found.setdefault(label, []).append(row)
  return found


def reach(model, photos, targets, max_size):
  """{target: (mean output over all photos, over those whose output at fed value 1
  reaches the target, their count, the photo count)}."""
  from cudi_jax.exposure import values
  found = {t: [] for t in targets}
  images = [(p.name, p) for p in common.expand_image_paths(photos)]
  for _, image in common.loaded_photos(images, "reach", progress=False, max_size=max_size):
    ceiling = float(model.enhance(image, values.Constant(1.0)).mean())
    for t in targets:
      found[t].append((float(model.enhance(image, t).mean()), ceiling >= t))
  out = {}
  for t, rows in found.items():
    means = np.array([m for m, _ in rows])
    ok = np.array([r for _, r in rows], bool)
    out[t] = (float(means.mean()), float(means[ok].mean()) if ok.any() else float("nan"),
              int(ok.sum()), len(rows))
  return out


#: ``saturation``'s bands of the input's mean brightness.
SATURATION_BANDS = ((0.0, 0.1), (0.1, 0.25), (0.25, 1.01))


def saturation_of(rgb):
  """Mean (max - min) / max of RGB over the pixels whose max is above 0.05."""
  hi, lo = rgb.max(axis=-1), rgb.min(axis=-1)
  lit = hi > 0.05
  return float(((hi - lo)[lit] / hi[lit]).mean()) if lit.any() else float("nan")


def saturation(model, photos, max_size):
  """{band: [output saturation / the gain's, per photo]} over SATURATION_BANDS."""
  found = {band: [] for band in SATURATION_BANDS}
  images = [(p.name, p) for p in common.expand_image_paths(photos)]
  for _, image in common.loaded_photos(images, "saturation", progress=False,
                                       max_size=max_size):
    out = common.to_uint8(model.enhance(image, "auto")).astype(np.float32) / 255.0
    mean = float(image.mean())
    gain = np.clip(image * (float(out.mean()) / max(mean, 1e-3)), 0.0, 1.0)
    for band in SATURATION_BANDS:
      if band[0] <= mean < band[1]:
        found[band].append(saturation_of(out) / max(saturation_of(gain), 1e-3))
  return found


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--student", help="student export (default: the packaged weights)")
  sub = parser.add_subparsers(dest="check", required=True)
  v = sub.add_parser("veil", help="dark noise and the night-sky veil per photo")
  v.add_argument("photos", nargs="+")
  s = sub.add_parser("strata", help="pairs of one kind by dynamic range, two SSIMs")
  s.add_argument("inputs")
  s.add_argument("--pairs", required=True)
  s.add_argument("--split")
  s.add_argument("--kind", default="under", help="the pairs' kind (default: under)")
  s.add_argument("--video", action="store_true",
                 help="auto as video makes it (a still clip of each input, frame 10)")
  r = sub.add_parser("reach", help="where constant exposures land, by reachability")
  r.add_argument("photos", nargs="+")
  r.add_argument("--targets", default="0.3,0.5,0.7")
  r.add_argument("--max-size", type=int, default=384)
  c = sub.add_parser("saturation", help="colour kept by auto, by photo brightness")
  c.add_argument("photos", nargs="+")
  c.add_argument("--max-size", type=int, default=384)
  args = parser.parse_args(argv)
  model = runtime.load_student(args.student)
  if args.check == "reach":
    targets = [float(t) for t in args.targets.split(",")]
    print("target  mean (all)  mean (reachable)  reachable / photos")
    for t, (mean, mean_ok, n_ok, n) in reach(model, args.photos, targets, args.max_size).items():
      print(f"{t:g}  {mean:.3f}  {mean_ok:.3f}  {n_ok} / {n}")
    return 0
  if args.check == "saturation":
    print("photo mean  photos  saturation / the gain's")
    for (lo, hi), ratios in saturation(model, args.photos, args.max_size).items():
      if ratios:
        print(f"{lo:g}-{min(hi, 1.0):g}  {len(ratios)}  {np.mean(ratios):.3f}")
    return 0
  if args.check == "veil":
    print("photo  dark noise (/255)  sky share  sky out mean  sky out std")
    for path in common.expand_image_paths(args.photos):
      noise, share, mean, std = veil(model, path)
      print(f"{path.name}  {noise:.2f}  {share:.2f}  {mean:.1f}  {std:.1f}")
    return 0
  print("stratum  pairs  auto psnr / ssim (gaussian) / ssim (skimage)  gain psnr / ssim / ssim")
  found = strata(model, args.inputs, args.pairs, args.split, args.kind, args.video)
  for label, _, _ in paired.STRATA:
    if label in found:
      m = np.mean(found[label], axis=0)
      print(f"{label}  {len(found[label])}  {m[0]:.2f} / {m[1]:.3f} / {m[2]:.3f}  "
            f"{m[3]:.2f} / {m[4]:.3f} / {m[5]:.3f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
