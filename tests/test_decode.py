"""Reading image files (:mod:`cudi_jax.io.decode`): TIFF through tifffile, EXIF
orientation, conversions, bad and truncated files, pixel limits."""
import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageOps

from cudi_jax.io import decode, encode, png16
from cudi_jax.io.errors import ImageIOError
from helpers import exif_bytes, read_exif, srgb_icc, tifffile_bytes, write_pillow

RNG = np.random.default_rng(0)


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
  path.write_bytes(tifffile_bytes(stored, **options))
  pic = decode.read_image(path)
  assert pic.format == "TIFF" and pic.mode == {2: "LA;16", 3: "RGB;16", 4: "RGBA;16"}[samples]
  assert pic.array.dtype == np.uint16 and pic.array.flags.c_contiguous
  np.testing.assert_array_equal(pic.array, a)


def test_16bit_tiff_orientation_and_exif(tmp_path):
  a = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
  path = tmp_path / "o.tif"
  path.write_bytes(tifffile_bytes(np.moveaxis(a, -1, 0), photometric="rgb",
                                   planarconfig="separate",
                                   extratags=[(274, "H", 1, 6, True),
                                              (271, "s", 0, "CuDiTest", True)]))
  pic = decode.read_image(path)
  np.testing.assert_array_equal(pic.array, decode.apply_orientation(a, 6))
  exif = read_exif(pic.exif)
  assert exif[decode.ORIENTATION] == 1 and exif[0x010F] == "CuDiTest"


def test_16bit_tiff_pixel_limit_before_decoding(tmp_path, monkeypatch):
  import tifffile
  path = tmp_path / "big16.tif"
  path.write_bytes(tifffile_bytes(np.zeros((100, 100, 3), np.uint16), photometric="rgb",
                                   planarconfig="contig"))

  def no_decoding(*args, **kwargs):
    raise AssertionError("decoded before the pixel limit was checked")

  with monkeypatch.context() as m:
    m.setattr(tifffile.TiffPage, "asarray", no_decoding)
    with pytest.raises(ImageIOError, match="too large.*--max-pixels"):
      decode.read_image(path, max_pixels=9999)
  assert decode.read_image(path, max_pixels=10000).array.shape == (100, 100, 3)


def test_tiff_errors(tmp_path, monkeypatch, capsys):
  import tifffile
  a = RNG.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
  two = tmp_path / "two.tif"
  with tifffile.TiffWriter(two) as tif:
    tif.write(a, photometric="rgb", metadata=None)
    tif.write(a, photometric="rgb", metadata=None)
  with pytest.raises(ImageIOError, match="multi-frame TIFF.*2 frames"):
    decode.read_image(two)
  data = tifffile_bytes(a, photometric="rgb", compression="zlib")
  cut = tmp_path / "cut.tif"
  cut.write_bytes(data[:len(data) - 40])
  with pytest.raises(ImageIOError, match="truncated or corrupt TIFF data"):
    decode.read_image(cut)
  bad = tmp_path / "bad_ifd.tif"
  bad.write_bytes(data[:4] + struct.pack("<I", 1 << 28) + data[8:])
  with pytest.raises(ImageIOError, match="not an image file"):
    decode.read_image(bad)
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
  with pytest.raises(ImageIOError, match=r"LZW-compressed TIFF needs the imagecodecs "
                                             r"package \(pip install \"cudi-jax\[tiff\]\"\)"):
    decode.read_image(lzw)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(orientation):
  a = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
  img = Image.fromarray(a)
  img.getexif()[decode.ORIENTATION] = orientation
  buf = io.BytesIO()
  img.save(buf, "PNG", exif=img.getexif().tobytes())
  expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
  assert np.array_equal(decode.apply_orientation(a, orientation), expected)


def test_jpeg_orientation_applied_and_reset(tmp_path):
  a = RNG.integers(0, 256, (16, 24, 3), dtype=np.uint8)
  src = tmp_path / "o.jpg"
  write_pillow(src, a, exif=exif_bytes(orientation=6), icc_profile=srgb_icc(), quality=95)
  pic = decode.read_image(src)
  assert pic.array.shape == (24, 16, 3)
  exif = read_exif(pic.exif)
  assert exif[decode.ORIENTATION] == 1 and exif[0x010F] == "CuDiTest"
  out = tmp_path / "out.jpg"
  encode.write_image(out, pic.array, icc_profile=pic.icc_profile, exif=pic.exif)
  with Image.open(out) as img:
    assert img.size == (16, 24) and img.getexif()[decode.ORIENTATION] == 1
    assert img.info.get("icc_profile") == pic.icc_profile


def test_16bit_png_orientation(tmp_path):
  a = RNG.integers(0, 65536, (5, 8, 3), dtype=np.uint16)
  path = tmp_path / "o16.png"
  path.write_bytes(png16.encode(a, exif=exif_bytes(orientation=8)))
  pic = decode.read_image(path)
  assert np.array_equal(pic.array, decode.apply_orientation(a, 8))
  assert read_exif(pic.exif)[decode.ORIENTATION] == 1


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
    pic = decode.read_image(tmp_path / name)
    assert pic.mode == mode and pic.array.dtype == np.uint8
    assert (pic.array.ndim == 2) if channels is None else pic.array.shape[-1] == channels
  assert decode.read_image(tmp_path / "cmyk.jpg").icc_profile is None


@pytest.mark.parametrize("name, data, match", [
    ("empty.png", b"", "empty file"),
    ("text.jpg", b"this is not an image\n", "not an image"),
    ("noise.png", bytes(RNG.integers(0, 256, 300, dtype=np.uint8)), "not an image"),
])
def test_bad_files(tmp_path, name, data, match):
  path = tmp_path / name
  path.write_bytes(data)
  with pytest.raises(ImageIOError, match=match):
    decode.read_image(path)


def test_truncated_files(tmp_path):
  a = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
  for name in ("t.png", "t.jpg"):
    full = tmp_path / ("full_" + name)
    write_pillow(full, a)
    cut = tmp_path / name
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ImageIOError, match="truncated|corrupt|cannot read"):
      decode.read_image(cut)
  path = tmp_path / "t16.png"
  data = png16.encode(RNG.integers(0, 65536, (20, 20, 3), dtype=np.uint16))
  path.write_bytes(data[: len(data) // 2])
  with pytest.raises(ImageIOError, match="truncated"):
    decode.read_image(path)


def test_unsupported_mode_and_pixel_limit(tmp_path):
  Image.new("LAB", (4, 4)).save(tmp_path / "lab.tif")
  with pytest.raises(ImageIOError, match="unsupported image mode LAB"):
    decode.read_image(tmp_path / "lab.tif")
  write_pillow(tmp_path / "big.png", np.zeros((100, 100, 3), np.uint8))
  with pytest.raises(ImageIOError, match="too large.*--max-pixels"):
    decode.read_image(tmp_path / "big.png", max_pixels=9999)
  assert decode.read_image(tmp_path / "big.png", max_pixels=10000).array.shape == (100, 100, 3)
  (tmp_path / "big16.png").write_bytes(png16.encode(np.zeros((100, 100, 3), np.uint16)))
  with pytest.raises(ImageIOError, match="too large"):
    decode.read_image(tmp_path / "big16.png", max_pixels=9999)


def test_pillow_bomb_limit_is_overridable(tmp_path):
  from PIL import Image as PILImage
  write_pillow(tmp_path / "p.png", np.zeros((40, 40), np.uint8))
  saved = PILImage.MAX_IMAGE_PIXELS
  try:
    PILImage.MAX_IMAGE_PIXELS = 100  # Pillow alone would refuse this image
    assert decode.read_image(tmp_path / "p.png", max_pixels=None).array.shape == (40, 40)
    assert PILImage.MAX_IMAGE_PIXELS == 100
  finally:
    PILImage.MAX_IMAGE_PIXELS = saved


def test_rgb_channels_drops_alpha_and_replicates_gray():
  gray = np.arange(6, dtype=np.uint16).reshape(2, 3)
  for array in (gray, gray[..., None], np.stack([gray, gray + 100], -1)):
    out = decode.rgb_channels(array)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint16
    np.testing.assert_array_equal(out, np.repeat(gray[..., None], 3, -1))
  rgba = np.random.default_rng(0).random((2, 3, 4)).astype(np.float32)
  np.testing.assert_array_equal(decode.rgb_channels(rgba), rgba[..., :3])
  np.testing.assert_array_equal(decode.rgb_channels(rgba[..., :3]), rgba[..., :3])
