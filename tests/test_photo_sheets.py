"""The sheets of one photo in cudi report (cudi_jax.eval.photo_sheets)."""
import numpy as np
from PIL import Image

from cudi_jax.eval import common as eval_common
from cudi_jax.eval import photo_sheets
from cudi_jax.runtime import api as runtime
from tests import helpers


def test_setting_captions_show_the_request_and_what_was_fed():
  import pathlib
  from cudi_jax.exposure.presets import DEFAULT_PRESETS as plain
  from cudi_jax.exposure.values import Constant, PixelMap
  img = np.zeros((8, 8, 3), np.float32)
  assert photo_sheets.setting_caption("under", img, Constant(0.55), plain) == "under (E=0.55)"
  assert photo_sheets.setting_caption("under", img, Constant(0.62), plain) == \
      "under (E=0.55, fed 0.62)"
  assert photo_sheets.setting_caption(0.4, img, Constant(0.4), plain) == "E=0.40"
  assert photo_sheets.setting_caption(0.4, img, Constant(0.47), plain) == "E=0.40, fed 0.47"
  assert photo_sheets.setting_caption(pathlib.Path("m.png"), img, PixelMap(np.zeros((8, 8))),
                                 plain) == "E=m.png"


def test_photo_sheets_renders_four_sheets(tmp_path):
  rng = np.random.default_rng(0)
  image = (rng.random((30, 44, 3)) * 0.4).astype(np.float32)
  student = eval_common.student_function(
      runtime.StudentRuntime(helpers.random_student_flat(std=0.05)))
  files, stats = photo_sheets.photo_sheets("x", image, student, None, tmp_path,
                                           sweep=(0.3, 0.7), local="halves", thumb=32)
  assert files == {k: f"x_{k}.png" for k in ("compare", "sweep", "presets", "local")}
  for f in files.values():
    with Image.open(tmp_path / f) as img:
      assert img.format == "PNG"
  assert stats["width"] == 44 and 0 <= stats["sweep_error"] <= 1 and "psnr" not in stats
  # a map image as the local example
  m = tmp_path / "map.png"
  Image.fromarray(np.tile(np.linspace(0, 255, 16, dtype=np.uint8), (8, 1))).save(m)
  emap, regions, label = photo_sheets.local_example(str(m), 30, 44)
  assert emap.shape == (30, 44) and regions is None and label == "map.png"
