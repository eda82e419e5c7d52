"""Calibrates a student's default exposure setting, ``auto``.

    python tools/calibrate_auto.py student.npz PHOTOS/ -o student.npz \
        [--strength 0.5] [--goal 0.5] [--max-size 256] [--bins 8]

``auto``'s map asks each region of a photo for its own brightness times one gain
(softened by the strength), scaled so that the map's mean is a target t. A student
reaches the target only partly (dark photos come out darker, bright ones brighter
than asked), so this finds, for every photo, by bisection, the target t that gives
an output of mean RGB brightness ``--goal``; groups the photos into ``--bins``
bins of equal count by their mean brightness; and records the median brightness and
target of each bin in the export's metadata (exposure_presets.auto.calibration).
The runtime then picks t by interpolating (in log brightness) between the bins.
No reference images are involved: any photos of the kind to be enhanced will do
(the shipped weights are calibrated on the training photos).
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


def target_for_goal(model, image, presets, goal, iterations=12):
  """The target of auto's map whose output has mean brightness ``goal`` (bisection; the
  output brightness grows with the target)."""
  stats = exposure_lib.ImageStats(image)
  cells = stats.cell_brightness()
  h, w = image.shape[:2]
  lo, hi = 0.02, 0.98
  for _ in range(iterations):
    t = 0.5 * (lo + hi)
    spec = ("cells", exposure_lib.natural_cells(cells, t, presets.auto_strength))
    out = model.enhance(image, exposure_lib.materialize(spec, h, w, stats))
    if float(out.mean()) < goal:
      lo = t
    else:
      hi = t
  return 0.5 * (lo + hi), float(cells.mean())


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
  return out_m, out_t


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("student", help="student export (.npz)")
  parser.add_argument("photos", nargs="+", help="photos or folders to calibrate on")
  parser.add_argument("-o", "--output", required=True, help="the calibrated export to write")
  parser.add_argument("--strength", type=float, default=exposure_lib.AUTO_STRENGTH,
                      help="how closely the map follows the photo (0: constant, 1: a plain gain)")
  parser.add_argument("--goal", type=float, default=exposure_lib.AUTO_TARGET,
                      help="the mean output brightness to reach (default 0.5)")
  parser.add_argument("--max-size", type=int, default=256, help="downscale photos to this")
  parser.add_argument("--bins", type=int, default=8)
  parser.add_argument("--limit", type=int, default=0, help="use every n-th photo to keep N")
  args = parser.parse_args(argv)
  export = weights.load_export(args.student, kind="student")
  presets = exposure_lib.Presets.from_metadata(export.metadata)
  presets = dataclasses.replace(presets, auto_strength=args.strength, auto_target=args.goal,
                                auto_means=(), auto_targets=())
  model = StudentRuntime(export.params, export.metadata)
  paths = eval_common.list_images(args.photos)
  if args.limit and len(paths) > args.limit:
    paths = paths[::-(-len(paths) // args.limit)]
  means, targets = [], []
  for path in paths:
    t, m = target_for_goal(model, eval_common.load_image(path, args.max_size), presets, args.goal)
    means.append(m)
    targets.append(t)
  bin_means, bin_targets = fit_bins(means, targets, args.bins)
  presets = dataclasses.replace(presets, auto_means=tuple(bin_means),
                                auto_targets=tuple(bin_targets))
  metadata = dict(export.metadata)
  metadata["exposure_presets"] = presets.to_metadata()
  metadata["auto_calibration"] = {"photos": len(paths), "max_size": args.max_size,
                                     "goal": args.goal, "strength": args.strength}
  weights.export_student(export.nested_params(), metadata, args.output)
  print(f"calibrated on {len(paths)} photos: strength {args.strength}, goal {args.goal}")
  for m, t in zip(bin_means, bin_targets):
    print(f"  mean brightness {m:.3f} -> target {t:.3f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
