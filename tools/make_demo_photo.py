"""Regenerates cudi_jax/assets/coffee_dark.jpg, the demo's under-exposed sample photo.

Source: scikit-image's ``skimage.data.coffee()`` (400 x 600), "No copyright
restrictions. CC0 by the photographer (Rachel Michetti)", courtesy of Pikolo Espresso
Bar. It is darkened to look under-exposed, ``out = 255 * 0.55 * (x / 255) ** 2.2``
(a gamma of 2.2 crushes the shadows, the factor 0.55 removes light; see ``darken``),
and saved as a quality-90 JPEG (about 48 KB; mean level 30 / 255).

    python tools/make_demo_photo.py        # needs scikit-image (the [dev] extra)
"""
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "cudi_jax", "assets", "coffee_dark.jpg")


def darken(rgb):
  """Under-exposes an sRGB-ish uint8 photo: a steeper gamma and less light."""
  x = rgb.astype(np.float64) / 255.0
  y = 0.55 * x ** 2.2
  return np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)


def main():
  import skimage.data
  rgb = skimage.data.coffee()
  Image.fromarray(darken(rgb)).save(OUT, quality=90, optimize=True)
  print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
  main()
