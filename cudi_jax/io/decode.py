"""Reading image files into a :class:`Picture`, keeping fidelity.

* Bit depth: 8- and 16-bit PNG and TIFF stay 8/16-bit. Pillow reads 8-bit files and
  16-bit grayscale; 16-bit RGB / RGBA / grayscale+alpha PNG go through
  :mod:`cudi_jax.io.png16`, and 16-bit colour TIFF plus planar TIFF through
  ``tifffile``. Why tifffile: Pillow has no 16-bit RGB(A) mode (it silently reads such
  TIFFs as 8 bits) and cannot open planar (``PlanarConfiguration=2``) files, while
  tifffile (pure Python, needs only NumPy) reads every baseline layout: strips or
  tiles, chunky or planar, either byte order, BigTIFF; uncompressed, Deflate, PackBits
  or LZMA by itself, LZW and JPEG with the optional ``imagecodecs`` package
  (``pip install "cudi-jax[tiff]"``; the error says so when it is missing).
* Layout: grayscale stays grayscale, alpha is kept untouched; palette images become
  RGB(A), CMYK and YCbCr become RGB (the CMYK ICC profile is then dropped), 1-bit
  becomes 8-bit grayscale, 32-bit float grayscale TIFF in [0, 1] is kept as float.
* Orientation: the EXIF orientation is applied to the pixels and reset to 1 (normal)
  in the EXIF kept; the ICC profile and EXIF are kept for the output.
* Safety: images above ``max_pixels`` are refused before decoding (decompression
  bombs); truncated, corrupt or empty files raise :class:`ImageIOError` with a
  one-line reason.
"""
import io
import warnings

import numpy as np

from cudi_jax.io import png16
from cudi_jax.io import tifflib
from cudi_jax.io.errors import ImageIOError, ImageTooLargeError, first_line

#: Default pixel limit (decompression-bomb guard): 200 megapixels.
DEFAULT_MAX_PIXELS = 200_000_000
ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
#: IFD0 tags carried from TIFF files (the others describe the TIFF's own layout).
_TIFF_EXIF_KEEP = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)
#: TIFF and BigTIFF signatures, both byte orders.
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")


class Picture:
  """A decoded image: ``array`` (H, W) or (H, W, C) uint8/uint16 (float32 for 'F'),
  the source ``format`` and ``mode`` (after conversion), ``icc_profile`` and ``exif``
  (bytes or None; the EXIF orientation already applied and reset), and ``note`` on any
  conversion made while reading (e.g. 'CMYK -> RGB')."""

  def __init__(self, array, format, mode, icc_profile=None, exif=None, note="", info=None):
    self.array = array
    self.format = format
    self.mode = mode
    self.icc_profile = icc_profile
    self.exif = exif
    self.note = note
    self.info = info or {}

  @property
  def bit_depth(self):
    return {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}.get(self.array.dtype, 32)

  def __repr__(self):
    return (f"Picture({self.format} {self.mode} {self.array.shape} {self.array.dtype}, "
            f"icc={len(self.icc_profile) if self.icc_profile else 0}B, "
            f"exif={len(self.exif) if self.exif else 0}B)")


# --------------------------------------------------------------------------- orientation


def apply_orientation(array, orientation):
  """Applies an EXIF orientation (1..8) to an (H, W[, C]) array."""
  if orientation == 2:
    return array[:, ::-1]
  if orientation == 3:
    return array[::-1, ::-1]
  if orientation == 4:
    return array[::-1]
  if orientation == 5:
    return np.swapaxes(array, 0, 1)
  if orientation == 6:
    return np.swapaxes(array, 0, 1)[:, ::-1]
  if orientation == 7:
    return np.swapaxes(array, 0, 1)[::-1, ::-1]
  if orientation == 8:
    return np.swapaxes(array, 0, 1)[::-1]
  return array


def _exif_from_bytes(raw):
  from PIL import Image
  exif = Image.Exif()
  if raw:
    data = bytes(raw)
    if data.startswith(b"Exif\0\0"):
      data = data[6:]
    exif.load(data)
  return exif


def _normalise_exif(exif, from_tiff=False):
  """(orientation, EXIF bytes with the orientation reset to 1, or None)."""
  from PIL import Image
  try:
    orientation = int(exif.get(ORIENTATION, 1) or 1)
  except (TypeError, ValueError):
    orientation = 1
  if orientation not in range(1, 9):
    orientation = 1
  if from_tiff:
    # A TIFF's IFD0 is the image's own directory: carry only descriptive tags and the
    # EXIF / GPS sub-directories.
    clean = Image.Exif()
    for tag in _TIFF_EXIF_KEEP:
      if tag in exif:
        clean[tag] = exif[tag]
    for ifd in (EXIF_IFD, GPS_IFD):
      try:
        sub = exif.get_ifd(ifd)
      except Exception:  # pylint: disable=broad-except
        sub = None
      if sub:
        clean[ifd] = dict(sub)
    exif = clean
    if orientation != 1:
      exif[ORIENTATION] = 1
  elif ORIENTATION in exif:
    exif[ORIENTATION] = 1
  if len(exif) == 0:
    return orientation, None
  try:
    return orientation, exif.tobytes()
  except Exception:  # pylint: disable=broad-except - unwritable EXIF: drop it
    return orientation, None


# --------------------------------------------------------------------------- reading


def _read_bytes(path):
  try:
    with open(path, "rb") as f:
      data = f.read()
  except IsADirectoryError:
    raise ImageIOError("is a folder, not an image file") from None
  except OSError as err:
    raise ImageIOError(f"cannot read: {err.strerror or err}") from None
  if not data:
    raise ImageIOError("empty file")
  return data


def _too_large(width, height, max_pixels):
  if max_pixels is not None and width * height > max_pixels:
    raise ImageTooLargeError(width, height, max_pixels)


def read_image(path, max_pixels=DEFAULT_MAX_PIXELS):
  """Reads an image file into a :class:`Picture`; raises :class:`ImageIOError`."""
  data = _read_bytes(path)
  if data.startswith(png16.SIGNATURE):
    try:
      header = png16.read_header(data)
    except png16.PNGError as err:
      raise ImageIOError(str(err)) from None
    _too_large(header.width, header.height, max_pixels)
    if header.bit_depth == 16 and header.color_type in (2, 4, 6):
      return _read_png16(data, max_pixels)
  if data[:4] in _TIFF_MAGIC:
    picture = _read_tifffile(data, max_pixels)
    if picture is not None:
      return picture
  return _read_pillow(data, max_pixels)


def _read_png16(data, max_pixels):
  try:
    array, _, icc, exif_raw = png16.decode(data, max_pixels)
  except png16.PNGError as err:
    raise ImageIOError(str(err)) from None
  except MemoryError:
    raise ImageIOError("out of memory while decoding") from None
  try:
    orientation, exif = _normalise_exif(_exif_from_bytes(exif_raw))
  except Exception:  # pylint: disable=broad-except - unreadable EXIF: ignore it
    orientation, exif = 1, None
  array = np.ascontiguousarray(apply_orientation(array, orientation))
  mode = {2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}[array.shape[-1]]
  return Picture(array, "PNG", mode, icc, exif)


class _PixelLimit:
  """Temporarily sets Pillow's decompression-bomb limit to ours."""

  def __init__(self, max_pixels):
    self.max_pixels = max_pixels

  def __enter__(self):
    from PIL import Image
    self.saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = self.max_pixels
    return self

  def __exit__(self, *exc):
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = self.saved
    return False


def _read_pillow(data, max_pixels):
  from PIL import Image, ImageFile, UnidentifiedImageError
  ImageFile.LOAD_TRUNCATED_IMAGES = False
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Pillow's size warnings: our own pixel check decides
    with _PixelLimit(None if max_pixels is None else max(int(max_pixels), 1)):
      try:
        img = Image.open(io.BytesIO(data))
      except UnidentifiedImageError:
        picture = None
        if data[:4] in _TIFF_MAGIC:  # a TIFF layout Pillow does not know
          picture = _read_tifffile(data, max_pixels, any_layout=True)
        if picture is not None:
          return picture
        raise ImageIOError("not an image file (or an unsupported format)") from None
      except Image.DecompressionBombError:
        raise ImageIOError("image too large (raise the limit with --max-pixels)") from None
      except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise ImageIOError(f"cannot read image: {first_line(err)}") from None
      _too_large(img.size[0], img.size[1], max_pixels)
      frames = getattr(img, "n_frames", 1)
      if frames > 1 and img.format not in ("MPO",):
        raise ImageIOError(f"multi-frame {img.format} images are not supported "
                           f"({frames} frames)")
      fmt = img.format or "unknown"
      try:
        img.load()
      except MemoryError:
        raise ImageIOError("out of memory while decoding") from None
      except Exception as err:  # pylint: disable=broad-except - decoder errors vary
        raise ImageIOError(f"truncated or corrupt image data: {first_line(err)}") from None
  icc = img.info.get("icc_profile") or None
  try:
    exif = img.getexif()
  except Exception:  # pylint: disable=broad-except - broken EXIF: ignore it
    exif = Image.Exif()
  try:
    orientation, exif_bytes = _normalise_exif(exif, from_tiff=(fmt == "TIFF"))
  except Exception:  # pylint: disable=broad-except
    orientation, exif_bytes = 1, None
  array, mode, note, keep_icc = _to_array(img)
  array = np.ascontiguousarray(apply_orientation(array, orientation))
  info = {}
  if "dpi" in img.info:
    info["dpi"] = img.info["dpi"]
  if fmt == "TIFF" and img.info.get("compression") in ("tiff_lzw", "tiff_adobe_deflate",
                                                       "tiff_deflate", "packbits"):
    info["compression"] = img.info["compression"]
  return Picture(array, fmt, mode, icc if keep_icc else None, exif_bytes, note, info)


def _read_tifffile(data, max_pixels, any_layout=False):
  """A TIFF that Pillow cannot read at full fidelity, read with tifffile: 16-bit with 2 to
  4 samples (Pillow reduces them to 8 bits), chunky or planar, any compression tifffile
  decodes; with ``any_layout``, any grayscale or RGB(A) file (Pillow could not identify
  it). None: the file is left to Pillow. The pixel limit is checked on the first page's
  header, before anything is decoded."""
  tifffile = tifflib.tifffile_module()
  try:
    tif = tifffile.TiffFile(io.BytesIO(data))
  except Exception:  # pylint: disable=broad-except - Pillow reports on such files
    return None
  with tif:
    try:
      page = tif.pages[0]
      frames = len(tif.pages)
      width, height = int(page.imagewidth), int(page.imagelength)
      samples, photometric = int(page.samplesperpixel), int(page.photometric)
      dtype = np.dtype(page.dtype) if page.dtype is not None else None
    except Exception:  # pylint: disable=broad-except
      return None
    _too_large(width, height, max_pixels)
    if photometric not in (1, 2):  # min-is-black gray, RGB; CMYK, Lab... go to Pillow
      return None
    if not (any_layout or (dtype == np.uint16 and samples >= 2)):
      return None
    if frames > 1:
      raise ImageIOError(f"multi-frame TIFF images are not supported ({frames} frames)")
    compression = int(page.compression)
    try:
      tifffile.TIFF.DECOMPRESSORS[compression]
    except KeyError:
      name = getattr(page.compression, "name", str(compression))
      raise ImageIOError(f"{name}-compressed TIFF needs the imagecodecs package "
                         f"(pip install \"cudi-jax[tiff]\")") from None
    try:
      array = page.asarray()
    except MemoryError:
      raise ImageIOError("out of memory while decoding") from None
    except Exception as err:  # pylint: disable=broad-except - decoder errors vary
      raise ImageIOError(f"truncated or corrupt TIFF data: {first_line(err)}") from None
    if page.axes == "SYX":  # planar
      array = np.moveaxis(array, 0, -1)
    elif page.axes not in ("YX", "YXS"):
      raise ImageIOError(f"unsupported TIFF layout {page.axes} {array.shape}")
    tag = page.tags.get(34675)
    icc = bytes(tag.value) if tag is not None and tag.value else None
    tag = page.tags.get(274)
    tag_orientation = int(tag.value) if tag is not None else 1
    info = _tiff_info(page, compression)
  array = array.astype(array.dtype.newbyteorder("="), copy=False)
  if array.ndim == 3 and array.shape[-1] == 1:
    array = array[..., 0]
  channels = 1 if array.ndim == 2 else array.shape[-1]
  mode = {("u1", 1): "L", ("u1", 2): "LA", ("u1", 3): "RGB", ("u1", 4): "RGBA",
          ("u2", 1): "I;16", ("u2", 2): "LA;16", ("u2", 3): "RGB;16", ("u2", 4): "RGBA;16",
          ("f4", 1): "F"}.get((array.dtype.str[1:], channels))
  if mode is None:
    raise ImageIOError(f"unsupported TIFF layout {array.shape} {array.dtype}")
  if mode == "F" and array.size and not (np.all(np.isfinite(array)) and array.min() >= 0.0
                                         and array.max() <= 1.0):
    raise ImageIOError("unsupported image: 32-bit float values outside [0, 1]")
  try:
    # Pillow reads the TIFF's own IFD0 as EXIF (as Image.getexif() does for TIFF).
    orientation, exif = _normalise_exif(_exif_from_bytes(data), from_tiff=True)
  except Exception:  # pylint: disable=broad-except - e.g. BigTIFF: the tag alone
    orientation, exif = (tag_orientation if tag_orientation in range(1, 9) else 1), None
  array = np.ascontiguousarray(apply_orientation(array, orientation))
  return Picture(array, "TIFF", mode, icc, exif, info=info)


def _tiff_info(page, compression):
  """``Picture.info`` of a TIFF page read by tifffile: 'dpi' and 'compression' as Pillow
  names them (so that the output keeps them)."""
  info = {}
  if compression in tifflib.COMPRESSION_NAMES:
    info["compression"] = tifflib.COMPRESSION_NAMES[compression]
  try:
    x, y, unit = (page.tags.get(tag) for tag in (282, 283, 296))
    scale = {2: 1.0, 3: 2.54}.get(int(unit.value) if unit is not None else 2)
    if x is not None and y is not None and scale:
      dpi = tuple(v[0] / v[1] * scale if isinstance(v, tuple) else float(v) * scale
                  for v in (x.value, y.value))
      if all(np.isfinite(dpi)) and min(dpi) > 0:
        info["dpi"] = dpi
  except Exception:  # pylint: disable=broad-except - odd resolution tags: no dpi
    pass
  return info


def rgb_channels(array):
  """(H, W) or (H, W, C) -> (H, W, 3) in the same dtype: the alpha channel (last of 2
  or 4) dropped, grayscale replicated."""
  array = np.asarray(array)
  if array.ndim == 2:
    array = array[..., None]
  if array.shape[-1] in (2, 4):
    array = array[..., :-1]
  if array.shape[-1] == 1:
    array = np.repeat(array, 3, axis=-1)
  return array


def _to_array(img):
  """PIL image -> (array, mode, conversion note, keep the ICC profile?)."""
  mode = img.mode
  if mode in ("L", "LA", "RGB", "RGBA"):
    return np.asarray(img), mode, "", True
  if mode == "1":
    return np.asarray(img.convert("L")), "L", "1-bit -> 8-bit grayscale", True
  if mode in ("P", "PA"):
    has_alpha = mode == "PA" or "transparency" in img.info or (
        img.palette is not None and img.palette.mode == "RGBA")
    target = "RGBA" if has_alpha else "RGB"
    return np.asarray(img.convert(target)), target, f"palette -> {target}", True
  if mode in ("RGBX", "YCbCr", "HSV"):
    return np.asarray(img.convert("RGB")), "RGB", f"{mode} -> RGB", mode == "RGBX"
  if mode == "CMYK":
    return np.asarray(img.convert("RGB")), "RGB", "CMYK -> RGB", False
  if mode in ("RGBa", "La"):
    target = mode[:-1] + "A"
    return np.asarray(img.convert(target)), target, f"{mode} -> {target}", True
  if mode.startswith("I;16"):
    array = np.asarray(img)
    return array.astype(np.uint16), "I;16", "", True
  if mode == "I":
    array = np.asarray(img)
    if array.size and (array.min() < 0 or array.max() > 65535):
      raise ImageIOError("unsupported image mode I (32-bit integers outside 0..65535)")
    return array.astype(np.uint16), "I;16", "32-bit integer -> 16-bit", True
  if mode == "F":
    array = np.asarray(img, np.float32)
    if array.size and not (np.all(np.isfinite(array)) and array.min() >= 0.0
                           and array.max() <= 1.0):
      raise ImageIOError("unsupported image: 32-bit float values outside [0, 1]")
    return array, "F", "", True
  raise ImageIOError(f"unsupported image mode {mode}")


