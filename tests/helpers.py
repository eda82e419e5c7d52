"""Plain helper functions shared by test modules (import them: ``from helpers import ...``)."""


# --------------------------------------------------------------------------- image files


def srgb_icc():
  """An sRGB ICC profile (bytes)."""
  from PIL import ImageCms
  return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation=None, make="CuDiTest"):
  """EXIF bytes with the camera make and, if given, an orientation."""
  from PIL import Image
  from cudi_jax.io import decode
  exif = Image.Exif()
  if orientation is not None:
    exif[decode.ORIENTATION] = orientation
  exif[0x010F] = make
  return exif.tobytes()


def read_exif(raw):
  """EXIF bytes -> a Pillow ``Image.Exif``."""
  from PIL import Image
  exif = Image.Exif()
  exif.load(raw)
  return exif


def tifffile_bytes(array, **kw):
  """An array written as TIFF by tifffile (``kw``: tifffile's options), as bytes."""
  import io
  import tifffile
  buf = io.BytesIO()
  tifffile.imwrite(buf, array, metadata=None, **kw)
  return buf.getvalue()


def write_pillow(path, array, mode=None, **kw):
  """An array written by Pillow (``kw``: Pillow's save options)."""
  from PIL import Image
  Image.fromarray(array, mode=mode).save(path, **kw)
