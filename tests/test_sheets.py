"""Contact sheets (cudi_jax.eval.sheets)."""
import numpy as np

from cudi_jax.eval import sheets


def test_contact_sheet_layout():
  a = np.zeros((20, 30, 3))
  sheet = sheets.contact_sheet([[(a, "one\ntwo"), (np.ones((20, 30)), "map")], [(a, "x")]], pad=5)
  assert sheet.size[0] == 30 * 2 + 5 * 3
  assert sheet.size[1] > 40 + 5 * 3


def _ink_columns(sheet, y0):
  pixels = np.asarray(sheet.convert("L"))[y0:]
  return np.nonzero((pixels < 200).any(axis=0))[0]


def test_captions_are_wrapped_to_the_panel_width():
  """A caption wider than its panel (the local-exposure caption under a
  portrait thumbnail) is wrapped, never drawn into the next panel."""
  from PIL import Image as PILImage
  narrow = PILImage.new("RGB", (60, 90), (255, 255, 255))
  caption = "student\nellipse 0.7->0.65  outside 0.3->0.31  supercalifragilisticexpialidocious"
  pad = 6
  sheet = sheets.contact_sheet([[(narrow, caption), (narrow, "")]], pad=pad)
  ink = _ink_columns(sheet, pad + 90 + 1)
  assert len(ink) and ink.max() < pad + 60, ink.max()  # inside the first column
  one_line = sheets.contact_sheet([[(narrow, "x")]], pad=pad)
  assert sheet.size[1] > one_line.size[1] + 3 * 10  # more lines, nothing dropped
  assert sheet.size[0] == 2 * 60 + 3 * pad  # the layout itself is unchanged


def test_to_pil_maps_and_thumbnails():
  img = sheets.to_pil(np.linspace(0, 1, 40 * 80).reshape(40, 80), size=20)
  assert img.mode == "RGB" and img.size == (20, 10)
  assert sheets.to_pil(np.ones((4, 6, 3))).getpixel((0, 0)) == (255, 255, 255)
