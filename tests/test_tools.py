"""tools/make_train_split.py and tools/make_quality_figures.py."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_make_train_split_leaves_out_every_frame_of_val_scenes(tmp_path):
  photos = tmp_path / "photos"
  photos.mkdir()
  for i in range(1, 13):
    (photos / f"{i}.jpg").write_bytes(b"x")
  (photos / "notes.txt").write_text("not a frame")
  pairs = tmp_path / "pairs.csv"
  pairs.write_text("input,reference,kind,scene,split\n"
                   "2.jpg,3.jpg,under,1-4,train\n"
                   "6.jpg,7.jpg,under,5-8,val\n"
                   "8.jpg,7.jpg,over,5-8,val\n"
                   "10.jpg,11.jpg,under,9-12,train\n")
  out = tmp_path / "train"
  run = subprocess.run([sys.executable, str(REPO / "tools" / "make_train_split.py"), str(photos),
                        str(pairs), str(out)], capture_output=True, text=True, check=True)
  kept = sorted(os.listdir(out), key=lambda n: int(n.split(".")[0]))
  # Frames 5-8 belong to a val scene, even 5, which is in no pair.
  assert kept == ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "9.jpg", "10.jpg", "11.jpg", "12.jpg"]
  assert all(os.path.islink(out / n) and os.path.samefile(out / n, photos / n) for n in kept)
  assert "linked 8 photos" in run.stdout and "left out 4 frames" in run.stdout
  # Running again is harmless.
  subprocess.run([sys.executable, str(REPO / "tools" / "make_train_split.py"), str(photos),
                  str(pairs), str(out)], capture_output=True, text=True, check=True)
  assert len(os.listdir(out)) == 8


def test_make_quality_figures_writes_sheets_and_crops(tmp_path):
  import numpy as np
  from PIL import Image
  photo = tmp_path / "dark.png"
  img = (np.random.default_rng(1).random((40, 60, 3)) * 60).astype(np.uint8)
  Image.fromarray(img).save(photo)
  out = tmp_path / "figs"
  run = subprocess.run([sys.executable, str(REPO / "tools" / "make_quality_figures.py"),
                        str(photo), "-o", str(out), "--crop", "0,0,20,30", "--max-size", "200"],
                       capture_output=True, text=True, check=True)
  sheet = Image.open(out / "dark.jpg")
  assert sheet.size[0] == 4 * 60 and sheet.size[1] == 40   # input, auto, previous, gain
  assert Image.open(out / "dark_crop.png").size == (4 * 30, 20)
  assert "auto  mean" in run.stdout and "gain to 0.5" in run.stdout
