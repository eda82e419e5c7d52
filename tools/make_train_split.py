"""Makes the training folder of SICE Part 1 without the validation scenes.

    python tools/make_train_split.py ../shared/data/sice_part1_train \
        ../shared/data/sice_part1_pairs.csv runs/sice_train

Every frame of a scene whose pairs have ``split=val`` in the pairs CSV (its
``scene`` column gives the first and last frame number, ``first-last``) is left
out; the other photos are linked (symbolic links, nothing copied) into the output
folder, which training then reads with ``--config.data.path``. Prints how many
photos were linked and left out.
"""
import argparse
import csv
import os
import sys


def val_frames(pairs_csv, split="val"):
  """Frame numbers of every scene that has a pair in ``split``."""
  frames = set()
  with open(pairs_csv, newline="") as f:
    for row in csv.DictReader(f):
      if row.get("split") == split:
        first, last = (int(v) for v in row["scene"].split("-"))
        frames.update(range(first, last + 1))
  return frames


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("photos", help="the SICE Part 1 training folder (files named <number>.jpg)")
  parser.add_argument("pairs_csv", help="sice_part1_pairs.csv (columns scene and split)")
  parser.add_argument("output", help="folder to create with links to the kept photos")
  parser.add_argument("--split", default="val", help="the split whose scenes are left out")
  args = parser.parse_args(argv)
  held_out = val_frames(args.pairs_csv, args.split)
  if not held_out:
    parser.error(f"{args.pairs_csv} has no rows with split={args.split}")
  os.makedirs(args.output, exist_ok=True)
  kept = skipped = 0
  for name in sorted(os.listdir(args.photos)):
    stem = os.path.splitext(name)[0]
    if not stem.isdigit():
      continue
    if int(stem) in held_out:
      skipped += 1
      continue
    link = os.path.join(args.output, name)
    if not os.path.lexists(link):
      os.symlink(os.path.abspath(os.path.join(args.photos, name)), link)
    kept += 1
  print(f"linked {kept} photos into {args.output}; left out {skipped} frames of the "
        f"{args.split} scenes")
  return 0


if __name__ == "__main__":
  sys.exit(main())
