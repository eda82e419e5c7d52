"""Contact sheets: labelled image tiles in a grid, drawn with Pillow (NumPy and Pillow
only)."""
import numpy as np

from cudi_jax.eval import common as eval_common


def _font(size=13):
  from PIL import ImageFont
  try:
    return ImageFont.load_default(size=size)
  except TypeError:  # Pillow < 10.1: the fixed bitmap font
    return ImageFont.load_default()


def _text_size(draw, text, font):
  box = draw.textbbox((0, 0), text, font=font)
  return box[2] - box[0], box[3] - box[1]


def to_pil(array, size=None):
  """A float (H, W, 3) image or (H, W) map in [0, 1] -> RGB PIL image (fit into ``size`` px)."""
  from PIL import Image
  a = eval_common.to_uint8(array)
  if a.ndim == 2:
    a = np.repeat(a[..., None], 3, axis=-1)
  img = Image.fromarray(a, "RGB")
  if size and max(img.size) > size:
    img.thumbnail((size, size), Image.LANCZOS)
  return img


def wrap_caption(text, max_width, draw, font):
  """Caption lines (``\\n`` separated) wrapped at spaces to ``max_width`` pixels; a
  word wider than that is broken between characters. Returns a list of lines."""
  def width(t):
    return draw.textlength(t, font=font) if hasattr(draw, "textlength") else \
        _text_size(draw, t, font)[0]

  out = []
  for line in text.split("\n"):
    if width(line) <= max_width:
      out.append(line)
      continue
    current = ""
    for word in line.split(" "):
      candidate = f"{current} {word}" if current else word
      if width(candidate) <= max_width:
        current = candidate
        continue
      if current:
        out.append(current.rstrip())
      current = word
      while current and width(current) > max_width:  # a word wider than the panel
        cut = 1
        while cut < len(current) and width(current[:cut + 1]) <= max_width:
          cut += 1
        out.append(current[:cut])
        current = current[cut:]
    if current.strip() or not out:
      out.append(current.strip())
  return out


def contact_sheet(rows, tile_size=None, pad=6, font_size=13, background=(255, 255, 255)):
  """A grid of labelled tiles: ``rows`` = [[(array or PIL image, caption), ...], ...].

  Captions (``\\n`` for several lines) are written under each tile with
  PIL's default font, wrapped to the width of the tile's column (never into the next
  panel). Returns an RGB PIL image.
  """
  from PIL import Image, ImageDraw
  font = _font(font_size)
  probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
  line_h = _text_size(probe, "Ag|0", font)[1] + 4
  tiles = [[(t if isinstance(t, Image.Image) else to_pil(t, tile_size), cap or "") for t, cap in row]
           for row in rows]
  n_cols = max(len(r) for r in tiles)
  col_w = [max((r[c][0].size[0] for r in tiles if c < len(r)), default=0) for c in range(n_cols)]
  # Captions start 1 px into the column; keep a pixel of margin on the right.
  tiles = [[(t, wrap_caption(cap, max(col_w[c] - 2, 1), probe, font))
            for c, (t, cap) in enumerate(r)] for r in tiles]
  row_h = []
  for r in tiles:
    lines = max(len(cap) for _, cap in r)
    row_h.append(max(t.size[1] for t, _ in r) + lines * line_h + 2)
  width = sum(col_w) + pad * (n_cols + 1)
  height = sum(row_h) + pad * (len(tiles) + 1)
  sheet = Image.new("RGB", (width, height), background)
  draw = ImageDraw.Draw(sheet)
  y = pad
  for r, h in zip(tiles, row_h):
    x = pad
    for c, (tile, cap) in enumerate(r):
      sheet.paste(tile, (x, y))
      ty = y + tile.size[1] + 2
      for line in cap:
        draw.text((x + 1, ty), line, fill=(20, 20, 20), font=font)
        ty += line_h
      x += col_w[c] + pad
    y += h + pad
  return sheet
