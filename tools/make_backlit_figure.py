"""Draws the model card's backlit picture (docs/images/backlit.jpg) from licence-free photos.

The scene is synthetic, built from scikit-image's sample photos so that it may be
redistributed (the dataset photos under ../shared/data never enter the repository):
the room is ``coffee`` (CC0) under-exposed hard (``0.08 * x ** 2.2``), and a window
in it shows daylight: ``camera`` (the photographer on a field, public domain),
brightened to ``0.45 + 0.55 * x`` and tinted slightly blue. That is the backlit
case: a dark subject beside a bright window, dynamic range r = p95 / p50 of the luma
far above 16.

Panels: the input, one global gain to mean luminance 0.5 (lifts the room, burns the
window), ``auto``'s steady rule alone (what ``auto`` was before the balanced rule:
the window keeps its detail, the room stays dark), and ``auto`` (the room lifted, the
window kept). Shipped weights; ``--output`` to write elsewhere.

    python tools/make_backlit_figure.py
"""
import argparse
import pathlib
import sys

import numpy as np
from PIL import Image, ImageDraw

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cudi_jax.eval import common  # noqa: E402
from cudi_jax.eval import paired  # noqa: E402
from cudi_jax.exposure import calibration  # noqa: E402
from cudi_jax.runtime import api as runtime  # noqa: E402
from cudi_jax import weights  # noqa: E402


def backlit_scene():
  """(H, W, 3) uint8: the dark room with a bright window."""
  import skimage.data
  room = skimage.data.coffee().astype(np.float64) / 255.0       # 400 x 600
  scene = 0.08 * room ** 2.2
  top, bottom, left, right = 30, 250, 390, 580                  # the window
  outside = Image.fromarray(skimage.data.camera()).resize((right - left, bottom - top),
                                                          Image.BICUBIC)
  daylight = 0.45 + 0.55 * np.asarray(outside, np.float64)[..., None] / 255.0
  scene[top:bottom, left:right] = daylight * np.array([0.93, 0.97, 1.0])
  frame = 0.02
  scene[top:bottom, (left + right) // 2 - 3:(left + right) // 2 + 3] = frame   # mullion
  scene[(top + bottom) // 2 - 3:(top + bottom) // 2 + 3, left:right] = frame   # transom
  return np.clip(np.round(scene * 255.0), 0, 255).astype(np.uint8)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--student", default=str(ROOT / "cudi_jax" / "assets" / "student.npz"))
  parser.add_argument("--output", default=str(ROOT / "docs" / "images" / "backlit.jpg"))
  args = parser.parse_args(argv)
  export = weights.load_export(args.student, kind="student")
  model = runtime.StudentRuntime(export.params, export.metadata)
  steady_only = dict(export.metadata)
  steady_only[calibration.METADATA_KEY] = dict(steady_only[calibration.METADATA_KEY],
                                               cells=None)
  before = runtime.StudentRuntime(export.params, steady_only)
  scene = backlit_scene()
  panels = [("input", scene),
            ("global gain", common.to_uint8(common.global_gain(scene.astype(np.float32) / 255))),
            ("auto, steady rule only", before.enhance(scene, "auto")),
            ("auto", model.enhance(scene, "auto"))]
  gap, label = 8, 26
  h, w = scene.shape[:2]
  sheet = Image.new("RGB", (len(panels) * w + (len(panels) - 1) * gap, h + label), "white")
  draw = ImageDraw.Draw(sheet)
  for i, (name, rgb) in enumerate(panels):
    x = i * (w + gap)
    sheet.paste(Image.fromarray(np.asarray(rgb)), (x, label))
    draw.text((x + 4, 6), f"{name} (mean {np.asarray(rgb).mean() / 255:.2f})", fill="black")
  width = 1400
  sheet = sheet.resize((width, round(sheet.height * width / sheet.width)), Image.LANCZOS)
  sheet.save(args.output, quality=85, optimize=True)
  print(f"{args.output}: scene r = {paired.dynamic_range(scene.astype(np.float32) / 255):.0f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
