"""The built-in sample photo and ``cudi enhance --demo`` (NumPy + Pillow only).

The sample is scikit-image's CC0 "coffee" photo, darkened to look under-exposed; see
``cudi_jax/assets/README.md``.
"""
import os
import sys
import time

import numpy as np

from cudi_jax import assets
from cudi_jax import progress

#: (output name, exposure) of the demo's enhanced versions.
DEMO_SETTINGS = (("exposure-0.40", 0.40), ("auto", "auto"), ("exposure-0.70", 0.70),
                 ("adaptive", "adaptive"))


def sample_photo_path():
  return assets.path(assets.DEMO_PHOTO)


def sample_photo():
  """The sample photo as a (400, 600, 3) uint8 array."""
  from PIL import Image
  with Image.open(sample_photo_path()) as img:
    return np.asarray(img.convert("RGB"))


def comparison(images, gap=8):
  """Images of the same height side by side on a white background."""
  h = max(im.shape[0] for im in images)
  w = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
  canvas = np.full((h, w, 3), 255, np.uint8)
  x = 0
  for im in images:
    canvas[:im.shape[0], x:x + im.shape[1]] = im
    x += im.shape[1] + gap
  return canvas


def _error(message):
  print(f"cudi: error: {message}", file=sys.stderr)


def run(args, model):
  """``cudi enhance --demo``: writes the sample photo and enhanced versions of it to
  ``args.output`` (``args``: cudi enhance's options); returns the exit status."""
  from cudi_jax.io import atomic, decode, encode
  from cudi_jax.io.errors import ImageIOError, OutputExistsError
  start = time.perf_counter()
  out_dir = args.output
  fmt = encode.format_for("x", args.format) if args.format else "JPEG"
  ext = encode.FORMAT_EXTENSIONS[fmt]
  try:
    pic = decode.read_image(sample_photo_path())
  except ImageIOError as err:
    _error(f"the built-in sample photo cannot be read: {err}")
    return 1
  stem = os.path.splitext(assets.DEMO_PHOTO)[0]
  outputs = [(os.path.join(out_dir, f"{stem}{ext}"), pic.array, "the under-exposed input")]
  results = []
  for name, setting in DEMO_SETTINGS:
    try:
      enhanced = model.enhance(pic.array, setting, color=args.color)
    except ValueError as err:  # e.g. NonFiniteResultError: broken weights
      _error(f"demo: {err}")
      return 1
    results.append(enhanced)
    outputs.append((os.path.join(out_dir, f"{stem}_{name}{ext}"), enhanced,
                    f"exposure {setting}"))
  strip = comparison([pic.array, results[1], results[3]])
  outputs.append((os.path.join(out_dir, f"comparison{ext}"), strip,
                  "input | auto | adaptive side by side"))
  done = skipped = failed = 0
  from cudi_jax import cli  # its message on removed temporaries, as for other runs
  cli._remove_stale_temporaries({os.path.abspath(out_dir)}, time.time(), args.quiet)
  for index, (path, array, what) in enumerate(outputs):
    try:
      if os.path.exists(path) and not args.overwrite:
        raise OutputExistsError(f"{path} exists")
      if index == 0 and fmt == "JPEG":  # the input itself: copy the file as shipped
        with open(sample_photo_path(), "rb") as f:
          atomic.atomic_write(path, f.read(), overwrite=args.overwrite)
      else:
        encode.write_image(path, array, fmt, pic.icc_profile, pic.exif, args.quality,
                           png_compression=args.png_compression,
                           overwrite=args.overwrite)
      done += 1
      if not args.quiet:
        print(f"{progress.show_name(path)}  ({what})", file=sys.stderr)
    except OutputExistsError:
      skipped += 1
      if not args.quiet:
        print(f"cudi: skipped {progress.show_name(path)}: exists (use --overwrite)", file=sys.stderr)
    except ImageIOError as err:
      failed += 1
      _error(f"{progress.show_name(path)}: {err}")
  elapsed = time.perf_counter() - start
  print(f"cudi: demo: {done} done, {skipped} skipped, {failed} failed in {elapsed:.1f} s "
        f"(open {os.path.join(out_dir, 'comparison' + ext)})", file=sys.stderr)
  return 1 if failed else 0
