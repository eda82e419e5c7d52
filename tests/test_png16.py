"""The 16-bit PNG codec (:mod:`cudi_jax.io.png16`): every filter type, interlacing,
iCCP and eXIf, files from an independent encoder, corruption and decompression bombs."""
import io

import numpy as np
import pytest
from PIL import Image

from cudi_jax.io import png16

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("shape, dtype", [((13, 17, 3), np.uint16), ((5, 4, 4), np.uint16),
                                          ((9, 11, 2), np.uint16), ((7, 3), np.uint16),
                                          ((10, 12, 3), np.uint8), ((1, 1, 3), np.uint16),
                                          ((3, 1, 4), np.uint16), ((1, 9, 2), np.uint8)])
def test_png_codec_round_trip_all_filters(shape, dtype):
  top = np.iinfo(dtype).max
  a = RNG.integers(0, top + 1, shape, dtype=np.int64).astype(dtype)
  per_row = list(RNG.integers(0, 5, shape[0]))
  for filters in (0, 1, 2, 3, 4, per_row):
    for interlace in (False, True):
      data = png16.encode(a, icc_profile=b"icc!", exif=b"MM\0*x", filter_type=filters,
                             interlace=interlace)
      b, info, icc, exif = png16.decode(data)
      assert b.dtype == dtype and np.array_equal(a, b), (filters, interlace)
      assert icc == b"icc!" and exif == b"MM\0*x"
      assert info.interlace == int(interlace)


@pytest.mark.parametrize("mode, shape", [("RGB", (40, 50, 3)), ("RGBA", (33, 20, 4)),
                                         ("L", (30, 31)), ("LA", (20, 21, 2))])
def test_png_codec_decodes_pillow_files(mode, shape):
  """Pillow (zlib, adaptive per-row filters incl. Paeth/Average) as an independent encoder."""
  y, x = np.mgrid[:shape[0], :shape[1]]
  base = ((np.sin(y / 5.0) + np.cos(x / 7.0) + 2) * 55).astype(np.int64)
  a = (base if len(shape) == 2 else base[..., None]) + RNG.integers(0, 30, shape)
  a = a.astype(np.uint8)
  for interlace in (0, 1):
    buf = io.BytesIO()
    Image.fromarray(a, mode=mode).save(buf, "PNG", optimize=bool(interlace))
    assert np.array_equal(png16.decode(buf.getvalue())[0], a)
  g16 = RNG.integers(0, 65536, shape[:2], dtype=np.uint16)
  buf = io.BytesIO()
  Image.fromarray(g16).save(buf, "PNG")
  assert np.array_equal(png16.decode(buf.getvalue())[0], g16)


def test_png_codec_paeth_on_a_larger_image():
  a = RNG.integers(0, 65536, (67, 250, 3), dtype=np.uint16)
  for f in (3, 4):
    assert np.array_equal(png16.decode(png16.encode(a, filter_type=f))[0], a)


def test_png_codec_rejects_corruption():
  data = png16.encode(RNG.integers(0, 65536, (8, 8, 3), dtype=np.uint16))
  flipped = bytearray(data)
  flipped[60] ^= 0xFF
  with pytest.raises(png16.PNGError, match="CRC|corrupt"):
    png16.decode(bytes(flipped))
  with pytest.raises(png16.PNGError, match="truncated"):
    png16.decode(data[:len(data) - 20])
  with pytest.raises(png16.PNGError):
    png16.decode(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)


def test_png_codec_bounds_decompression():
  """An IDAT that inflates far beyond the declared size is cut, not expanded."""
  import struct
  import zlib
  header = struct.pack(">IIBBBBB", 4, 4, 16, 2, 0, 0, 0)
  bomb = zlib.compress(b"\0" * (50 << 20))
  data = (png16.SIGNATURE + png16._chunk(b"IHDR", header)
          + png16._chunk(b"IDAT", bomb) + png16._chunk(b"IEND", b""))
  array = png16.decode(data)[0]
  assert array.shape == (4, 4, 3)
