"""16-bit PNG: our codec (:mod:`cudi_jax.io.png16`) against imagecodecs and pypng, on a
4K 16-bit RGB photo (a benchmark, not a test).

    python benchmarks/bench_png16.py                 # 3840x2160, 3 runs each
    python benchmarks/bench_png16.py --repeat 5 --size 1920x1080

Encodes in both presets of ``cudi enhance --png-compression`` ('fast': Sub filter +
zlib level 1; 'small': Paeth + level 9) and decodes the 'fast' file, with each
library given the same filter and level where it lets one choose; prints the median
and min wall time, the file size, and whether the decoded pixels are exact. Also
prints what each library does with the iCCP and eXIf chunks. A library that is not
installed is skipped (``pip install imagecodecs pypng``).
"""
import argparse
import io
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cudi_jax.io import png16  # noqa: E402

EXIF = b"MM\0*\0\0\0\x08\0\0\0\0\0\0"


def srgb_profile():
  from PIL import ImageCms
  return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


ICC = srgb_profile()


def photo(height, width, seed=0):
  """A smooth 16-bit RGB image with sensor-like noise (compresses like a photo)."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[:height, :width].astype(np.float32)
  base = (np.sin(y / 90.0) + np.cos(x / 130.0) + 2) * 0.24 + 0.02
  base = base[..., None] * np.array([0.8, 0.9, 1.0], np.float32)
  noisy = base * 65535 + rng.normal(0, 300, base.shape).astype(np.float32)
  return np.clip(np.rint(noisy), 0, 65535).astype(np.uint16)


def timed(fn, repeat):
  times, result = [], None
  for _ in range(repeat):
    t0 = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - t0)
  return statistics.median(times), min(times), result


def coders():
  """name -> (encode(array, preset) -> bytes, decode(bytes) -> array, metadata note)."""
  presets = {"fast": (1, 1), "small": (9, 4)}  # level, PNG filter type

  def ours_encode(a, preset):
    level, ftype = presets[preset]
    return png16.encode(a, icc_profile=ICC, exif=EXIF, level=level, filter_type=ftype)

  found = {"cudi png16": (ours_encode, lambda d: png16.decode(d)[0],
                          "reads and writes iCCP and eXIf")}
  try:
    import imagecodecs
    flags = {1: imagecodecs.PNG.FILTER.SUB, 4: imagecodecs.PNG.FILTER.PAETH}

    def ic_encode(a, preset):
      level, ftype = presets[preset]
      return imagecodecs.png_encode(a, level=level, filter=flags[ftype])

    found[f"imagecodecs {imagecodecs.__version__} (libpng)"] = (
        ic_encode, imagecodecs.png_decode,
        "pixels only: png_encode/png_decode take and return no iCCP or eXIf")
  except ImportError:
    print("imagecodecs not installed: skipped")
  try:
    import png

    def pypng_encode(a, preset):
      level, _ = presets[preset]  # pypng writes filter type 0 (none) on every row
      h, w, c = a.shape
      writer = png.Writer(w, h, greyscale=False, alpha=(c == 4), bitdepth=16,
                          compression=level)
      buf = io.BytesIO()
      writer.write_array(buf, a.reshape(-1))
      return buf.getvalue()

    def pypng_decode(data):
      w, h, rows, info = png.Reader(bytes=data).read_flat()
      return np.asarray(rows, np.uint16).reshape(h, w, info["planes"])

    found[f"pypng {getattr(png, '__version__', '')}"] = (
        pypng_encode, pypng_decode,
        "iCCP/eXIf only as raw chunks (Reader.chunks, write_chunks); no filter choice")
  except ImportError:
    print("pypng not installed: skipped")
  return found


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--size", default="3840x2160", help="WIDTHxHEIGHT (default 4K)")
  parser.add_argument("--repeat", type=int, default=3)
  parser.add_argument("--slow-repeat", type=int, default=1,
                      help="runs for pure-Python pypng (default 1)")
  args = parser.parse_args(argv)
  width, height = (int(v) for v in args.size.lower().split("x"))
  image = photo(height, width)
  print(f"{width}x{height} 16-bit RGB, numpy {np.__version__}, "
        f"load average {'%.2f %.2f %.2f' % os.getloadavg()}")
  print(f"{'codec':34} {'step':12} {'median s':>9} {'min s':>8} {'MB':>7}  exact")
  reference = {}
  for name, (encode, decode, note) in coders().items():
    repeat = args.slow_repeat if name.startswith("pypng") else args.repeat
    for preset in ("fast", "small"):
      med, low, data = timed(lambda: encode(image, preset), repeat)
      reference.setdefault(preset, data)
      print(f"{name:34} {'encode ' + preset:12} {med:9.3f} {low:8.3f} "
            f"{len(data) / 1e6:7.2f}")
    fast_file = reference["fast"]  # every decoder reads the same file (ours, 'fast')
    med, low, array = timed(lambda: decode(fast_file), repeat)
    print(f"{name:34} {'decode':12} {med:9.3f} {low:8.3f} {'':7}  "
          f"{np.array_equal(np.asarray(array).reshape(image.shape), image)}")
    print(f"{'':34} metadata: {note}")


if __name__ == "__main__":
  main()
