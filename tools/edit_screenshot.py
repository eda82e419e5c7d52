"""The README's picture of ``cudi edit``: the editor on the package's sample photo
(scikit-image's CC0 "coffee", darkened), after a few brush strokes, in headless
Chromium.

    python tools/edit_screenshot.py [-o docs/images/editor.jpg] [--chromium /usr/bin/chromium]

Needs the [edit] extra, the ``playwright`` package and a Chromium binary (Debian's
``chromium``; Playwright's own browsers are not needed).
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cudi_jax import demo  # noqa: E402
from cudi_jax.edit import adapter  # noqa: E402
from cudi_jax.edit import server  # noqa: E402
from cudi_jax.edit import session as session_lib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Strokes in preview pixels of the 600x400 photo: (mode, strength, radius, points).
STROKES = [
    ("darken", 0.35, 80, [(450, 30), (540, 70), (580, 170)]),
    ("brighten", 0.4, 60, [(140, 330), (230, 370), (330, 380)]),
]


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("-o", "--output", default=os.path.join(ROOT, "docs", "images", "editor.jpg"))
  p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
  args = p.parse_args(argv)
  from playwright.sync_api import sync_playwright
  model = adapter.load_model()
  with tempfile.TemporaryDirectory() as folder:
    photo = os.path.join(folder, "coffee.jpg")
    shutil.copyfile(demo.sample_photo_path(), photo)
    session = session_lib.EditSession(model, photo, os.path.join(folder, "coffee_edited.jpg"),
                                      os.path.join(folder, "coffee_edited_map.png"))
    with server.BackgroundServer(server.create_app(session)) as url, sync_playwright() as pw:
      browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
      page = browser.new_page(viewport={"width": 1280, "height": 760})
      page.goto(url)
      page.wait_for_function("document.body.dataset.busy === '0'")
      box = page.locator("#canvas").bounding_box()

      def to_page(x, y):
        sx, sy = page.evaluate(f"cudiEdit.toScreen({x}, {y})")
        return box["x"] + sx, box["y"] + sy

      for mode, strength, radius, points in STROKES:
        page.click(f"#modes button[data-mode={mode}]")
        page.evaluate("document.getElementById('hardness').value = 10; "
                      "document.getElementById('hardness').dispatchEvent(new Event('input'))")
        page.evaluate(f"document.getElementById('strength').value = {int(strength * 100)}; "
                      f"document.getElementById('strength').dispatchEvent(new Event('input'))")
        page.mouse.move(*to_page(*points[0]))
        # the brush size: [ and ] until the radius is about right
        for _ in range(40):
          size = float(page.locator("#size-out").text_content().split()[0]) / 2
          if abs(size - radius) < radius * 0.12:
            break
          page.keyboard.press("]" if size < radius else "[")
        page.mouse.down()
        for x, y in points[1:]:
          page.mouse.move(*to_page(x, y), steps=10)
        page.mouse.up()
        page.wait_for_function("document.body.dataset.busy === '0'")
      # the divider left of the painting, the brush resting on the photo
      page.evaluate("cudiEdit.setSplit(0.3)")
      page.click("#modes button[data-mode=brighten]")
      page.mouse.move(*to_page(300, 200))
      page.wait_for_function("document.body.dataset.busy === '0'")
      page.screenshot(path=args.output)
      browser.close()
  print(args.output)


if __name__ == "__main__":
  main()
