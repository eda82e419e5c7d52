"""The editor's HTTP API (cudi_jax/edit/server.py) through Starlette's test client."""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from cudi_jax import cli  # noqa: E402
from cudi_jax.edit import adapter  # noqa: E402
from cudi_jax.edit import server  # noqa: E402
from cudi_jax.edit import session as session_lib  # noqa: E402



@pytest.fixture(scope="module")
def model():
  return adapter.load_model()


def make_client(model, folder, h=64, w=96):
  rng = np.random.default_rng(3)
  ramp = np.linspace(0.05, 0.35, w, dtype=np.float32)[None, :, None]
  photo = os.path.join(folder, "photo.jpg")
  x = np.clip(ramp + rng.uniform(0, 0.08, (h, w, 3)), 0, 1)
  Image.fromarray((x * 255).astype(np.uint8)).save(photo, quality=95)
  s = session_lib.EditSession(model, photo, os.path.join(folder, "out.jpg"),
                              os.path.join(folder, "out_map.png"))
  return TestClient(server.create_app(s), base_url="http://127.0.0.1:8123"), s


def pixels(response):
  assert response.status_code == 200, response.text
  assert response.headers["content-type"] == "image/jpeg"
  return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"), np.float32)


def state(response):
  return json.loads(response.headers["x-cudi-state"])


STROKE = {"stroke": 1, "points": [[10, 30], [25, 30]], "radius": 6, "strength": 0.8,
          "hardness": 0.5, "mode": "brighten", "done": True}


def test_page_and_images(tmp_path, model):
  client, s = make_client(model, str(tmp_path))
  page = client.get("/")
  assert page.status_code == 200 and "editor.js" in page.text
  for asset, kind in (("/static/editor.js", "javascript"), ("/static/editor.css", "css")):
    r = client.get(asset)
    assert r.status_code == 200 and kind in r.headers["content-type"] and len(r.text) > 1000
  info = client.get("/api/info").json()
  assert info["name"] == "photo.jpg" and info["preview_width"] == 96
  assert info["output"] == "out.jpg" and "/" not in info["output"]
  assert pixels(client.get("/api/original.jpg")).shape == (64, 96, 3)
  m = client.get("/api/map.png")
  assert m.headers["content-type"] == "image/png"
  assert np.asarray(Image.open(io.BytesIO(m.content))).shape == (64, 96)


def test_stroke_undo_redo_setting(tmp_path, model):
  client, s = make_client(model, str(tmp_path))
  first = pixels(client.get("/api/preview.jpg"))
  r = client.post("/api/stroke", json=STROKE)
  painted = pixels(r)
  assert state(r)["version"] == 1 and state(r)["can_undo"]
  assert painted[27:34, 12:24].mean() > first[27:34, 12:24].mean() + 8
  assert np.abs(painted[:, 70:] - first[:, 70:]).max() <= 2  # far from the stroke
  # a stroke sent in parts is one undo step
  part = dict(STROKE, stroke=2, points=[[60, 10]], done=False)
  assert not state(client.post("/api/stroke", json=part))["can_redo"]
  client.post("/api/stroke", json=dict(part, points=[[70, 12]], done=True))
  r = client.post("/api/undo", json={})
  assert np.abs(pixels(r) - painted).max() <= 2
  r = client.post("/api/undo", content=b"",  # an empty body is an empty object
                  headers={"content-type": "application/json"})
  assert np.abs(pixels(r) - first).max() <= 2 and not state(r)["can_undo"]
  r = client.post("/api/redo", json={})
  assert np.abs(pixels(r) - painted).max() <= 2
  r = client.post("/api/setting", json={"setting": 0.8})
  assert state(r)["setting"] == 0.8 and pixels(r)[:, 70:].mean() > painted[:, 70:].mean()
  r = client.post("/api/setting", json={"setting": "adaptive"})
  assert state(r)["setting"] == "adaptive"
  r = client.post("/api/clear", json={})
  assert not state(r)["painted"]


def test_save_and_no_silent_overwrite(tmp_path, model):
  client, s = make_client(model, str(tmp_path))
  client.post("/api/stroke", json=STROKE)
  r = client.post("/api/save", json={})
  assert r.status_code == 200 and r.json()["map_output"] == "out_map.png"
  assert cli.main(["enhance", s.photo_path, "-o", str(tmp_path / "ref.jpg"), "--exposure-map",
                   str(tmp_path / "out_map.png"), "--no-progress", "--quiet"]) == 0
  assert (tmp_path / "out.jpg").read_bytes() == (tmp_path / "ref.jpg").read_bytes()
  r = client.post("/api/save", json={})
  assert r.status_code == 409 and "already exist" in r.json()["error"]
  assert r.json()["exists"] == ["out.jpg", "out_map.png"]
  client.post("/api/setting", json={"setting": 0.2})
  r = client.post("/api/save", json={"overwrite": True})
  assert r.status_code == 200
  assert (tmp_path / "out.jpg").read_bytes() != (tmp_path / "ref.jpg").read_bytes()
  assert sorted(os.listdir(tmp_path)) == ["out.jpg", "out_map.png", "photo.jpg", "ref.jpg"]


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (json.dumps(dict(STROKE, mode="smudge")).encode(), 400, "'mode'"),
    (json.dumps(dict(STROKE, radius=-1)).encode(), 400, "'radius'"),
    (json.dumps(dict(STROKE, radius="big")).encode(), 400, "'radius'"),
    (json.dumps(dict(STROKE, points=[[1, float("nan")]])).encode(), 400, "point"),
    (json.dumps(dict(STROKE, points=[[1, 2, 3]])).encode(), 400, "point"),
    (json.dumps(dict(STROKE, points=[[1e9, 2]])).encode(), 400, "point"),
    (json.dumps(dict(STROKE, points=[[1, 2]] * 5000)).encode(), 400, "at most"),
    (json.dumps(dict(STROKE, stroke="a")).encode(), 400, "'stroke'"),
    (json.dumps(dict(STROKE, done="yes")).encode(), 400, "'done'"),
    (b"{}", 400, "'stroke'"),
    (b" " * (server.MAX_BODY + 1), 413, "too large"),
])
def test_malformed_strokes_get_clear_errors(tmp_path, model, body, status, words):
  client, s = make_client(model, str(tmp_path))
  r = client.post("/api/stroke", content=body, headers={"content-type": "application/json"})
  assert r.status_code == status and words in r.json()["error"]
  assert s.version == 0
  assert client.get("/api/preview.jpg").status_code == 200  # still serving


def test_other_errors(tmp_path, model):
  client, s = make_client(model, str(tmp_path))
  r = client.post("/api/setting", json={"setting": 1.5})
  assert r.status_code == 400 and "[0, 1]" in r.json()["error"]
  assert client.post("/api/setting", json={"setting": "file"}).status_code == 400
  assert client.post("/api/setting", json={}).status_code == 400
  assert client.post("/api/save", json={"overwrite": "yes"}).status_code == 400
  r = client.post("/api/undo", content=b"x=1",
                  headers={"content-type": "application/x-www-form-urlencoded"})
  assert r.status_code == 415
  r = client.post("/api/clear", json={}, headers={"origin": "http://evil.example"})
  assert r.status_code == 403 and "cross-origin" in r.json()["error"]
  assert client.post("/api/clear", json={},
                     headers={"origin": "http://127.0.0.1:8123"}).status_code == 200
  assert client.get("/api/nothing").status_code == 404
  assert client.get("/api/stroke").status_code == 405
  assert client.get("/static/../session.py").status_code == 404
  assert client.get("/static/__init__.py").status_code == 404
  assert client.get("/static/%2e%2e%2fsession.py").status_code == 404
  assert client.get("/", headers={"host": "rebound.example"}).status_code == 400
  assert client.get("/api/info").status_code == 200


def test_internal_errors_do_not_stop_the_server(tmp_path, model):
  _, s = make_client(model, str(tmp_path))

  def broken():
    raise RuntimeError("boom")

  s.clear = broken
  client = TestClient(server.create_app(s), base_url="http://127.0.0.1",
                      raise_server_exceptions=False)
  r = client.post("/api/clear", json={})
  assert r.status_code == 500 and "boom" in r.json()["error"]
  assert client.get("/api/preview.jpg").status_code == 200
  os.makedirs(tmp_path / "out.jpg")  # saving into a folder's name fails with a message
  r = client.post("/api/save", json={"overwrite": True})
  assert r.status_code == 500 and "saving failed" in r.json()["error"]
