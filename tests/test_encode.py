"""Writing image files (:mod:`cudi_jax.io.encode`): bit depths, modes and metadata kept,
16-bit TIFF through tifffile, PNG compression presets, 16-to-8-bit rounding, errors."""
import os

import numpy as np
import pytest
from PIL import Image

from cudi_jax.io import atomic, decode, encode
from cudi_jax.io.errors import ImageIOError
from helpers import exif_bytes, read_exif, srgb_icc, tifffile_bytes

RNG = np.random.default_rng(0)


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
    encode.write_image(path, a, png_compression=preset)
    sizes[preset] = path.stat().st_size
    assert zlib_level_flag(path) == flag, preset  # the level reached the file
    pic = decode.read_image(path)
    assert pic.array.dtype == dtype and np.array_equal(pic.array, a)
  assert sizes["small"] <= sizes["fast"]
  encode.write_image(tmp_path / "default.png", a)
  assert (tmp_path / "default.png").read_bytes() == (tmp_path / "fast.png").read_bytes()
  with pytest.raises(ImageIOError, match="unknown PNG compression 'tiny'"):
    encode.write_image(tmp_path / "x.png", a, png_compression="tiny")


def test_16bit_tiff_writes_icc_alpha_and_is_readable_elsewhere(tmp_path):
  import tifffile
  icc = srgb_icc()
  for samples in (2, 3, 4):
    a = RNG.integers(0, 65536, (300, 41, samples), dtype=np.uint16)
    path = tmp_path / f"out{samples}.tif"
    encode.write_image(path, a, icc_profile=icc, exif=exif_bytes())
    with tifffile.TiffFile(path) as tif:
      page = tif.pages[0]
      np.testing.assert_array_equal(page.asarray(), a)
      assert bytes(page.tags[34675].value) == icc
      assert page.photometric == (2 if samples >= 3 else 1)
      assert list(page.extrasamples) == ([2] if samples in (2, 4) else [])  # unassociated
    pic = decode.read_image(path)
    assert pic.icc_profile == icc and np.array_equal(pic.array, a)
  with Image.open(tmp_path / "out3.tif") as img:  # a valid TIFF for libtiff too
    assert img.size == (41, 300)


def test_16bit_tiff_keeps_compression_and_dpi(tmp_path):
  import tifffile
  a = RNG.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
  src = tmp_path / "in.tif"
  src.write_bytes(tifffile_bytes(a, photometric="rgb", compression="zlib", predictor=True,
                                  resolution=(300, 300), resolutionunit="INCH"))
  pic = decode.read_image(src)
  assert pic.info == {"compression": "tiff_adobe_deflate", "dpi": (300.0, 300.0)}
  out = tmp_path / "out.tif"
  encode.write_image(out, pic.array, info=pic.info)
  with tifffile.TiffFile(out) as tif:
    assert tif.pages[0].compression == 8
  assert decode.read_image(out).info == pic.info


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
    encode.write_image(path, array, icc_profile=icc, exif=exif)
    pic = decode.read_image(path)
    assert pic.array.dtype == array.dtype and np.array_equal(pic.array, array), name
    if not name.endswith("f32.tif"):
      assert pic.icc_profile == icc, name
    if exif:
      assert read_exif(pic.exif)[0x010F] == "CuDiTest", name
  assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_write_errors_and_atomicity(tmp_path, monkeypatch):
  a = np.zeros((4, 4, 4), np.uint8)
  with pytest.raises(ImageIOError, match="alpha"):
    encode.write_image(tmp_path / "x.jpg", a)
  with pytest.raises(ImageIOError, match="unsupported output"):
    encode.write_image(tmp_path / "x.xyz", a)
  blocker = tmp_path / "file"
  blocker.write_text("x")
  with pytest.raises(ImageIOError, match="cannot create folder"):
    encode.write_image(blocker / "sub" / "x.png", a)

  def failing_replace(src, dst):
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(atomic.os, "replace", failing_replace)
  with pytest.raises(ImageIOError, match="No space left"):
    encode.write_image(tmp_path / "y.png", a)
  assert sorted(os.listdir(tmp_path)) == ["file"]  # no partial or temporary file


def test_16bit_to_8bit_formats_round(tmp_path):
  a = np.array([[[0, 128, 257], [65535, 32896, 300]]], np.uint16)
  encode.write_image(tmp_path / "x.jpg", a, quality=100)
  encode.write_image(tmp_path / "x.bmp", a)
  assert np.array_equal(decode.read_image(tmp_path / "x.bmp").array,
                        np.array([[[0, 0, 1], [255, 128, 1]]], np.uint8))
