"""The editor's page (cudi_jax/edit/static) in a real headless Chromium, driven by
Playwright: load, paint a stroke, check the preview, save.

Needs the ``playwright`` package and a Chromium binary (Debian's ``chromium``; or
CUDI_CHROMIUM=/path). Skipped when either is missing, unless CUDI_REQUIRE_BROWSER=1
(set by .ci/run), which turns the skip into a failure.
"""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from cudi_jax import cli  # noqa: E402
from cudi_jax.edit import adapter  # noqa: E402
from cudi_jax.edit import server  # noqa: E402
from cudi_jax.edit import session as session_lib  # noqa: E402
from cudi_jax.io import decode  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path():
  path = os.environ.get("CUDI_CHROMIUM") or next(
      (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
      None)
  if path is None or not os.path.exists(path):
    message = "no Chromium binary (install Debian's chromium or set CUDI_CHROMIUM)"
    if os.environ.get("CUDI_REQUIRE_BROWSER") == "1":
      pytest.fail(message)
    pytest.skip(message)
  return path


def import_playwright():
  try:
    from playwright.sync_api import sync_playwright
  except ImportError:
    if os.environ.get("CUDI_REQUIRE_BROWSER") == "1":
      pytest.fail("playwright is not installed")
    pytest.skip("playwright is not installed")
  return sync_playwright


def write_photo(folder, h=200, w=300):
  rng = np.random.default_rng(7)
  yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
  base = 0.08 + 0.12 * (xx / w) + 0.05 * np.sin(yy / 9.0)
  x = np.clip(base[..., None] * np.array([1.0, 0.9, 0.8]) + rng.uniform(0, 0.04, (h, w, 3)),
              0, 1)
  path = os.path.join(folder, "photo.png")
  Image.fromarray((x * 255).astype(np.uint8)).save(path)
  return path


def canvas_brightness(page, box, points, r=4):
  """Mean RGB of the canvas around image points (CSS px -> device px)."""
  values = []
  for x, y in points:
    sx, sy = page.evaluate(f"cudiEdit.toScreen({x}, {y})")
    values.append(page.evaluate(
        f"""(() => {{
          const c = document.getElementById('canvas');
          const d = window.devicePixelRatio || 1;
          const px = c.getContext('2d').getImageData(
              Math.round({sx} * d) - {r}, Math.round({sy} * d) - {r}, {2 * r + 1}, {2 * r + 1}).data;
          let s = 0;
          for (let i = 0; i < px.length; i += 4) s += px[i] + px[i + 1] + px[i + 2];
          return s / (px.length / 4 * 3);
        }})()"""))
  return np.array(values)


def wait_idle(page):
  page.wait_for_function("document.body.dataset.busy === '0'", timeout=30000)


def test_paint_and_save_in_chromium(tmp_path):
  sync_playwright = import_playwright()
  chromium = chromium_path()
  photo = write_photo(str(tmp_path))
  model = adapter.load_model()
  session = session_lib.EditSession(model, photo, str(tmp_path / "out.png"),
                                    str(tmp_path / "out_map.png"))
  errors = []
  with server.BackgroundServer(server.create_app(session)) as url, sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    try:
      page = browser.new_page(viewport={"width": 1100, "height": 700})
      page.on("pageerror", lambda err: errors.append(str(err)))
      page.goto(url)
      wait_idle(page)
      assert page.evaluate("document.body.dataset.version") == "0"
      page.click("#views button[data-view=after]")
      painted_points = [(90, 100), (120, 100), (150, 100)]
      far_points = [(250, 30), (260, 170)]
      before = canvas_brightness(page, None, painted_points + far_points)
      box = page.locator("#canvas").bounding_box()
      screen = [page.evaluate(f"cudiEdit.toScreen({x}, {y})") for x, y in painted_points]
      page.mouse.move(box["x"] + screen[0][0], box["y"] + screen[0][1])
      page.mouse.down()
      for sx, sy in screen[1:]:
        page.mouse.move(box["x"] + sx, box["y"] + sy, steps=6)
      page.mouse.up()
      page.mouse.move(5, 5)  # off the canvas: no brush outline over the samples
      page.wait_for_function("Number(document.body.dataset.version) >= 1", timeout=30000)
      wait_idle(page)
      after = canvas_brightness(page, None, painted_points + far_points)
      assert np.all(after[:3] > before[:3] + 15), (before, after)
      assert np.all(np.abs(after[3:] - before[3:]) <= 1.5), (before, after)
      assert not session.state()["can_redo"] and session.state()["can_undo"]
      # Ctrl+Z undoes the stroke, Ctrl+Shift+Z redoes it
      page.keyboard.press("Control+z")
      wait_idle(page)
      assert np.all(np.abs(canvas_brightness(page, None, painted_points) - before[:3]) <= 1.5)
      page.keyboard.press("Control+Shift+z")
      wait_idle(page)
      page.click("#save")
      page.wait_for_function("document.body.dataset.saved === 'out.png'", timeout=60000)
      assert "Saved out.png" in page.locator("#status").text_content()
    finally:
      browser.close()
  assert not errors
  assert cli.main(["enhance", photo, "-o", str(tmp_path / "ref.png"), "--exposure-map",
                   str(tmp_path / "out_map.png"), "--no-progress", "--quiet"]) == 0
  saved = decode.read_image(tmp_path / "out.png").array
  assert np.array_equal(saved, decode.read_image(tmp_path / "ref.png").array)
  emap = decode.read_image(tmp_path / "out_map.png").array
  auto = adapter.setting_map(model, decode.read_image(photo).array, "auto") * 65535
  assert emap.dtype == np.uint16 and emap[100, 120] > auto[100, 120] + 5000
  assert abs(int(emap[30, 250]) - auto[30, 250]) < 2
