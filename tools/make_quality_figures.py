"""Before/after sheets of the default setting on real photos (for looking, not for the repo).

    python tools/make_quality_figures.py PHOTO... -o runs/quality_figures \
        [--student cudi_jax/assets/student.npz] [--old OLD_STUDENT.npz] [--max-size 1200]

For each photo, one JPEG: input | the default (``auto``) | the previous default (a
constant map: 0.55, or 0.25 when the photo's mean BT.601 luminance is at least 0.5) |
the global-gain baseline (one gain to mean BT.709 luminance 0.5) | with ``--old``,
another export's ``auto``; each labelled with its mean brightness and 1st-percentile
luminance. ``--crop Y,X,H,W`` also writes full-resolution crops of
that window, to judge halos, noise and blocks at full size. Dataset photos must not
be copied into the repository, so write these outside it (``runs/`` is ignored).
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common
from cudi_jax.exposure import values as exposure_values
from cudi_jax.runtime import load_student


def _label(array, text):
  img = Image.fromarray(eval_common.to_uint8(array))
  draw = ImageDraw.Draw(img)
  draw.rectangle((0, 0, img.width, 16), fill=(0, 0, 0))
  draw.text((4, 2), text, fill=(255, 255, 255))
  return np.asarray(img)


def _caption(name, out):
  y = imagemath.luma(out)
  return f"{name}  mean {out.mean():.2f}  p1 {np.percentile(y, 1):.3f}"


def panels(image, models):
  """[(name, output)] for the input, each model's auto and the gain baseline."""
  out = [("input", image)]
  for name, model in models:
    out.append((name, model.enhance(image, "auto")))
  previous = 0.25 if imagemath.luma(image).mean() >= 0.5 else 0.55
  out.insert(2, ("previous default", models[0][1].enhance(
      image, exposure_values.Constant(previous))))
  out.append(("gain to 0.5", eval_common.global_gain(image)))
  return out


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("photos", nargs="+")
  parser.add_argument("-o", "--output", required=True)
  parser.add_argument("--student", default=None, help="default: the shipped student")
  parser.add_argument("--old", default=None, help="another student export to show beside it")
  parser.add_argument("--max-size", type=int, default=1200)
  parser.add_argument("--crop", default=None, metavar="Y,X,H,W",
                      help="also save this full-resolution window of every panel")
  args = parser.parse_args(argv)
  models = [("auto", load_student(args.student))]
  if args.old:
    models.append(("previous auto", load_student(args.old)))
  os.makedirs(args.output, exist_ok=True)
  for path in args.photos:
    stem = os.path.splitext(os.path.basename(path))[0]
    full = eval_common.read_float_image(path)
    results = panels(full, models)
    small = [(n, eval_common.resize_image(o, args.max_size // 2)) for n, o in results]
    sheet = np.concatenate([_label(o, _caption(n, o)) for n, o in small], axis=1)
    Image.fromarray(sheet).save(os.path.join(args.output, f"{stem}.jpg"), quality=90)
    if args.crop:
      y, x, h, w = (int(v) for v in args.crop.split(","))
      crops = [_label(o[y:y + h, x:x + w], n) for n, o in results]
      Image.fromarray(np.concatenate(crops, axis=1)).save(
          os.path.join(args.output, f"{stem}_crop.png"))
    print(f"{path}: " + "; ".join(_caption(n, o) for n, o in results))
  return 0


if __name__ == "__main__":
  sys.exit(main())
