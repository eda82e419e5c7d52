"""Regenerates the model card's pictures (docs/images/) from licence-free photos.

The pictures show the shipped weights on photos that may be redistributed:
scikit-image's sample photos ``coffee`` and ``chelsea`` (CC0 by their
photographers), ``astronaut`` (NASA, public domain) and ``rocket`` (SpaceX,
public domain). The dataset photos under ../shared/data are never copied into the
repository, not even as thumbnails, because of their non-commercial licences.

The photos are degraded first so that there is something to correct:
``coffee`` is the shipped demo photo (``cudi_jax/assets/coffee_dark.jpg``, see
tools/make_demo_photo.py), ``astronaut`` and ``chelsea`` are darkened the same
way, and ``rocket`` is over-exposed (``out = 1 - 0.6 * (1 - x) ** 1.8``).
Then ``cudi report`` runs on them with the shipped student and teacher and the
training workdirs' metrics, and the sheets are copied to docs/images as
quality-85 JPEGs at most 1,400 px wide (the loss curves as PNG).

    python tools/make_readme_figures.py --teacher-workdir runs/shipped_cpu/teacher_stage3 \\
        --student-workdir runs/shipped_cpu/student   # needs the [train,dev] extras

(the workdirs of configs/recipes/shipped_cpu/, whose training curves are plotted).

A workdir left out keeps its curves picture as it is (each run's curves are
replaced only when its workdir is given).
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

from make_demo_photo import darken  # noqa: E402

#: Sheets wider than this are downscaled (the model card's pictures stay small).
MAX_WIDTH = 1400


def overexpose(rgb):
  """Washes out an sRGB-ish uint8 photo: highlights pushed towards white."""
  x = rgb.astype(np.float64) / 255.0
  y = 1.0 - 0.6 * (1.0 - x) ** 1.8
  return np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)


def sample_photos(folder):
  import skimage.data
  photos = {
      "coffee": np.asarray(Image.open(ROOT / "cudi_jax" / "assets" / "coffee_dark.jpg").convert("RGB")),
      "astronaut": darken(skimage.data.astronaut()),
      "chelsea": darken(skimage.data.chelsea()),
      "rocket": overexpose(skimage.data.rocket()),
  }
  paths = []
  for name, rgb in photos.items():
    path = pathlib.Path(folder) / f"{name}.png"
    Image.fromarray(rgb).save(path)
    paths.append(path)
  return paths


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--teacher", default=str(ROOT / "cudi_jax" / "assets" / "teacher.npz"))
  parser.add_argument("--student", default=str(ROOT / "cudi_jax" / "assets" / "student.npz"))
  parser.add_argument("--teacher-workdir", help="the shipped teacher's last training run")
  parser.add_argument("--student-workdir", help="the shipped student's last training run")
  parser.add_argument("--output", default=str(ROOT / "docs" / "images"))
  parser.add_argument("--keep", metavar="DIR", help="also keep the whole report here")
  args = parser.parse_args(argv)

  out = pathlib.Path(args.output)
  with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    photos = sample_photos(tmp)
    report = pathlib.Path(args.keep) if args.keep else tmp / "report"
    cmd = [sys.executable, "-m", "cudi_jax.cli", "report", *map(str, photos), "-o", str(report),
           "--teacher", args.teacher, "--student", args.student,
           "--max-size", "512", "--title", "CuDi on scikit-image sample photos", "-q"]
    for flag, workdir in (("--teacher-workdir", args.teacher_workdir),
                          ("--student-workdir", args.student_workdir)):
      if workdir:
        cmd += [flag, workdir]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True, cwd=ROOT)
    out.mkdir(parents=True, exist_ok=True)
    wanted = {"coffee_compare", "astronaut_compare", "coffee_sweep", "rocket_presets",
              "astronaut_presets", "chelsea_local"}
    # Only this script's own pictures are replaced; others in docs/images (such as the
    # GPU trial's sheet) are left alone.
    for old in out.glob("*"):
      if old.stem in wanted:
        old.unlink()
    for sheet in sorted((report / "images").glob("*.png")):
      if sheet.stem in wanted:
        dst = out / f"{sheet.stem}.jpg"
        img = Image.open(sheet).convert("RGB")
        if img.width > MAX_WIDTH:
          img = img.resize((MAX_WIDTH, round(img.height * MAX_WIDTH / img.width)), Image.LANCZOS)
        img.save(dst, quality=85, optimize=True)
        print(dst, os.path.getsize(dst), "bytes")
    for curves in sorted((report / "plots").glob("*.png")):
      dst = out / curves.name
      shutil.copyfile(curves, dst)
      print(dst, os.path.getsize(dst), "bytes")


if __name__ == "__main__":
  main()
