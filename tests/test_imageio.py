"""Image reading/writing: bit depths, modes, orientation, metadata, the PNG codec,
TIFF through tifffile, PNG compression presets, safety limits and atomic writes."""
import io
import os
import struct

import numpy as np
import pytest
from PIL import Image, ImageOps

from cudi_jax.io import imagefile as iio
from cudi_jax.io import png16

RNG = np.random.default_rng(0)


def srgb_icc():
  from PIL import ImageCms
  return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation=None, make="CuDiTest"):
  exif = Image.Exif()
  if orientation is not None:
    exif[iio.ORIENTATION] = orientation
  exif[0x010F] = make
  return exif.tobytes()


def read_exif(raw):
  exif = Image.Exif()
  exif.load(raw)
  return exif


# --------------------------------------------------------------------------- PNG codec


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


def zlib_level_flag(path):
  """FLEVEL of the first IDAT's zlib header: 0 = fastest (level 0-1) ... 3 = maximum."""
  data = open(path, "rb").read()
  pos = data.index(b"IDAT") + 4
  return data[pos + 1] >> 6


def noisy_photo(shape, dtype):
  y, x = np.mgrid[:shape[0], :shape[1]]
  base = (np.sin(y / 9.0) + np.cos(x / 13.0) + 2) * 0.24 + 0.02
  if len(shape) == 3:
    base = base[..., None] * np.linspace(0.8, 1.0, shape[2])
  top = np.iinfo(dtype).max
  noisy = base * top + RNG.normal(0, 0.01 * top, shape)
  return np.clip(np.rint(noisy), 0, top).astype(dtype)


@pytest.mark.parametrize("shape, dtype", [((96, 128, 3), np.uint8), ((96, 128, 4), np.uint16),
                                          ((96, 128, 3), np.uint16), ((96, 128), np.uint16),
                                          ((96, 128), np.uint8)])
def test_png_compression_presets(tmp_path, shape, dtype):
  a = noisy_photo(shape, dtype)
  sizes = {}
  for preset, flag in (("fast", 0), ("small", 3)):
    path = tmp_path / f"{preset}.png"
    iio.write_image(path, a, png_compression=preset)
    sizes[preset] = path.stat().st_size
    assert zlib_level_flag(path) == flag, preset  # the level reached the file
    pic = iio.read_image(path)
    assert pic.array.dtype == dtype and np.array_equal(pic.array, a)
  assert sizes["small"] <= sizes["fast"]
  iio.write_image(tmp_path / "default.png", a)
  assert (tmp_path / "default.png").read_bytes() == (tmp_path / "fast.png").read_bytes()
  with pytest.raises(iio.ImageIOError, match="unknown PNG compression 'tiny'"):
    iio.write_image(tmp_path / "x.png", a, png_compression="tiny")


# --------------------------------------------------------------------------- TIFF (tifffile)


def _tifffile_bytes(array, **kw):
  import tifffile
  buf = io.BytesIO()
  tifffile.imwrite(buf, array, metadata=None, **kw)
  return buf.getvalue()


TIFF16_VARIANTS = {
    # name: (samples, tifffile options); planar files are written samples-first.
    "planar": (3, dict(photometric="rgb", planarconfig="separate")),
    "planar_deflate": (3, dict(photometric="rgb", planarconfig="separate",
                               compression="zlib", predictor=True)),
    "lzw": (3, dict(photometric="rgb", compression="lzw")),
    "lzw_predictor": (3, dict(photometric="rgb", compression="lzw", predictor=True,
                              rowsperstrip=5)),
    "deflate_predictor": (3, dict(photometric="rgb", compression="zlib", predictor=True)),
    "tiled_big_endian": (3, dict(photometric="rgb", tile=(16, 16), byteorder=">")),
    "bigtiff": (3, dict(photometric="rgb", bigtiff=True)),
    "planar_rgba": (4, dict(photometric="rgb", planarconfig="separate",
                            extrasamples=["unassalpha"])),
    "gray_alpha_lzw": (2, dict(photometric="minisblack", compression="lzw",
                               extrasamples=["unassalpha"])),
}


@pytest.mark.parametrize("name", sorted(TIFF16_VARIANTS))
def test_16bit_tiff_variants_read_exactly(tmp_path, name):
  samples, options = TIFF16_VARIANTS[name]
  if options.get("compression") == "lzw":
    pytest.importorskip("imagecodecs")  # tifffile writes and reads LZW with it
  a = RNG.integers(0, 65536, (37, 23, samples), dtype=np.uint16)
  stored = np.moveaxis(a, -1, 0) if options.get("planarconfig") == "separate" else a
  path = tmp_path / f"{name}.tif"
  path.write_bytes(_tifffile_bytes(stored, **options))
  pic = iio.read_image(path)
  assert pic.format == "TIFF" and pic.mode == {2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}[samples]
  assert pic.array.dtype == np.uint16 and pic.array.flags.c_contiguous
  np.testing.assert_array_equal(pic.array, a)


def test_16bit_tiff_writes_icc_alpha_and_is_readable_elsewhere(tmp_path):
  import tifffile
  icc = srgb_icc()
  for samples in (2, 3, 4):
    a = RNG.integers(0, 65536, (300, 41, samples), dtype=np.uint16)
    path = tmp_path / f"out{samples}.tif"
    iio.write_image(path, a, icc_profile=icc, exif=exif_bytes())
    with tifffile.TiffFile(path) as tif:
      page = tif.pages[0]
      np.testing.assert_array_equal(page.asarray(), a)
      assert bytes(page.tags[34675].value) == icc
      assert page.photometric == (2 if samples >= 3 else 1)
      assert list(page.extrasamples) == ([2] if samples in (2, 4) else [])  # unassociated
    pic = iio.read_image(path)
    assert pic.icc_profile == icc and np.array_equal(pic.array, a)
  with Image.open(tmp_path / "out3.tif") as img:  # a valid TIFF for libtiff too
    assert img.size == (41, 300)


def test_16bit_tiff_keeps_compression_and_dpi(tmp_path):
  import tifffile
  a = RNG.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
  src = tmp_path / "in.tif"
  src.write_bytes(_tifffile_bytes(a, photometric="rgb", compression="zlib", predictor=True,
                                  resolution=(300, 300), resolutionunit="INCH"))
  pic = iio.read_image(src)
  assert pic.info == {"compression": "tiff_adobe_deflate", "dpi": (300.0, 300.0)}
  out = tmp_path / "out.tif"
  iio.write_image(out, pic.array, info=pic.info)
  with tifffile.TiffFile(out) as tif:
    assert tif.pages[0].compression == 8
  assert iio.read_image(out).info == pic.info


def test_16bit_tiff_orientation_and_exif(tmp_path):
  a = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
  path = tmp_path / "o.tif"
  path.write_bytes(_tifffile_bytes(np.moveaxis(a, -1, 0), photometric="rgb",
                                   planarconfig="separate",
                                   extratags=[(274, "H", 1, 6, True),
                                              (271, "s", 0, "CuDiTest", True)]))
  pic = iio.read_image(path)
  np.testing.assert_array_equal(pic.array, iio.apply_orientation(a, 6))
  exif = read_exif(pic.exif)
  assert exif[iio.ORIENTATION] == 1 and exif[0x010F] == "CuDiTest"


def test_16bit_tiff_pixel_limit_before_decoding(tmp_path, monkeypatch):
  import tifffile
  path = tmp_path / "big16.tif"
  path.write_bytes(_tifffile_bytes(np.zeros((100, 100, 3), np.uint16), photometric="rgb",
                                   planarconfig="contig"))

  def no_decoding(*args, **kwargs):
    raise AssertionError("decoded before the pixel limit was checked")

  with monkeypatch.context() as m:
    m.setattr(tifffile.TiffPage, "asarray", no_decoding)
    with pytest.raises(iio.ImageIOError, match="too large.*--max-pixels"):
      iio.read_image(path, max_pixels=9999)
  assert iio.read_image(path, max_pixels=10000).array.shape == (100, 100, 3)


def test_tiff_errors(tmp_path, monkeypatch, capsys):
  import tifffile
  a = RNG.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
  two = tmp_path / "two.tif"
  with tifffile.TiffWriter(two) as tif:
    tif.write(a, photometric="rgb", metadata=None)
    tif.write(a, photometric="rgb", metadata=None)
  with pytest.raises(iio.ImageIOError, match="multi-frame TIFF.*2 frames"):
    iio.read_image(two)
  data = _tifffile_bytes(a, photometric="rgb", compression="zlib")
  cut = tmp_path / "cut.tif"
  cut.write_bytes(data[:len(data) - 40])
  with pytest.raises(iio.ImageIOError, match="truncated or corrupt TIFF data"):
    iio.read_image(cut)
  bad = tmp_path / "bad_ifd.tif"
  bad.write_bytes(data[:4] + struct.pack("<I", 1 << 28) + data[8:])
  with pytest.raises(iio.ImageIOError, match="not an image file"):
    iio.read_image(bad)
  assert capsys.readouterr().err == ""  # tifffile's log stays off the terminal
  # LZW without imagecodecs: a one-line error that names the fix.
  real = tifffile.TIFF.DECOMPRESSORS

  class WithoutLZW:
    def __getitem__(self, key):
      if key == 5:
        raise KeyError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")
      return real[key]

  entry = struct.pack("<HHIH", 259, 3, 1, 8)  # Compression = Deflate ...
  assert data.count(entry) == 1
  lzw = tmp_path / "lzw.tif"
  lzw.write_bytes(data.replace(entry, struct.pack("<HHIH", 259, 3, 1, 5)))  # ... -> LZW
  monkeypatch.setattr(tifffile.TIFF, "DECOMPRESSORS", WithoutLZW())
  with pytest.raises(iio.ImageIOError, match=r"LZW-compressed TIFF needs the imagecodecs "
                                             r"package \(pip install \"cudi-jax\[tiff\]\"\)"):
    iio.read_image(lzw)


# --------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(orientation):
  a = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
  img = Image.fromarray(a)
  img.getexif()[iio.ORIENTATION] = orientation
  buf = io.BytesIO()
  img.save(buf, "PNG", exif=img.getexif().tobytes())
  expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
  assert np.array_equal(iio.apply_orientation(a, orientation), expected)


# --------------------------------------------------------------------------- read/write


def _write_pillow(path, array, mode=None, **kw):
  Image.fromarray(array, mode=mode).save(path, **kw)


def test_round_trips_keep_bit_depth_mode_and_metadata(tmp_path):
  icc = srgb_icc()
  cases = {
      "rgb8.png": RNG.integers(0, 256, (12, 9, 3), dtype=np.uint8),
      "rgba8.png": RNG.integers(0, 256, (12, 9, 4), dtype=np.uint8),
      "l8.png": RNG.integers(0, 256, (12, 9), dtype=np.uint8),
      "la8.png": RNG.integers(0, 256, (12, 9, 2), dtype=np.uint8),
      "l16.png": RNG.integers(0, 65536, (12, 9), dtype=np.uint16),
      "rgb16.png": RNG.integers(0, 65536, (12, 9, 3), dtype=np.uint16),
      "rgba16.png": RNG.integers(0, 65536, (12, 9, 4), dtype=np.uint16),
      "la16.png": RNG.integers(0, 65536, (12, 9, 2), dtype=np.uint16),
      "rgb8.tif": RNG.integers(0, 256, (12, 9, 3), dtype=np.uint8),
      "l16.tif": RNG.integers(0, 65536, (12, 9), dtype=np.uint16),
      "rgb16.tif": RNG.integers(0, 65536, (12, 9, 3), dtype=np.uint16),
      "rgba16.tif": RNG.integers(0, 65536, (12, 9, 4), dtype=np.uint16),
      "f32.tif": RNG.uniform(0, 1, (12, 9)).astype(np.float32),
      "rgb8.webp": None,  # lossy: checked separately
  }
  for name, array in cases.items():
    if array is None:
      continue
    path = tmp_path / name
    exif = exif_bytes() if name.endswith(".png") else None
    iio.write_image(path, array, icc_profile=icc, exif=exif)
    pic = iio.read_image(path)
    assert pic.array.dtype == array.dtype and np.array_equal(pic.array, array), name
    if not name.endswith("f32.tif"):
      assert pic.icc_profile == icc, name
    if exif:
      assert read_exif(pic.exif)[0x010F] == "CuDiTest", name
  assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_jpeg_orientation_applied_and_reset(tmp_path):
  a = RNG.integers(0, 256, (16, 24, 3), dtype=np.uint8)
  src = tmp_path / "o.jpg"
  _write_pillow(src, a, exif=exif_bytes(orientation=6), icc_profile=srgb_icc(), quality=95)
  pic = iio.read_image(src)
  assert pic.array.shape == (24, 16, 3)
  exif = read_exif(pic.exif)
  assert exif[iio.ORIENTATION] == 1 and exif[0x010F] == "CuDiTest"
  out = tmp_path / "out.jpg"
  iio.write_image(out, pic.array, icc_profile=pic.icc_profile, exif=pic.exif)
  with Image.open(out) as img:
    assert img.size == (16, 24) and img.getexif()[iio.ORIENTATION] == 1
    assert img.info.get("icc_profile") == pic.icc_profile


def test_16bit_png_orientation(tmp_path):
  a = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
  path = tmp_path / "o16.png"
  path.write_bytes(png16.encode(a, exif=exif_bytes(orientation=8)))
  pic = iio.read_image(path)
  assert np.array_equal(pic.array, iio.apply_orientation(a, 8))
  assert read_exif(pic.exif)[iio.ORIENTATION] == 1


def test_conversions(tmp_path):
  a = RNG.integers(0, 256, (10, 11, 3), dtype=np.uint8)
  img = Image.fromarray(a)
  img.convert("P").save(tmp_path / "p.png")
  img.convert("P").save(tmp_path / "pt.png", transparency=0)
  img.convert("CMYK").save(tmp_path / "cmyk.jpg")
  img.convert("1").save(tmp_path / "bw.png")
  img.save(tmp_path / "x.gif")
  expect = {"p.png": ("RGB", 3), "pt.png": ("RGBA", 4), "cmyk.jpg": ("RGB", 3),
            "bw.png": ("L", None), "x.gif": ("RGB", 3)}
  for name, (mode, channels) in expect.items():
    pic = iio.read_image(tmp_path / name)
    assert pic.mode == mode and pic.array.dtype == np.uint8
    assert (pic.array.ndim == 2) if channels is None else pic.array.shape[-1] == channels
  assert iio.read_image(tmp_path / "cmyk.jpg").icc_profile is None


@pytest.mark.parametrize("name, data, match", [
    ("empty.png", b"", "empty file"),
    ("text.jpg", b"this is not an image\n", "not an image"),
    ("noise.png", bytes(RNG.integers(0, 256, 300, dtype=np.uint8)), "not an image"),
])
def test_bad_files(tmp_path, name, data, match):
  path = tmp_path / name
  path.write_bytes(data)
  with pytest.raises(iio.ImageIOError, match=match):
    iio.read_image(path)


def test_truncated_files(tmp_path):
  a = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
  for name in ("t.png", "t.jpg"):
    full = tmp_path / ("full_" + name)
    _write_pillow(full, a)
    cut = tmp_path / name
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(iio.ImageIOError, match="truncated|corrupt|cannot read"):
      iio.read_image(cut)
  path = tmp_path / "t16.png"
  data = png16.encode(RNG.integers(0, 65536, (20, 20, 3), dtype=np.uint16))
  path.write_bytes(data[: len(data) // 2])
  with pytest.raises(iio.ImageIOError, match="truncated"):
    iio.read_image(path)


def test_unsupported_mode_and_pixel_limit(tmp_path):
  Image.new("LAB", (4, 4)).save(tmp_path / "lab.tif")
  with pytest.raises(iio.ImageIOError, match="unsupported image mode LAB"):
    iio.read_image(tmp_path / "lab.tif")
  _write_pillow(tmp_path / "big.png", np.zeros((100, 100, 3), np.uint8))
  with pytest.raises(iio.ImageIOError, match="too large.*--max-pixels"):
    iio.read_image(tmp_path / "big.png", max_pixels=9999)
  assert iio.read_image(tmp_path / "big.png", max_pixels=10000).array.shape == (100, 100, 3)
  (tmp_path / "big16.png").write_bytes(png16.encode(np.zeros((100, 100, 3), np.uint16)))
  with pytest.raises(iio.ImageIOError, match="too large"):
    iio.read_image(tmp_path / "big16.png", max_pixels=9999)


def test_pillow_bomb_limit_is_overridable(tmp_path):
  from PIL import Image as PILImage
  _write_pillow(tmp_path / "p.png", np.zeros((40, 40), np.uint8))
  saved = PILImage.MAX_IMAGE_PIXELS
  try:
    PILImage.MAX_IMAGE_PIXELS = 100  # Pillow alone would refuse this image
    assert iio.read_image(tmp_path / "p.png", max_pixels=None).array.shape == (40, 40)
    assert PILImage.MAX_IMAGE_PIXELS == 100
  finally:
    PILImage.MAX_IMAGE_PIXELS = saved


def test_write_errors_and_atomicity(tmp_path, monkeypatch):
  a = np.zeros((4, 4, 4), np.uint8)
  with pytest.raises(iio.ImageIOError, match="alpha"):
    iio.write_image(tmp_path / "x.jpg", a)
  with pytest.raises(iio.ImageIOError, match="unsupported output"):
    iio.write_image(tmp_path / "x.xyz", a)
  blocker = tmp_path / "file"
  blocker.write_text("x")
  with pytest.raises(iio.ImageIOError, match="cannot create folder"):
    iio.write_image(blocker / "sub" / "x.png", a)

  def failing_replace(src, dst):
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(iio.os, "replace", failing_replace)
  with pytest.raises(iio.ImageIOError, match="No space left"):
    iio.write_image(tmp_path / "y.png", a)
  assert sorted(os.listdir(tmp_path)) == ["file"]  # no partial or temporary file


def test_16bit_to_8bit_formats_round(tmp_path):
  a = np.array([[[0, 128, 257], [65535, 32896, 300]]], np.uint16)
  iio.write_image(tmp_path / "x.jpg", a, quality=100)
  iio.write_image(tmp_path / "x.bmp", a)
  assert np.array_equal(iio.read_image(tmp_path / "x.bmp").array,
                        np.array([[[0, 0, 1], [255, 128, 1]]], np.uint8))


def test_rgb_channels_drops_alpha_and_replicates_gray():
  gray = np.arange(6, dtype=np.uint16).reshape(2, 3)
  for array in (gray, gray[..., None], np.stack([gray, gray + 100], -1)):
    out = iio.rgb_channels(array)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint16
    np.testing.assert_array_equal(out, np.repeat(gray[..., None], 3, -1))
  rgba = np.random.default_rng(0).random((2, 3, 4)).astype(np.float32)
  np.testing.assert_array_equal(iio.rgb_channels(rgba), rgba[..., :3])
  np.testing.assert_array_equal(iio.rgb_channels(rgba[..., :3]), rgba[..., :3])


def test_exclusive_write_never_replaces(tmp_path, monkeypatch):
  """Overwrite=False creates the final name exclusively (a hard link of the
  finished temporary; where hard links fail, an O_EXCL claim then a rename)."""
  import errno
  target = tmp_path / "x.png"
  target.write_bytes(b"theirs")
  with pytest.raises(iio.OutputExistsError, match="exists"):
    iio.atomic_write(target, b"ours", overwrite=False)
  assert target.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["x.png"]
  iio.atomic_write(tmp_path / "y.png", b"ours", overwrite=False)
  assert (tmp_path / "y.png").read_bytes() == b"ours"

  def no_links(src, dst, **kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")

  monkeypatch.setattr(iio.os, "link", no_links)
  with pytest.raises(iio.OutputExistsError):
    iio.atomic_write(target, b"ours", overwrite=False)
  assert target.read_bytes() == b"theirs"
  iio.atomic_write(tmp_path / "z.png", b"ours", overwrite=False)
  assert (tmp_path / "z.png").read_bytes() == b"ours"
  assert sorted(os.listdir(tmp_path)) == ["x.png", "y.png", "z.png"]
  iio.atomic_write(target, b"ours")  # overwrite=True (the default) replaces
  assert target.read_bytes() == b"ours"
  mode = os.stat(tmp_path / "z.png").st_mode & 0o777
  assert mode == 0o666 & ~iio._UMASK


def test_temporary_names_are_short_and_recognised(tmp_path, monkeypatch):
  """The temporary is '.cudi-XXXXXXXX.part' whatever the output name
  (so 250-byte names work); stale ones of that pattern are recognised."""
  seen = []
  real_fdopen = os.fdopen

  def spy(fd, *args, **kwargs):
    seen.append(sorted(n for n in os.listdir(tmp_path) if n.endswith(".part")))
    return real_fdopen(fd, *args, **kwargs)

  monkeypatch.setattr(iio.os, "fdopen", spy)
  name = "y" * 246 + ".tif"
  iio.write_image(tmp_path / name, np.zeros((3, 3, 3), np.uint8))
  assert os.listdir(tmp_path) == [name]
  (temp,) = seen[0]
  assert len(temp) == len(".cudi-12345678.part") and iio.is_temporary_name(temp)
  for good in (".cudi-abc_9xyz.part", ".photo.JPG.a1b2c3d4.part"):
    assert iio.is_temporary_name(good), good
  for bad in ("cudi-abc_9xyz.part", ".cudi-abc_9xyz.part2", ".cudi-ABCDEFGH.part",
              ".notes.txt.a1b2c3d4.part", "a.png", ".cudi-abc.part"):
    assert not iio.is_temporary_name(bad), bad
