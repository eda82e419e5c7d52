"""The built-in sample photo and ``cudi enhance --demo`` (NumPy + Pillow only).

The sample is scikit-image's CC0 "coffee" photo, darkened to look under-exposed; see
``cudi_jax/assets/README.md``.
"""
import numpy as np

from cudi_jax import assets

#: (output name, exposure) of the demo's enhanced versions.
DEMO_SETTINGS = (("exposure-0.40", 0.40), ("auto", "auto"), ("exposure-0.70", 0.70),
                 ("adaptive", "adaptive"))


def sample_photo_path():
  return assets.path(assets.DEMO_PHOTO)


def sample_photo():
  """The sample photo as a (400, 600, 3) uint8 array."""
  from PIL import Image
  with Image.open(sample_photo_path()) as img:
    return np.asarray(img.convert("RGB"))


def comparison(images, gap=8):
  """Images of the same height side by side on a white background."""
  h = max(im.shape[0] for im in images)
  w = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
  canvas = np.full((h, w, 3), 255, np.uint8)
  x = 0
  for im in images:
    canvas[:im.shape[0], x:x + im.shape[1]] = im
    x += im.shape[1] + gap
  return canvas
