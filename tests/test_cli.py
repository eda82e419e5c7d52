"""The ``cudi`` command end to end on generated images (in-process, small images)."""
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
from PIL import Image

from cudi_jax import cli
from cudi_jax import weights as weights_lib
from cudi_jax.io import atomic, decode, encode
from cudi_jax.io import png16
from cudi_jax.runtime import api as runtime
from tests import helpers

RNG = np.random.default_rng(1)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
  path = tmp_path_factory.mktemp("w") / "student.npz"
  weights_lib.export_student(helpers.random_student_flat(seed=5, std=0.3), {}, path)
  return str(path)


@pytest.fixture(scope="module")
def model(weights):
  return runtime.load_student(weights)


def run(*args):
  return cli.main(["enhance", *map(str, args), "--no-progress"])


def srgb_icc():
  from PIL import ImageCms
  return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def make_inputs(folder):
  """One file per mode / bit depth; returns {name: (array as stored, expected layout)}."""
  folder.mkdir(parents=True, exist_ok=True)
  icc = srgb_icc()
  exif = Image.Exif()
  exif[0x0112] = 6
  exif[0x010F] = "CuDiTest"
  rgb = RNG.integers(0, 256, (12, 16, 3), dtype=np.uint8)
  files = {}

  def pil(name, array, mode=None, **kw):
    Image.fromarray(array, mode=mode).save(folder / name, **kw)
    files[name] = array

  pil("rgb.png", rgb, icc_profile=icc)
  pil("rgba.png", RNG.integers(0, 256, (12, 16, 4), dtype=np.uint8))
  pil("gray.png", rgb[..., 0])
  pil("gray_alpha.png", RNG.integers(0, 256, (12, 16, 2), dtype=np.uint8), mode="LA")
  pil("gray16.png", RNG.integers(0, 65536, (12, 16), dtype=np.uint16))
  pil("gray16.tif", RNG.integers(0, 65536, (12, 16), dtype=np.uint16))
  pil("rgb.tif", rgb)
  pil("photo.jpg", rgb, quality=95, exif=exif.tobytes(), icc_profile=icc)
  Image.fromarray(rgb).convert("P").save(folder / "palette.png")
  files["palette.png"] = None
  Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
  files["cmyk.jpg"] = None
  for name, shape in (("rgb16.png", (12, 16, 3)), ("rgba16.png", (12, 16, 4)),
                      ("gray_alpha16.png", (12, 16, 2))):
    a = RNG.integers(0, 65536, shape, dtype=np.uint16)
    (folder / name).write_bytes(png16.encode(a, icc_profile=icc, exif=exif.tobytes()))
    files[name] = a
  rgb16 = RNG.integers(0, 65536, (12, 16, 3), dtype=np.uint16)
  encode.write_image(folder / "rgb16.tif", rgb16, icc_profile=icc)
  files["rgb16.tif"] = rgb16
  return files


def test_every_mode_and_bit_depth(tmp_path, weights, model, capsys):
  src = tmp_path / "in"
  files = make_inputs(src)
  out = tmp_path / "out"
  assert run(src, "-o", out, "--weights", weights, "--exposure", "0.6") == 0
  err = capsys.readouterr().err
  assert f"{len(files)} done, 0 skipped, 0 failed" in err
  assert sorted(os.listdir(out)) == sorted(files)
  for name in files:
    pin = decode.read_image(src / name)
    pout = decode.read_image(out / name)
    assert pout.array.shape == pin.array.shape, name
    assert pout.array.dtype == pin.array.dtype, name
    assert pout.mode == pin.mode, name
    assert pout.icc_profile == pin.icc_profile, name
    expected = model.enhance(pin.array, 0.6)
    if name.endswith(".jpg"):
      assert np.abs(pout.array.astype(int) - expected.astype(int)).mean() < 3, name
    else:
      assert np.array_equal(pout.array, expected), name
    if pin.array.ndim == 3 and pin.array.shape[-1] in (2, 4):
      assert np.array_equal(pout.array[..., -1], pin.array[..., -1]), name  # alpha
  with Image.open(out / "photo.jpg") as img:      # orientation applied and reset
    assert img.size == (12, 16) and img.getexif()[0x0112] == 1
    assert img.getexif()[0x010F] == "CuDiTest"
  assert decode.read_image(out / "rgb16.png").mode == "RGB;16"
  assert decode.read_image(out / "rgb16.tif").mode == "RGB;16"


@pytest.mark.parametrize("variant", ["planar", "lzw", "planar_lzw_predictor"])
def test_16bit_tiff_variants_enhanced_exactly(tmp_path, weights, model, variant):
  """Planar and LZW 16-bit RGB TIFFs (tifffile) are read at full precision."""
  tifffile = pytest.importorskip("tifffile")
  options = {"planar": dict(planarconfig="separate"),
             "lzw": dict(compression="lzw"),
             "planar_lzw_predictor": dict(planarconfig="separate", compression="lzw",
                                          predictor=True)}[variant]
  if options.get("compression") == "lzw":
    pytest.importorskip("imagecodecs")  # tifffile's LZW codec
  a = RNG.integers(0, 65536, (14, 19, 3), dtype=np.uint16)
  stored = np.moveaxis(a, -1, 0) if options.get("planarconfig") == "separate" else a
  src = tmp_path / f"{variant}.tif"
  tifffile.imwrite(src, stored, photometric="rgb", metadata=None, **options)
  np.testing.assert_array_equal(decode.read_image(src).array, a)
  out = tmp_path / "out"
  assert run(src, "-o", out, "--weights", weights, "--exposure", "0.6") == 0
  result = decode.read_image(out / src.name)
  assert result.mode == "RGB;16" and result.array.dtype == np.uint16
  np.testing.assert_array_equal(result.array, model.enhance(a, 0.6))
  with tifffile.TiffFile(out / src.name) as tif:  # the input's compression is kept
    assert tif.pages[0].compression == (5 if "lzw" in variant else 1)


def test_png_compression_option(tmp_path, weights, capsys):
  y, x = np.mgrid[:64, :80]
  smooth = (np.sin(y / 7.0) + np.cos(x / 11.0) + 2) * 10000
  sizes = {}
  for dtype, scale in ((np.uint16, 1), (np.uint8, 1 / 257)):
    a = np.clip(smooth[..., None] * scale * (0.8, 0.9, 1.0)
                + RNG.normal(0, 300 * scale, (64, 80, 3)), 0, np.iinfo(dtype).max)
    a = a.astype(dtype)
    src = tmp_path / f"in{a.dtype.itemsize}.png"
    encode.write_image(src, a)
    arrays = {}
    for preset in ("fast", "small"):
      out = tmp_path / preset
      assert run(src, "-o", out, "--weights", weights, "--png-compression", preset) == 0
      data = (out / src.name).read_bytes()
      assert data[data.index(b"IDAT") + 5] >> 6 == (0 if preset == "fast" else 3)  # zlib level
      sizes[preset, dtype] = len(data)
      arrays[preset] = decode.read_image(out / src.name).array
    np.testing.assert_array_equal(arrays["fast"], arrays["small"])
    assert sizes["small", dtype] <= sizes["fast", dtype]
  with pytest.raises(SystemExit) as info:
    run(src, "-o", tmp_path / "x", "--weights", weights, "--png-compression", "tiny")
  assert info.value.code == 2 and "--png-compression" in capsys.readouterr().err


def test_single_file_output_name_format_and_suffix(tmp_path, weights):
  src = tmp_path / "a.png"
  Image.fromarray(RNG.integers(0, 256, (8, 9, 3), dtype=np.uint8)).save(src)
  assert run(src, "-o", tmp_path / "result.jpg", "--weights", weights) == 0
  assert Image.open(tmp_path / "result.jpg").format == "JPEG"
  assert run(src, "-o", tmp_path / "o", "--weights", weights, "--suffix", "_cudi",
             "--format", "webp", "--quality", "80") == 0
  assert os.listdir(tmp_path / "o") == ["a_cudi.webp"]


def test_folders_recursive_and_globs(tmp_path, weights):
  src = tmp_path / "photos"
  (src / "trip" / "day1").mkdir(parents=True)
  for rel in ("x.png", "trip/y.jpg", "trip/day1/z.png"):
    Image.fromarray(RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)).save(src / rel)
  (src / "notes.txt").write_text("not an image, skipped when scanning")
  (src / ".hidden.png").write_bytes(b"ignored")
  out = tmp_path / "out"
  assert run(src, "-o", out, "--weights", weights) == 0
  found = sorted(os.path.relpath(os.path.join(r, f), out) for r, _, fs in os.walk(out)
                 for f in fs)
  assert found == ["trip/day1/z.png", "trip/y.jpg", "x.png"]
  assert run(str(src / "**" / "*.png"), "-o", tmp_path / "g", "--weights", weights) == 0
  assert sorted(os.listdir(tmp_path / "g")) == ["x.png", "z.png"]


def test_output_folder_inside_input_folder_is_not_rescanned(tmp_path, weights):
  src = tmp_path / "p"
  src.mkdir()
  Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(src / "a.png")
  assert run(src, "-o", src / "enhanced", "--weights", weights) == 0
  assert run(src, "-o", src / "enhanced", "--weights", weights, "--overwrite") == 0
  assert os.listdir(src / "enhanced") == ["a.png"]


def test_bad_inputs_each_fail_with_one_line_and_batch_continues(tmp_path, weights, capsys):
  src = tmp_path / "in"
  src.mkdir()
  good = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
  Image.fromarray(good).save(src / "good.png")
  Image.fromarray(good).save(tmp_path / "full.jpg")
  (src / "truncated.jpg").write_bytes((tmp_path / "full.jpg").read_bytes()[:300])
  (src / "empty.png").write_bytes(b"")
  (src / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
  (src / "text.jpg").write_text("hello")
  Image.new("LAB", (4, 4)).save(src / "lab.tif")
  Image.fromarray(np.zeros((300, 300, 3), np.uint8)).save(src / "huge.png")
  out = tmp_path / "out"
  code = run(src, tmp_path / "missing.png", "-o", out, "--weights", weights,
             "--max-pixels", 50000)
  err = capsys.readouterr().err
  assert code == 1
  lines = [l for l in err.splitlines() if l.startswith("cudi: error:")]
  reasons = {
      "truncated.jpg": "truncated", "empty.png": "empty file", "corrupt.png": "",
      "text.jpg": "not an image", "lab.tif": "unsupported image mode",
      "huge.png": "too large", "missing.png": "no such file",
  }
  for name, reason in reasons.items():
    matching = [l for l in lines if name in l]
    assert len(matching) == 1, (name, err)
    assert reason in matching[0], matching[0]
  assert "Traceback" not in err
  assert "1 done, 0 skipped, 7 failed" in err
  assert os.listdir(out) == ["good.png"]  # no partial outputs


def test_never_overwrites_inputs_and_refuses_existing_outputs(tmp_path, weights, capsys):
  src = tmp_path / "a.png"
  original = RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)
  Image.fromarray(original).save(src)
  before = src.read_bytes()
  assert run(src, "-o", tmp_path, "--weights", weights, "--overwrite") == 1
  assert run(src, "-o", src, "--weights", weights, "--overwrite") == 1
  assert "overwrite an input" in capsys.readouterr().err
  assert src.read_bytes() == before
  # another input of the batch is protected too
  other = tmp_path / "a_x.png"
  Image.fromarray(original).save(other)
  other_bytes = other.read_bytes()
  (tmp_path / "b").mkdir()
  b = tmp_path / "b" / "a.png"
  Image.fromarray(original).save(b)
  assert run(b, other, "-o", tmp_path, "--suffix", "_x", "--weights", weights,
             "--overwrite") == 1
  assert other.read_bytes() == other_bytes
  # existing outputs are skipped unless --overwrite
  out = tmp_path / "out"
  assert run(src, "-o", out, "--weights", weights) == 0
  stamp = (out / "a.png").stat().st_mtime_ns
  assert run(src, "-o", out, "--weights", weights) == 0
  assert "1 skipped" in capsys.readouterr().err
  assert (out / "a.png").stat().st_mtime_ns == stamp
  assert run(src, "-o", out, "--weights", weights, "--overwrite", "--exposure", "0.9") == 0
  assert (out / "a.png").stat().st_mtime_ns != stamp


def test_duplicate_output_names_are_refused(tmp_path, weights, capsys):
  for d in ("x", "y"):
    (tmp_path / d).mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / d / "same.png")
  assert run(tmp_path / "x" / "same.png", tmp_path / "y" / "same.png", "-o", tmp_path / "o",
             "--weights", weights) == 1
  assert "also the output of" in capsys.readouterr().err
  assert os.listdir(tmp_path / "o") == ["same.png"]


def test_unwritable_output(tmp_path, weights, capsys):
  src = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src)
  blocker = tmp_path / "file"
  blocker.write_text("a file where a folder is expected")
  assert run(src, "-o", blocker / "out", "--weights", weights) == 1
  err = capsys.readouterr().err
  assert "cannot create folder" in err and "Traceback" not in err


def test_atomic_output_on_a_crash(tmp_path, weights, monkeypatch):
  src = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src)

  def crash(*args, **kwargs):
    raise OSError(5, "Input/output error")

  monkeypatch.setattr(atomic.os, "replace", crash)  # --overwrite: the temporary replaces
  monkeypatch.setattr(atomic.os, "link", crash)     # otherwise: an exclusive hard link
  assert run(src, "-o", tmp_path / "o", "--weights", weights) == 1
  assert os.listdir(tmp_path / "o") == []
  assert run(src, "-o", tmp_path / "o", "--weights", weights, "--overwrite") == 1
  assert os.listdir(tmp_path / "o") == []


@pytest.mark.parametrize("args, message", [
    (["--exposure", "1.5"], "invalid --exposure"),
    (["--exposure", "bright"], "invalid --exposure"),
    (["--quality", "0"], "--quality"),
    (["--format", "gif"], "unsupported output format"),
])
def test_bad_options_exit_2(tmp_path, weights, args, message, capsys):
  src = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src)
  with pytest.raises(SystemExit) as info:
    run(src, "-o", tmp_path / "o", "--weights", weights, *args)
  assert info.value.code == 2
  assert message in capsys.readouterr().err


def _photo_and_map(folder, map_name):
  """A random photo a.png and a horizontal-ramp exposure map ``map_name`` in ``folder``:
  (photo path, photo array, map array)."""
  src = folder / "a.png"
  image = RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)
  Image.fromarray(image).save(src)
  emap = np.tile(np.linspace(0, 255, 6).astype(np.uint8), (5, 1))
  Image.fromarray(emap).save(folder / map_name)
  return src, image, emap


def test_exposure_map_option(tmp_path, weights, model, capsys):
  src, image, emap = _photo_and_map(tmp_path, "map.png")
  assert run(src, "-o", tmp_path / "o", "--weights", weights,
             "--exposure-map", tmp_path / "map.png") == 0
  expected = model.enhance(image, emap)
  assert np.array_equal(decode.read_image(tmp_path / "o" / "a.png").array, expected)
  # a map with an EXIF orientation: the command and the API apply it alike
  exif = Image.Exif()
  exif[0x0112] = 8
  stored = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
  Image.fromarray(stored).save(tmp_path / "turned.png", exif=exif.tobytes())
  assert run(src, "-o", tmp_path / "o3", "--weights", weights,
             "--exposure-map", tmp_path / "turned.png") == 0
  turned = model.enhance(image, str(tmp_path / "turned.png"))
  assert np.array_equal(turned, model.enhance(image, np.rot90(stored)))
  assert np.array_equal(decode.read_image(tmp_path / "o3" / "a.png").array, turned)
  (tmp_path / "bad.png").write_bytes(b"junk")
  assert run(src, "-o", tmp_path / "o2", "--weights", weights,
             "--exposure-map", tmp_path / "bad.png") == 1
  assert "--exposure-map" in capsys.readouterr().err


def test_bad_weights_one_line(tmp_path, capsys):
  src = tmp_path / "a.png"
  Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src)
  (tmp_path / "w.npz").write_bytes(b"PK\x03\x04 broken")
  assert run(src, "-o", tmp_path / "o", "--weights", tmp_path / "w.npz") == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "not a valid CuDi export" in err


def test_dispatch_and_usage(monkeypatch, capsys):
  called = {}
  fake = types.ModuleType("cudi_jax.eval.report")
  fake.main = lambda argv: called.setdefault("argv", argv) and 0
  monkeypatch.setitem(sys.modules, "cudi_jax.eval.report", fake)
  assert cli.main(["report", "--x", "1"]) == 0
  assert called["argv"] == ["--x", "1"]
  monkeypatch.setitem(sys.modules, "cudi_jax.eval.evaluate", None)  # import fails
  assert cli.main(["evaluate"]) == 1
  assert "unavailable" in capsys.readouterr().err
  assert cli.main(["frobnicate"]) == 2
  assert cli.main([]) == 2
  assert cli.main(["--version"]) == 0
  assert "cudi" in capsys.readouterr().out


def test_enhance_works_without_jax(tmp_path, weights):
  """``cudi enhance`` (and --demo) import neither JAX nor Flax."""
  script = textwrap.dedent(f"""
      import importlib.abc, sys
      class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
          if name.split(".")[0] in ("jax", "jaxlib", "flax", "optax"):
            raise ImportError(name + " is blocked")
      sys.meta_path.insert(0, Blocker())
      from cudi_jax import cli
      code = cli.main(["enhance", "--demo", "-o", {str(tmp_path / "demo")!r},
                       "--weights", {weights!r}, "--quiet"])
      assert not [m for m in sys.modules if m.split(".")[0] in ("jax", "flax")]
      sys.exit(code)
      """)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
  proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                        env=env, timeout=120)
  assert proc.returncode == 0, proc.stderr
  assert len(os.listdir(tmp_path / "demo")) == 6


# --------------------------------------------------------------------------- streams, names, safety


def _pictures(folder, *names, shape=(6, 7, 3)):
  folder.mkdir(parents=True, exist_ok=True)
  for name in names:
    Image.fromarray(RNG.integers(0, 256, shape, dtype=np.uint8)).save(folder / name)


def test_per_file_errors_go_to_stderr_with_progress_bars(tmp_path, weights, capsys, monkeypatch):
  """With several inputs and bars on (the default), 'error' and 'skipped' lines
  are diagnostics: stderr, never stdout (tqdm's write() defaults to stdout)."""
  from cudi_jax import progress
  _pictures(tmp_path, "good.png", "old.png")
  (tmp_path / "empty.jpg").write_bytes(b"")
  out = tmp_path / "out"
  out.mkdir()
  (out / "old.png").write_bytes(b"an existing output")
  for terminal in (False, True):  # a disabled bar (pipe) and a drawn one (terminal)
    monkeypatch.setattr(progress, "on_terminal", lambda stream=None: terminal)
    code = cli.main(["enhance", str(tmp_path / "good.png"), str(tmp_path / "empty.jpg"),
                     str(tmp_path / "old.png"), "-o", str(out), "--weights", weights])
    captured = capsys.readouterr()
    assert code == 1
    assert "cudi: error" not in captured.out and "cudi: skipped" not in captured.out, \
        captured.out
    assert "cudi: error:" in captured.err and "empty.jpg" in captured.err
    assert "cudi: skipped" in captured.err and "old.png" in captured.err
    (out / "good.png").unlink()


def test_batch_lists_outputs_on_stdout_when_not_a_terminal(tmp_path, weights, capsys):
  """One 'in -> out' line per file on stdout when stdout is not a terminal
  (a GIF is written as PNG, and the line says so); --quiet suppresses them; --verbose
  asks for them anywhere."""
  src = tmp_path / "fmt"
  _pictures(src, "a.png")
  Image.fromarray(RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)).convert("P").save(
      src / "b.gif")
  out = tmp_path / "out"
  assert cli.main(["enhance", str(src), "-o", str(out), "--weights", weights]) == 0
  captured = capsys.readouterr()
  lines = captured.out.splitlines()
  assert f"{src / 'b.gif'} -> {out / 'b.png'}" in lines
  assert f"{src / 'a.png'} -> {out / 'a.png'}" in lines and len(lines) == 2
  assert "->" not in captured.err
  assert cli.main(["enhance", str(src), "-o", str(tmp_path / "q"), "--weights", weights,
                   "--quiet"]) == 0
  assert capsys.readouterr().out == ""
  assert cli.main(["enhance", str(src), "-o", str(tmp_path / "v"), "--weights", weights,
                   "--verbose", "--no-progress"]) == 0
  assert len(capsys.readouterr().out.splitlines()) == 2


def _export_with_channels(path, in_channels):
  """A student export whose metadata and arrays agree on ``in_channels``."""
  import io
  import json
  from cudi_jax import student_math
  shapes = student_math.student_param_shapes(16, in_channels, 6)
  rng = np.random.default_rng(0)
  arrays = {k: rng.normal(0, 0.1, s).astype(np.float32) for k, s in shapes.items()}
  meta = weights_lib.build_metadata(
      "student", {"name": "student", "width": 16, "in_channels": in_channels,
                  "out_channels": 6}, arrays)
  arrays[weights_lib.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  path.write_bytes(buf.getvalue())
  return path


def test_export_with_other_input_channels_is_one_line(tmp_path, capsys):
  """An export of a 5-input-channel student: the usual one-line export error
  naming the supported input channels, no traceback."""
  _pictures(tmp_path, "x.png")
  w = _export_with_channels(tmp_path / "w.npz", 5)
  assert cli.main(["enhance", "-w", str(w), str(tmp_path / "x.png"), "-o",
                   str(tmp_path / "o"), "--no-progress"]) == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "not a valid CuDi export" in err, err
  assert "4 input channels" in err and "Traceback" not in err


def test_huge_weights_are_refused_in_one_line(tmp_path, capsys):
  """Finite but absurd weights (3e38): refused when loaded, in one line."""
  flat = helpers.random_student_flat(seed=5, std=0.3)
  flat["conv3/pw_kernel"] = np.full_like(flat["conv3/pw_kernel"], 3e38)
  path = tmp_path / "huge.npz"
  _raw_export(path, flat)
  _pictures(tmp_path, "x.png")
  import warnings
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    assert run(tmp_path / "x.png", "-o", tmp_path / "o", "--weights", path) == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "not a valid CuDi export" in err and "magnitude" in err


def _raw_export(path, flat):
  """An export written without save_export's checks (what another tool could write)."""
  import io
  import json
  arrays = dict(flat)
  meta = weights_lib.build_metadata("student", {"name": "student", "width": 16,
                                                "in_channels": 4, "out_channels": 6}, arrays)
  arrays[weights_lib.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  path.write_bytes(buf.getvalue())
  return path


def test_control_characters_in_names_are_quoted(tmp_path, weights, capsys):
  """A name holding a newline stays on its one error line (quoted, escaped)."""
  src = tmp_path / "in"
  src.mkdir()
  (src / "bad\nname.png").write_bytes(b"")
  (src / "tab\tname.png").write_bytes(b"junk")
  assert run(src, "-o", tmp_path / "out", "--weights", weights) == 1
  err = capsys.readouterr().err
  lines = err.splitlines()
  assert not any(line.startswith("name.png") for line in lines), err
  bad = [l for l in lines if "bad\\nname.png" in l]
  assert len(bad) == 1 and bad[0].startswith("cudi: error:") and "empty file" in bad[0]
  assert any("tab\\tname.png" in l for l in lines)
  assert "1 done" not in err and "2 failed" in err


def test_symlink_loop_input_is_named_as_such(tmp_path, weights, capsys):
  """A symbolic link loop given as an input is reported as one."""
  loop = tmp_path / "loop.png"
  os.symlink(loop, loop)
  dangling = tmp_path / "dangling.png"
  os.symlink(tmp_path / "nowhere.png", dangling)
  assert run(loop, dangling, "-o", tmp_path / "out", "--weights", weights) == 1
  err = capsys.readouterr().err
  line = [l for l in err.splitlines() if "loop.png" in l]
  assert len(line) == 1 and "symbolic link loop" in line[0], err
  assert "no such file" not in line[0]
  line = [l for l in err.splitlines() if "dangling.png" in l]
  assert len(line) == 1 and "broken symbolic link" in line[0], err


def test_stale_temporaries_are_removed(tmp_path, weights, capsys):
  """Temporaries of killed runs (our exact naming, older than this run) are
  removed from the output folder, with one line on stderr; nothing else is touched."""
  import time
  _pictures(tmp_path, "a.png")
  out = tmp_path / "out"
  out.mkdir()
  old = time.time() - 86400
  stale = [out / ".cudi-ab12cd_9.part", out / ".cudi-k3j4h5g6.part"]
  kept = [out / ".cudi-tooshort.part.txt", out / "notes.part", out / ".cudi-ab12cd_9.partial",
          out / ".photo.jpg.k3j4h5g6.part",
          out / ".cudi-zz12cd_9.part"]  # the last one is not older than the run
  for path in stale + kept:
    path.write_bytes(b"half an image")
    if path != kept[-1]:
      os.utime(path, (old, old))
    else:
      os.utime(path, (time.time() + 3600,) * 2)
  (out / ".cudi-dirdirdi.part").mkdir()  # a folder: not ours
  os.utime(out / ".cudi-dirdirdi.part", (old, old))
  assert run(tmp_path / "a.png", "-o", out, "--weights", weights) == 0
  err = capsys.readouterr().err
  for path in stale:
    assert not path.exists(), path
  for path in kept:
    assert path.exists(), path
  assert (out / ".cudi-dirdirdi.part").is_dir()
  notes = [l for l in err.splitlines() if "stale temporar" in l]
  assert len(notes) == 1 and " 2 " in notes[0], err


def test_output_appearing_during_the_run_is_not_replaced(tmp_path, weights, capsys,
                                                         monkeypatch):
  """Without --overwrite the final name is created exclusively, so a file that
  appears at the target while the image is processed is kept (reported as skipped);
  with --overwrite it is replaced."""
  _pictures(tmp_path, "a.png")
  out = tmp_path / "out"
  real_encode = encode.encode_image

  def encode_then_someone_writes(*args, **kwargs):
    data = real_encode(*args, **kwargs)
    out.mkdir(exist_ok=True)
    (out / "a.png").write_bytes(b"someone else's file")
    return data

  monkeypatch.setattr(encode, "encode_image", encode_then_someone_writes)
  assert run(tmp_path / "a.png", "-o", out, "--weights", weights) == 0
  err = capsys.readouterr().err
  assert (out / "a.png").read_bytes() == b"someone else's file"
  assert "0 done, 1 skipped, 0 failed" in err and "exists" in err
  assert os.listdir(out) == ["a.png"]  # no temporary left
  assert run(tmp_path / "a.png", "-o", out, "--weights", weights, "--overwrite") == 0
  assert decode.read_image(out / "a.png").array.shape == (6, 7, 3)


def test_output_names_up_to_255_bytes(tmp_path, weights):
  """The temporary name stays short, so a 250-byte output name works."""
  _pictures(tmp_path, "a.png")
  name = "x" * 246 + ".png"
  assert len(name.encode()) == 250
  assert run(tmp_path / "a.png", "-o", tmp_path / "out" / name, "--weights", weights) == 0
  assert os.listdir(tmp_path / "out") == [name]


@pytest.mark.parametrize("inputs", [["a.png", "b.png"], ["dir"], ["dir/*.png"]])
def test_image_named_output_with_several_inputs_exits_2(tmp_path, weights, capsys, inputs):
  """-o two.png with several inputs, a folder or a glob: refused, no folder."""
  _pictures(tmp_path, "a.png", "b.png")
  _pictures(tmp_path / "dir", "c.png")
  os.chdir(tmp_path)
  assert run(*inputs, "-o", tmp_path / "two.png", "--weights", weights) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and err.startswith("cudi: error:") and "two.png" in err, err
  assert not (tmp_path / "two.png").exists()


def test_progress_rule_is_shared(monkeypatch):
  """One rule for every command: bars only on a terminal (stderr), never with
  --quiet or --no-progress."""
  import argparse
  from cudi_jax import progress
  monkeypatch.setattr(progress, "on_terminal", lambda stream=None: True)
  assert progress.enabled(quiet=False, no_progress=False)
  assert not progress.enabled(quiet=True, no_progress=False)
  assert not progress.enabled(quiet=False, no_progress=True)
  monkeypatch.setattr(progress, "on_terminal", lambda stream=None: False)
  assert not progress.enabled(quiet=False, no_progress=False)
  items = [1, 2, 3]
  assert progress.wrap(items, "x", enabled=False) is items
  assert progress.bar(3, "x", enabled=False) is None
  parser = argparse.ArgumentParser()
  progress.add_arguments(parser)
  args = parser.parse_args(["--quiet", "--no-progress"])
  assert args.quiet and args.no_progress
  assert "--no-progress" in cli._parser().format_help()


def test_usage_describes_report_as_taking_photos(capsys):
  """'cudi --help' says what 'report' takes."""
  assert cli.main(["--help"]) == 0
  line = [l for l in capsys.readouterr().out.splitlines() if l.strip().startswith("report")]
  assert len(line) == 1 and "photo" in line[0] and "evaluation results" not in line[0]


def test_exposure_accepts_a_map_file(tmp_path, weights, model, capsys):
  """--exposure FILE works like --exposure-map FILE (as its message says)."""
  src, image, emap = _photo_and_map(tmp_path, "mask.png")
  assert run(src, "-o", tmp_path / "o", "--weights", weights,
             "--exposure", tmp_path / "mask.png") == 0
  assert np.array_equal(decode.read_image(tmp_path / "o" / "a.png").array,
                        model.enhance(image, emap))
  with pytest.raises(SystemExit) as info:
    run(src, "-o", tmp_path / "o2", "--weights", weights, "--exposure", "bright")
  assert info.value.code == 2
  assert "map file" in capsys.readouterr().err


def test_enhance_color_option(tmp_path, weights, model):
  """--color picks the runtime's colour handling; natural is the default."""
  src = tmp_path / "c.png"
  img = RNG.integers(0, 120, (20, 24, 3), dtype=np.uint8)
  Image.fromarray(img).save(src)
  outs = {}
  for mode in ("default", "natural", "network"):
    target = tmp_path / f"{mode}.png"
    extra = [] if mode == "default" else ["--color", mode]
    assert run(src, "-o", target, "--weights", weights, "-e", "0.6", *extra) == 0
    outs[mode] = np.asarray(Image.open(target))
  assert np.array_equal(outs["default"], outs["natural"])
  assert np.array_equal(outs["network"], model.enhance(img, 0.6, color="network"))
  assert not np.array_equal(outs["natural"], outs["network"])
  with pytest.raises(SystemExit):
    run(src, "-o", tmp_path / "x.png", "--color", "vivid")


def test_a_second_run_into_the_input_folder_skips_the_first_runs_outputs(tmp_path, weights,
                                                                         capsys):
  """`cudi enhance photos -o photos --suffix _e` twice: the second run does not take the
  first run's `*_e.png` as inputs (no `*_e_e.png`, no failures) and says so."""
  photos = tmp_path / "photos"
  (photos / "sub").mkdir(parents=True)
  for path in (photos / "a.png", photos / "sub" / "b.png"):
    Image.fromarray(np.full((8, 12, 3), 40, np.uint8)).save(path)
  args = ("enhance", str(photos), "-o", str(photos), "--suffix", "_e", "--weights", weights)
  assert cli.main(list(args)) == 0
  capsys.readouterr()
  assert cli.main(list(args)) == 0
  err = capsys.readouterr().err
  assert "skipped 2 files named *_e.*" in err and "0 failed" in err
  names = sorted(p.name for p in photos.rglob("*.png"))
  assert names == ["a.png", "a_e.png", "b.png", "b_e.png"]
  # A sibling folder whose name merely starts like the output folder is not affected.
  other = tmp_path / "photos2"
  other.mkdir()
  Image.fromarray(np.full((8, 12, 3), 40, np.uint8)).save(other / "c_e.png")
  assert cli._earlier_outputs([str(other / "c_e.png")], str(photos), "_e") == set()


def test_q_means_quiet_in_every_command():
  """-q is --quiet for enhance as for evaluate and report; the quality is --quality."""
  args = cli._parser().parse_args(["x.png", "-o", "out", "-q", "--quality", "80"])
  assert args.quiet and args.quality == 80
  assert "-q, --quiet" in cli._parser().format_help()
