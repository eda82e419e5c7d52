"""Writing image files: an array (and the input's metadata) -> file bytes -> the file.

* Bit depth: 16-bit PNG and TIFF stay 16-bit: 16-bit RGB / RGBA / grayscale+alpha
  PNG through :mod:`cudi_jax.io.png16`, 16-bit colour TIFF through ``tifffile``
  (Pillow has no such modes), 16-bit grayscale through Pillow. Formats without 16-bit
  samples (JPEG, WebP, BMP) get 8 bits, rounded (:func:`to_8bit`).
* PNG output: fast by default (zlib level 1; Pillow's adaptive filters for 8 bits, the
  Sub filter for 16 bits): a 4K photo is written about 5x faster than at zlib's default
  level 6, for an 8-bit file about 15 % larger; ``png_compression='small'``
  (``cudi enhance --png-compression small``) gives the smallest files (Pillow's
  ``optimize``; Paeth + level 9 for 16 bits), several times slower.
* Metadata: the ICC profile and EXIF are written where the format has them (16-bit
  colour TIFF, written by tifffile, carries the ICC profile, dpi and compression but
  no EXIF).
* Files are written atomically (:func:`cudi_jax.io.atomic.atomic_write`).
"""
import io
import os

import numpy as np

from cudi_jax.io import png16
from cudi_jax.io import tifflib
from cudi_jax.io.atomic import atomic_write
from cudi_jax.io.errors import ImageIOError, first_line

#: Output formats by file extension.
EXTENSIONS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
              ".webp": "WEBP", ".bmp": "BMP"}
FORMAT_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp"}
#: PNG output presets: name -> (Pillow's save options, :func:`png16.encode` options).
#: 'fast': zlib level 1 (Pillow keeps its adaptive filters; png16 uses Sub, the
#: cheapest filter that helps photos); 'small': the smallest files (several times
#: slower).
PNG_COMPRESSION = {"fast": ({"compress_level": 1}, {"level": 1, "filter_type": 1}),
                   "small": ({"optimize": True}, {"level": 9, "filter_type": 4})}


def format_for(path, fmt=None):
  """Output format name ('PNG', 'JPEG', ...) from an explicit name or the extension."""
  if fmt:
    key = fmt.strip().upper()
    key = {"JPG": "JPEG", "TIF": "TIFF"}.get(key, key)
    if key not in FORMAT_EXTENSIONS:
      raise ImageIOError(f"unsupported output format {fmt!r} (choose from "
                         f"{', '.join(sorted(k.lower() for k in FORMAT_EXTENSIONS))})")
    return key
  ext = os.path.splitext(os.fspath(path))[1].lower()
  if ext not in EXTENSIONS:
    raise ImageIOError(f"unsupported output extension {ext or '(none)'!r}")
  return EXTENSIONS[ext]


def to_8bit(array):
  """The one 16-to-8-bit rule (round to nearest): uint16 x -> round(x * 255 / 65535)
  exactly in integers, floats in [0, 1] -> floor(x * 255 + 0.5); uint8 unchanged."""
  if array.dtype == np.uint8:
    return array
  if array.dtype == np.uint16:
    return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
  return np.floor(np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def encode_image(array, fmt, icc_profile=None, exif=None, quality=None, info=None,
                 png_compression="fast"):
  """Array -> file bytes in ``fmt`` ('PNG', 'JPEG', 'TIFF', 'WEBP', 'BMP').

  png_compression: 'fast' (default) or 'small', see :data:`PNG_COMPRESSION`."""
  from PIL import Image
  if png_compression not in PNG_COMPRESSION:
    raise ImageIOError(f"unknown PNG compression {png_compression!r} (choose "
                       f"{' or '.join(PNG_COMPRESSION)})")
  pil_png, png16_options = PNG_COMPRESSION[png_compression]
  array = np.asarray(array)
  channels = 1 if array.ndim == 2 else array.shape[-1]
  if array.ndim == 3 and channels == 1:
    array = array[..., 0]
  info = info or {}
  if array.dtype == np.uint16 and fmt in ("PNG", "TIFF") and channels > 1:
    if fmt == "PNG":
      return png16.encode(array, icc_profile=icc_profile, exif=exif, **png16_options)
    return _encode_tiff16(array, icc_profile, info)
  if array.dtype == np.float32 and fmt == "TIFF" and channels == 1:
    img = Image.fromarray(array, mode="F")
  elif array.dtype == np.uint16 and fmt in ("PNG", "TIFF"):
    img = Image.fromarray(array)  # 16-bit grayscale ('I;16')
  else:
    array = to_8bit(array)
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
    if fmt == "JPEG" and mode in ("LA", "RGBA"):
      raise ImageIOError("JPEG cannot store an alpha channel (choose --format png, tiff "
                         "or webp)")
    if fmt == "BMP" and mode == "LA":
      raise ImageIOError("BMP cannot store grayscale with alpha (choose --format png)")
    img = Image.fromarray(array, mode=mode)
  kwargs = {}
  if icc_profile and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
    kwargs["icc_profile"] = icc_profile
  if exif and fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
    kwargs["exif"] = exif
  if fmt == "JPEG":
    kwargs["quality"] = int(quality or 95)
    kwargs["subsampling"] = 0 if kwargs["quality"] >= 90 else 2
  elif fmt == "WEBP":
    kwargs["quality"] = int(quality or 95)
  elif fmt == "TIFF" and info.get("compression"):
    kwargs["compression"] = info["compression"]
  elif fmt == "PNG":
    kwargs.update(pil_png)
  if "dpi" in info and fmt in ("PNG", "JPEG", "TIFF", "BMP"):
    kwargs["dpi"] = info["dpi"]
  buf = io.BytesIO()
  try:
    img.save(buf, format=fmt, **kwargs)
  except (OSError, ValueError, KeyError, TypeError) as err:
    if "exif" in kwargs or "icc_profile" in kwargs:  # bad metadata: retry without it
      kwargs.pop("exif", None)
      kwargs.pop("icc_profile", None)
      buf = io.BytesIO()
      try:
        img.save(buf, format=fmt, **kwargs)
      except (OSError, ValueError, KeyError, TypeError) as err2:
        raise ImageIOError(f"cannot encode {fmt}: {first_line(err2)}") from None
    else:
      raise ImageIOError(f"cannot encode {fmt}: {first_line(err)}") from None
  return buf.getvalue()


def _encode_tiff16(array, icc_profile=None, info=None):
  """(H, W, 2..4) uint16 -> TIFF bytes (tifffile): chunky RGB / RGBA / gray+alpha with
  unassociated alpha, the ICC profile (tag 34675), the input's compression (LZW and
  PackBits become Deflate without imagecodecs; horizontal predictor) and dpi. EXIF is
  not written (Pillow writes it for the 8-bit and 16-bit grayscale TIFFs it encodes)."""
  tifffile = tifflib.tifffile_module()
  info = info or {}
  _, w, channels = array.shape
  kwargs = {"photometric": "rgb" if channels >= 3 else "minisblack",
            "planarconfig": "contig", "metadata": None, "software": False,
            "rowsperstrip": max(1, (1 << 18) // (w * channels * 2))}
  if channels in (2, 4):
    kwargs["extrasamples"] = ("unassalpha",)
  if icc_profile:
    kwargs["iccprofile"] = bytes(icc_profile)
  compression, predictor = tifflib.TIFFFILE_COMPRESSION.get(info.get("compression"),
                                                             (None, False))
  if compression is not None:
    code = {"lzw": 5, "zlib": 8, "packbits": 32773}[compression]
    try:
      tifffile.TIFF.COMPRESSORS[code]
    except KeyError:  # needs imagecodecs: Deflate, which every TIFF reader knows
      compression, predictor = "zlib", True
    kwargs["compression"] = compression
    if predictor:
      kwargs["predictor"] = True
  if "dpi" in info:
    try:
      kwargs["resolution"] = tuple(float(v) for v in info["dpi"][:2])
      kwargs["resolutionunit"] = "INCH"
    except (TypeError, ValueError):
      pass
  buf = io.BytesIO()
  try:
    tifffile.imwrite(buf, np.ascontiguousarray(array), **kwargs)
  except Exception as err:  # pylint: disable=broad-except - encoder errors vary
    raise ImageIOError(f"cannot encode TIFF: {first_line(err)}") from None
  return buf.getvalue()


def write_image(path, array, fmt=None, icc_profile=None, exif=None, quality=None, info=None,
                png_compression="fast", overwrite=True):
  """Encodes and writes atomically; the format comes from ``fmt`` or the extension.
  overwrite=False: raise :class:`cudi_jax.io.errors.OutputExistsError` rather than
  replace a file that exists when the output is put in place (see :func:`atomic_write`)."""
  fmt = format_for(path, fmt)
  atomic_write(path, encode_image(array, fmt, icc_profile, exif, quality, info,
                                  png_compression), overwrite=overwrite)
  return fmt
