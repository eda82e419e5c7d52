"""Calibrates a student's exposure settings so that photos come out as asked.

    python tools/calibrate_exposure.py student.npz PHOTOS/ -o calibrated.npz \
        [--strength 0.5] [--goal 0.5] [--max-size 256] [--limit 300]

A student reaches the brightness it is asked for only partly: dark photos come out
darker, bright ones brighter than the exposure map says. This measures that on
photos (no reference images: any photos of the kind to be enhanced; the shipped
weights are calibrated on their training photos) and records two corrections in the
export's metadata (``exposure_presets``), which the runtime applies:

* ``auto``: for every photo, by bisection, the target t of the input-following map
  (strength ``--strength``) whose output has mean RGB brightness ``--goal``; the
  photos are grouped into ``--bins`` bins of equal count by mean brightness and the
  median brightness and target of each bin are kept (``auto.calibration``); the
  runtime interpolates between them in log brightness.
* every other map (constants, presets, user maps): the photos are grouped into
  ``--response-bins`` bins by mean brightness and, per bin, for requested values
  0.1, 0.2, ..., 0.9, the constant to feed the network so that the bin's mean output
  brightness equals the request (``response``); the runtime maps each value of a map
  through the curve interpolated for the photo's brightness.
"""
import argparse
import dataclasses
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cudi_jax import exposure as exposure_lib  # noqa: E402
from cudi_jax import weights  # noqa: E402
from cudi_jax.eval import common as eval_common  # noqa: E402
from cudi_jax.runtime import StudentRuntime  # noqa: E402

RESPONSE_POINTS = tuple(round(0.1 * i, 1) for i in range(1, 10))


def _bisect(brightness_at, goal, lo=0.0, hi=1.0, iterations=12):
  """The value in [lo, hi] at which the increasing ``brightness_at`` reaches ``goal``."""
  for _ in range(iterations):
    mid = 0.5 * (lo + hi)
    if brightness_at(mid) < goal:
      lo = mid
    else:
      hi = mid
  return 0.5 * (lo + hi)


def auto_target_for_goal(model, image, strength, goal, gain_cap=exposure_lib.AUTO_GAIN_CAP):
  """(target of auto's map whose output has mean brightness ``goal``, photo brightness)."""
  stats = exposure_lib.ImageStats(image)
  cells = stats.cell_brightness()
  h, w = image.shape[:2]

  def brightness(t):
    spec = ("cells", exposure_lib.natural_cells(cells, t, strength, gain_cap=gain_cap))
    return float(model.enhance(image, exposure_lib.materialize(spec, h, w, stats),
                               calibrate=False).mean())

  return _bisect(brightness, goal, 0.02, 0.98), float(cells.mean())


def response_table(model, images, means, bins, points=RESPONSE_POINTS):
  """The response calibration: photos grouped into ``bins`` equal-count bins by mean
  brightness; per bin, for each requested brightness, the constant map whose outputs
  average it over the bin's photos. Returns (bin brightnesses, points, fed rows)."""
  order = np.argsort(means)
  bin_means, rows = [], []
  for chunk in np.array_split(order, min(bins, len(images))):
    group = [images[i] for i in chunk]

    def brightness(value, group=group):
      return float(np.mean([model.enhance(image, value, calibrate=False).mean()
                            for image in group]))

    m = float(np.median(np.asarray(means)[chunk]))
    if bin_means and m <= bin_means[-1]:
      continue
    fed = np.maximum.accumulate([_bisect(brightness, goal) for goal in points])
    bin_means.append(m)
    rows.append(tuple(float(f) for f in fed))
  return tuple(bin_means), tuple(points), tuple(rows)


def fit_bins(means, targets, bins):
  """(bin mean brightnesses, bin targets): medians of equal-count bins by brightness."""
  order = np.argsort(means)
  means, targets = np.asarray(means)[order], np.asarray(targets)[order]
  out_m, out_t = [], []
  for chunk in np.array_split(np.arange(len(means)), min(bins, len(means))):
    m = float(np.median(means[chunk]))
    if out_m and m <= out_m[-1]:
      continue
    out_m.append(m)
    out_t.append(float(np.median(targets[chunk])))
  return tuple(out_m), tuple(out_t)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("student", help="student export (.npz)")
  parser.add_argument("photos", nargs="+", help="photos or folders to calibrate on")
  parser.add_argument("-o", "--output", required=True, help="the calibrated export to write")
  parser.add_argument("--strength", type=float, default=exposure_lib.AUTO_STRENGTH,
                      help="how closely auto's map follows the photo (0: constant, 1: a gain)")
  parser.add_argument("--gain-cap", type=float, default=exposure_lib.AUTO_GAIN_CAP,
                      help="no cell of auto's map asks for more than this multiple of the "
                           f"photo's global gain (default {exposure_lib.AUTO_GAIN_CAP}; 0: no cap)")
  parser.add_argument("--goal", type=float, default=exposure_lib.AUTO_TARGET,
                      help="the mean output brightness auto aims at (default 0.5)")
  parser.add_argument("--max-size", type=int, default=256, help="downscale photos to this")
  parser.add_argument("--bins", type=int, default=8, help="brightness bins for auto")
  parser.add_argument("--response-bins", type=int, default=4,
                      help="brightness bins for the other maps' response")
  parser.add_argument("--limit", type=int, default=300, help="use at most N photos (evenly spaced)")
  args = parser.parse_args(argv)
  export = weights.load_export(args.student, kind="student")
  model = StudentRuntime(export.params, export.metadata)
  paths = eval_common.expand_image_paths(args.photos)
  if args.limit and len(paths) > args.limit:
    paths = paths[::-(-len(paths) // args.limit)]
  images = [eval_common.load_image(p, args.max_size) for p in paths]
  gain_cap = args.gain_cap if args.gain_cap and args.gain_cap > 0 else None
  if gain_cap is not None and gain_cap < 1:
    parser.error("--gain-cap must be at least 1 (or 0 for no cap)")
  found = [auto_target_for_goal(model, image, args.strength, args.goal, gain_cap)
           for image in images]
  bin_means, bin_targets = fit_bins([m for _, m in found], [t for t, _ in found], args.bins)
  r_means, requested, fed = response_table(model, images, [m for _, m in found],
                                           args.response_bins)
  presets = dataclasses.replace(
      exposure_lib.Presets.from_metadata(export.metadata), auto_strength=args.strength,
      auto_gain_cap=gain_cap,
      auto_target=args.goal, auto_means=bin_means, auto_targets=bin_targets,
      response_means=r_means, response_requested=requested, response_fed=fed)
  metadata = dict(export.metadata)
  metadata["exposure_presets"] = presets.to_metadata()
  metadata["exposure_calibration"] = {"photos": len(paths), "max_size": args.max_size}
  weights.export_student(export.nested_params(), metadata, args.output)
  print(f"calibrated on {len(paths)} photos ({args.max_size} px)")
  print(f"auto (strength {args.strength}, gain cap {gain_cap}, goal {args.goal}):")
  for m, t in zip(bin_means, bin_targets):
    print(f"  photo brightness {m:.3f} -> target {t:.3f}")
  print("response (fed for requested " + " ".join(f"{r:.1f}" for r in requested) + "):")
  for m, row in zip(r_means, fed):
    print(f"  photo brightness {m:.3f}: " + " ".join(f"{f:.2f}" for f in row))
  return 0


if __name__ == "__main__":
  sys.exit(main())
