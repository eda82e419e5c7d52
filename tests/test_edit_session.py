"""One photo being edited (cudi_jax/edit/session.py): maps, undo, saving."""
import os

import numpy as np
import pytest
from PIL import Image

from cudi_jax import cli
from cudi_jax.edit import adapter
from cudi_jax.edit import session as session_lib
from cudi_jax.io import decode, encode


@pytest.fixture(scope="module")
def model():
  return adapter.load_model()


def write_photo(folder, name="photo.png", h=60, w=90, dtype=np.uint8, seed=0):
  """A dark photo with texture (a ramp plus noise) saved in ``folder``; its path."""
  rng = np.random.default_rng(seed)
  ramp = np.linspace(0.05, 0.4, w, dtype=np.float32)[None, :, None]
  x = np.clip(ramp + rng.uniform(0, 0.1, (h, w, 3)), 0, 1)
  path = os.path.join(folder, name)
  if dtype == np.uint16:
    encode.write_image(path, (x * 65535).astype(np.uint16))
  else:
    Image.fromarray((x * 255).astype(np.uint8)).save(path)
  return path


def new_session(model, folder, photo, **kwargs):
  output, map_path = session_lib.default_outputs(photo)
  return session_lib.EditSession(model, photo, output, map_path, **kwargs)


def stroke(session, points, mode="brighten", strength=0.6, radius=8.0, stroke_id=1):
  session.paint(stroke_id, points, radius, strength, 0.5, mode, True)


def test_defaults_and_preview_size(tmp_path, model):
  photo = write_photo(str(tmp_path), "a.png", h=300, w=500)
  assert session_lib.default_outputs(photo) == (str(tmp_path / "a_edited.png"),
                                                str(tmp_path / "a_edited_map.png"))
  assert session_lib.default_outputs(str(tmp_path / "b.ppm"))[0].endswith("b_edited.png")
  s = new_session(model, str(tmp_path), photo, preview_size=100)
  assert s.shape == (60, 100) and s.small.shape == (60, 100, 3)
  assert s.setting == "auto" and s.info()["width"] == 500
  assert Image.open(__import__("io").BytesIO(s.preview_jpeg())).size == (100, 60)


def test_paint_brightens_locally_and_undoes(tmp_path, model):
  s = new_session(model, str(tmp_path), write_photo(str(tmp_path)))
  before_map = s.requested_map().copy()
  before = adapter.enhance(model, s.small, before_map).astype(int)
  stroke(s, [(20, 30), (30, 30)])
  after_map = s.requested_map()
  assert after_map[30, 25] > before_map[30, 25] + 0.2
  assert np.array_equal(after_map[:, 60:], before_map[:, 60:])
  after = adapter.enhance(model, s.small, after_map).astype(int)
  assert after[28:33, 22:28].mean() > before[28:33, 22:28].mean() + 5
  assert s.state()["can_undo"] and s.state()["painted"]
  stroke(s, [(25, 30)], mode="darken", strength=1.0, stroke_id=2)
  assert s.requested_map()[30, 25] < after_map[30, 25]
  assert s.undo() and s.undo() and not s.undo()
  assert np.array_equal(s.requested_map(), before_map)
  assert s.redo() and np.array_equal(s.requested_map(), after_map)
  stroke(s, [(25, 30)], mode="erase", strength=1.0, stroke_id=3)
  assert not s.state()["can_redo"]
  assert np.allclose(s.requested_map()[30, 25], before_map[30, 25])


def test_setting_change_keeps_painting(tmp_path, model):
  s = new_session(model, str(tmp_path), write_photo(str(tmp_path)))
  stroke(s, [(20, 30)])
  s.set_setting(0.3)
  m = s.requested_map()
  assert np.isclose(m[0, 80], 0.3) and m[30, 20] > 0.5
  s.clear()
  assert np.allclose(s.requested_map(), 0.3)
  s.undo()
  assert np.array_equal(s.requested_map(), m)
  s.undo()
  assert s.setting == "auto"
  # an unfinished stroke shows in the map and is committed by the next action
  s.paint(7, [(60, 10)], 6.0, 1.0, 0.5, "brighten", False)
  assert s.requested_map()[10, 60] > s.base()[10, 60]
  s.set_setting("adaptive")
  s.undo()
  assert s.setting == "auto" and s.requested_map()[10, 60] > s.base()[10, 60]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_save_equals_cudi_enhance_with_the_saved_map(tmp_path, model, dtype):
  photo = write_photo(str(tmp_path), "p.png" if dtype == np.uint8 else "p16.png", dtype=dtype)
  s = new_session(model, str(tmp_path), photo, preview_size=40)
  stroke(s, [(5, 5), (20, 12)], strength=0.8)
  result = s.save()
  assert result["output"] == os.path.basename(s.output_path)
  saved = decode.read_image(s.map_path).array
  assert saved.dtype == np.uint16 and saved.shape == (60, 90)
  assert cli.main(["enhance", photo, "-o", str(tmp_path / "ref" / "r.png"), "--exposure-map",
                   s.map_path, "--no-progress", "--quiet"]) == 0
  ours = decode.read_image(s.output_path)
  ref = decode.read_image(tmp_path / "ref" / "r.png")
  assert ours.array.dtype == np.dtype(dtype)
  assert np.array_equal(ours.array, ref.array)
  # the painted corner is brighter than the rest of the map
  assert saved[8, 15] > saved[50, 15] + 10000
  # no silent overwrite
  with pytest.raises(session_lib.SaveExistsError) as info:
    s.save()
  assert set(info.value.paths) == {os.path.basename(s.output_path), os.path.basename(s.map_path)}
  assert s.save(overwrite=True)["output"]


def test_reopen_with_the_saved_map(tmp_path, model):
  photo = write_photo(str(tmp_path))
  s = new_session(model, str(tmp_path), photo)
  stroke(s, [(40, 20)])
  s.save()
  saved = decode.read_image(s.map_path).array
  again = session_lib.EditSession(model, photo, str(tmp_path / "b.png"),
                                  str(tmp_path / "b_map.png"),
                                  exposure_map=adapter.read_map(s.map_path))
  assert again.setting == "file" and again.info()["has_file_map"]
  assert np.array_equal(again.full_map(), saved)
  assert np.abs(again.requested_map() - s.requested_map()).max() < 1e-3
