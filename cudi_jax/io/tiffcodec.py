"""A minimal TIFF codec for 16-bit colour images, which Pillow reads as 8 bits
(silently) and cannot write.

Reads the first image of a baseline TIFF: 8/16-bit unsigned samples, 1 to 4 per pixel,
chunky (interleaved) strips, no compression or Deflate (8 / 32946), horizontal
predictor 1 or 2, either byte order, plus the ICC profile tag. Tiled, planar, LZW,
JPEG-compressed, float or signed files raise :class:`TIFFError` (the ``tifffile``
package reads them; :mod:`cudi_jax.io.imagefile` uses it when it is installed).
Writes uncompressed little-endian chunky strips with the ICC profile (no EXIF).
"""
import struct
import zlib

import numpy as np

_TYPES = {1: ("B", 1), 2: ("c", 1), 3: ("H", 2), 4: ("I", 4), 7: ("B", 1), 16: ("Q", 8)}
MAX_BYTES = 1 << 31


class TIFFError(ValueError):
  """A TIFF this codec cannot read (the message is one line)."""


def _ifd(data):
  if len(data) < 8:
    raise TIFFError("truncated TIFF")
  order = {b"II": "<", b"MM": ">"}.get(data[:2])
  if order is None:
    raise TIFFError("not a TIFF file")
  (magic,) = struct.unpack(order + "H", data[2:4])
  if magic != 42:
    raise TIFFError("BigTIFF or unknown TIFF variant" if magic == 43 else "not a TIFF file")
  (offset,) = struct.unpack(order + "I", data[4:8])
  if offset + 2 > len(data):
    raise TIFFError("truncated TIFF (IFD)")
  (count,) = struct.unpack(order + "H", data[offset:offset + 2])
  tags = {}
  for i in range(count):
    pos = offset + 2 + 12 * i
    if pos + 12 > len(data):
      raise TIFFError("truncated TIFF (IFD entry)")
    tag, typ, n = struct.unpack(order + "HHI", data[pos:pos + 8])
    if typ not in _TYPES:
      continue
    fmt, size = _TYPES[typ]
    nbytes = size * n
    if nbytes <= 4:
      raw = data[pos + 8:pos + 8 + nbytes]
    else:
      (ptr,) = struct.unpack(order + "I", data[pos + 8:pos + 12])
      if ptr + nbytes > len(data):
        raise TIFFError("truncated TIFF (tag data)")
      raw = data[ptr:ptr + nbytes]
    if typ in (2, 7):
      tags[tag] = bytes(raw)
    else:
      tags[tag] = struct.unpack(order + fmt * n, raw)
  return order, tags


def decode(data, max_pixels=None):
  """TIFF bytes -> (array (H, W) or (H, W, C) uint8/uint16, ICC profile or None)."""
  order, tags = _ifd(data)

  def one(tag, default=None):
    value = tags.get(tag)
    if value is None:
      if default is None:
        raise TIFFError(f"TIFF lacks tag {tag}")
      return default
    return value[0]

  width, height = one(256), one(257)
  spp = one(277, 1)
  bits = tags.get(258, (1,))
  compression = one(259, 1)
  if 322 in tags or 324 in tags:
    raise TIFFError("tiled TIFF is not supported without tifffile")
  if one(284, 1) != 1:
    raise TIFFError("planar TIFF is not supported without tifffile")
  if compression not in (1, 8, 32946):
    raise TIFFError(f"TIFF compression {compression} is not supported without tifffile")
  if len(set(bits)) != 1 or bits[0] not in (8, 16) or not 1 <= spp <= 4:
    raise TIFFError(f"TIFF with {bits} bits and {spp} samples is not supported")
  if tags.get(339, (1,))[0] != 1:
    raise TIFFError("only unsigned-integer TIFF samples are supported")
  if width < 1 or height < 1:
    raise TIFFError("TIFF has zero width or height")
  if max_pixels is not None and width * height > max_pixels:
    raise TIFFError(f"image too large ({width} x {height} pixels)")
  depth = bits[0] // 8
  row_bytes = width * spp * depth
  if row_bytes * height > MAX_BYTES:
    raise TIFFError("TIFF too large")
  offsets, counts = tags.get(273), tags.get(279)
  if not offsets or not counts or len(offsets) != len(counts):
    raise TIFFError("TIFF strip tags are missing or inconsistent")
  rows_per_strip = min(one(278, height), height)
  chunks = []
  for off, n in zip(offsets, counts):
    if off + n > len(data):
      raise TIFFError("truncated TIFF (strip data)")
    chunk = data[off:off + n]
    if compression != 1:
      try:
        chunk = zlib.decompressobj().decompress(chunk, rows_per_strip * row_bytes + 1)
      except zlib.error as err:
        raise TIFFError(f"corrupt TIFF strip ({err})") from None
    chunks.append(chunk)
  raw = b"".join(chunks)
  if len(raw) < row_bytes * height:
    raise TIFFError("truncated TIFF (image data)")
  dtype = np.dtype(order + ("u2" if depth == 2 else "u1"))
  array = np.frombuffer(raw[:row_bytes * height], dtype).reshape(height, width, spp)
  array = array.astype(np.uint16 if depth == 2 else np.uint8)
  predictor = one(317, 1)
  if predictor == 2:
    # Horizontal differencing per strip row, modulo 2^bits.
    array = np.cumsum(array, axis=1, dtype=array.dtype)
  elif predictor != 1:
    raise TIFFError(f"TIFF predictor {predictor} is not supported")
  icc = tags.get(34675)
  icc = bytes(icc) if isinstance(icc, bytes) else None
  if spp == 1:
    array = array[..., 0]
  return array, icc


def encode(array, icc_profile=None):
  """(H, W) or (H, W, C) uint8/uint16 array (C in 1..4) -> uncompressed TIFF bytes."""
  array = np.asarray(array)
  if array.ndim == 2:
    array = array[..., None]
  if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
    raise TIFFError(f"cannot write an array of shape {array.shape} as TIFF")
  if array.dtype not in (np.uint8, np.uint16):
    raise TIFFError(f"cannot write dtype {array.dtype} as TIFF")
  h, w, spp = array.shape
  depth = array.dtype.itemsize
  pixels = np.ascontiguousarray(array.astype("<u2" if depth == 2 else "u1")).tobytes()
  row_bytes = w * spp * depth
  rows_per_strip = max(1, min(h, (1 << 16) // max(1, row_bytes)))
  strips = [(r, min(r + rows_per_strip, h)) for r in range(0, h, rows_per_strip)]
  entries = []  # (tag, type, values)
  entries.append((256, 4, [w]))
  entries.append((257, 4, [h]))
  entries.append((258, 3, [8 * depth] * spp))
  entries.append((259, 3, [1]))
  entries.append((262, 3, [2 if spp >= 3 else 1]))
  entries.append((273, 4, [0] * len(strips)))  # patched below
  entries.append((277, 3, [spp]))
  entries.append((278, 4, [rows_per_strip]))
  entries.append((279, 4, [(r1 - r0) * row_bytes for r0, r1 in strips]))
  entries.append((284, 3, [1]))
  if spp in (2, 4):
    entries.append((338, 3, [2]))  # unassociated alpha
  entries.append((339, 3, [1] * spp))
  if icc_profile:
    entries.append((34675, 7, list(icc_profile)))
  entries.sort()
  header = 8
  ifd_size = 2 + 12 * len(entries) + 4
  extra = bytearray()
  extra_base = header + ifd_size
  image_base = None
  # Lay out: header, IFD, out-of-line tag data, pixel data.
  encoded = []
  for tag, typ, values in entries:
    fmt, size = _TYPES[typ]
    encoded.append([tag, typ, values, fmt, size])
  # First pass to size the out-of-line data (strip offsets are fixed-size LONGs).
  for item in encoded:
    tag, typ, values, fmt, size = item
    nbytes = size * len(values)
    if nbytes > 4:
      item.append(extra_base + len(extra))
      extra += b"\0" * nbytes
      if len(extra) % 2:
        extra += b"\0"
    else:
      item.append(None)
  image_base = extra_base + len(extra)
  offsets = [image_base + r0 * row_bytes for r0, _ in strips]
  ifd = bytearray(struct.pack("<H", len(encoded)))
  for tag, typ, values, fmt, size, ptr in encoded:
    if tag == 273:
      values = offsets
    packed = struct.pack("<" + fmt * len(values), *values)
    if ptr is None:
      ifd += struct.pack("<HHI", tag, typ, len(values)) + packed.ljust(4, b"\0")
    else:
      ifd += struct.pack("<HHII", tag, typ, len(values), ptr)
      start = ptr - extra_base
      extra[start:start + len(packed)] = packed
  ifd += struct.pack("<I", 0)
  return b"II" + struct.pack("<HI", 42, header) + bytes(ifd) + bytes(extra) + pixels
