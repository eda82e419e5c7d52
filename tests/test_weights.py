"""The export format (cudi_jax.weights): round trips, metadata, rejection of malformed
files (never unpickling)."""
import io
import json
import os
import pickle
import sys
import types
import zipfile

import numpy as np
import pytest

from cudi_jax import weights as ef
from cudi_jax import student_math
from cudi_jax import teacher_layout
from tests import helpers

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def flat():
  return helpers.random_student_flat(seed=21, std=0.3)


@pytest.fixture()
def student_file(flat, tmp_path):
  path = tmp_path / "student.npz"
  ef.export_student(student_math.unflatten_params(flat),
                    {"training": {"step": 1234, "config": {"lr": 5e-4, "batch": 8}}}, path)
  return path


def _entries(path):
  with np.load(path, allow_pickle=False) as npz:
    return {k: npz[k] for k in npz.files}


def _meta(entries):
  return json.loads(entries[ef.METADATA_KEY].tobytes())


def _with_meta(entries, **changes):
  meta = _meta(entries)
  meta.update(changes)
  out = dict(entries)
  out[ef.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  return out


# --------------------------------------------------------------------------- round trips


def test_student_round_trip_and_metadata(student_file, flat):
  export = ef.load_export(student_file)
  assert export.kind == "student"
  assert set(export.params) == set(flat)
  for name, value in flat.items():
    assert export.params[name].dtype == np.float32
    assert np.array_equal(export.params[name], value)
  meta = export.metadata
  assert meta["format"] == ef.FORMAT_NAME and meta["format_version"] == ef.FORMAT_VERSION
  assert meta["architecture"] == {"name": "student", "width": 16, "in_channels": 4,
                                  "out_channels": 6}
  assert meta["training"] == {"step": 1234, "config": {"lr": 5e-4, "batch": 8}}
  assert meta["exposure_presets"]["under"] == 0.55 and meta["exposure_presets"]["over"] == 0.25
  assert meta["param_count"] == 3630
  # flat names are the '/'-joined Flax paths, stored as float32 .npy members
  with zipfile.ZipFile(student_file) as zf:
    names = sorted(zf.namelist())
  assert "conv1/dw_kernel.npy" in names and "__metadata__.npy" in names
  assert not [p for p in os.listdir(student_file.parent) if p.endswith(".tmp")]


@pytest.mark.parametrize("form", ["flat", "nested", "variables"])
def test_export_accepts_every_params_form(form, flat, tmp_path):
  params = {"flat": flat, "nested": student_math.unflatten_params(flat),
            "variables": {"params": student_math.unflatten_params(flat)}}[form]
  path = tmp_path / "s.npz"
  ef.export_student(params, {}, path)
  assert all(np.array_equal(ef.load_export(path).params[k], v) for k, v in flat.items())


def test_teacher_round_trip(tmp_path):
  params = helpers.small_teacher_params()
  path = tmp_path / "teacher.npz"
  ef.export_teacher(student_math.unflatten_params(params), {"training": {"step": 9}}, path)
  export = ef.load_export(path, kind="teacher")
  assert export.architecture == {"name": "teacher", "width": 4, "multipliers": [1, 2, 2],
                                 "convs_per_block": 1, "num_iterations": 2, "in_channels": 4}
  assert all(np.array_equal(export.params[k], v) for k, v in params.items())
  with pytest.raises(ef.ExportFormatError, match="holds a teacher"):
    ef.load_export(path, kind="student")


def test_teacher_shapes_match_the_flax_model():
  jax = pytest.importorskip("jax")
  from cudi_jax.train import models
  model = models.Teacher(width=4, multipliers=(1, 2, 2), convs_per_block=2, num_iterations=3)
  shapes = jax.eval_shape(lambda: model.init(jax.random.key(0), np.zeros((1, 8, 8, 3)),
                                             np.zeros((1, 8, 8, 1))))["params"]
  flax_shapes = {k: tuple(v.shape) for k, v in student_math.flatten_params(shapes).items()}
  assert flax_shapes == {k: tuple(v) for k, v in teacher_layout.param_shapes(
      4, (1, 2, 2), 2, 3).items()}
  default = sum(int(np.prod(s)) for s in teacher_layout.param_shapes().values())
  assert default == 4_701_912


def test_export_refuses_bad_params(flat, tmp_path):
  wrong = dict(flat, **{"conv2/pw_kernel": np.zeros((16, 15), np.float32)})
  with pytest.raises(ef.ExportFormatError, match="conv2/pw_kernel"):
    ef.export_student(wrong, {}, tmp_path / "a.npz")
  nan = dict(flat, **{"conv1/dw_bias": np.full(4, np.nan, np.float32)})
  with pytest.raises(ef.ExportFormatError, match="NaN"):
    ef.export_student(nan, {}, tmp_path / "b.npz")
  missing = {k: v for k, v in flat.items() if k != "conv5/dw_bias"}
  with pytest.raises(ef.ExportFormatError, match="conv5/dw_bias"):
    ef.export_student(missing, {}, tmp_path / "c.npz")
  assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- malformed files


class Boom:
  """Unpickling this would create a marker file."""
  marker = None

  def __reduce__(self):
    return (open, (Boom.marker, "w"))


def _check_rejected(path, match):
  with pytest.raises(ef.ExportFormatError, match=match) as info:
    ef.load_export(path)
  message = str(info.value)
  assert "\n" not in message and str(path) in message


def test_rejects_non_zip_empty_and_missing(tmp_path):
  for name, data in (("text.npz", b"hello"), ("empty.npz", b""), ("png.npz", b"\x89PNG\r\n")):
    p = tmp_path / name
    p.write_bytes(data)
    _check_rejected(p, "not a .npz")
  with pytest.raises(ef.ExportFormatError, match="cannot read"):
    ef.load_export(tmp_path / "absent.npz")


def test_rejects_truncated_zip(student_file, tmp_path):
  data = student_file.read_bytes()
  p = tmp_path / "cut.npz"
  p.write_bytes(data[: len(data) // 2])
  with pytest.raises(ef.ExportFormatError):
    ef.load_export(p)


@pytest.mark.parametrize("case, match", [
    ("missing array", "missing arrays"),
    ("extra array", "unexpected arrays"),
    ("wrong shape", "shape"),
    ("float64", "float32"),
    ("int32", "float32"),
    ("nan", "NaN"),
    ("no metadata", "no __metadata__"),
    ("metadata not uint8", "uint8"),
    ("metadata not json", "JSON"),
    ("wrong format name", "format"),
    ("version 2", "version 2"),
    ("version string", "format_version"),
    ("unknown kind", "kind"),
    ("bad architecture", "architecture"),
])
def test_rejects_malformed_contents(case, match, student_file, tmp_path):
  entries = _entries(student_file)
  if case == "missing array":
    del entries["conv4/pw_bias"]
  elif case == "extra array":
    entries["conv8/kernel"] = np.zeros(3, np.float32)
  elif case == "wrong shape":
    entries["conv3/dw_kernel"] = np.zeros((3, 3, 17), np.float32)
  elif case == "float64":
    entries["conv3/dw_bias"] = entries["conv3/dw_bias"].astype(np.float64)
  elif case == "int32":
    entries["conv3/dw_bias"] = entries["conv3/dw_bias"].astype(np.int32)
  elif case == "nan":
    entries["conv6/pw_bias"] = np.full_like(entries["conv6/pw_bias"], np.inf)
  elif case == "no metadata":
    del entries[ef.METADATA_KEY]
  elif case == "metadata not uint8":
    entries[ef.METADATA_KEY] = entries[ef.METADATA_KEY].astype(np.int16)
  elif case == "metadata not json":
    entries[ef.METADATA_KEY] = np.frombuffer(b"{not json", np.uint8)
  elif case == "wrong format name":
    entries = _with_meta(entries, format="something-else")
  elif case == "version 2":
    entries = _with_meta(entries, format_version=2)
  elif case == "version string":
    entries = _with_meta(entries, format_version="1")
  elif case == "unknown kind":
    entries = _with_meta(entries, kind="generator")
  elif case == "bad architecture":
    entries = _with_meta(entries, architecture={"width": "wide"})
  p = tmp_path / "bad.npz"
  p.write_bytes(helpers.npz_bytes(entries))
  _check_rejected(p, match)


def test_pickled_object_array_is_rejected_without_executing(student_file, tmp_path):
  marker = tmp_path / "PWNED"
  Boom.marker = str(marker)
  entries = _entries(student_file)
  evil = np.empty(1, dtype=object)
  evil[0] = Boom()
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as zf:
    for name, value in entries.items():
      if name == "conv2/dw_bias":
        value = evil
      with zf.open(name + ".npy", "w") as f:
        np.lib.format.write_array(f, value, allow_pickle=True)
  p = tmp_path / "evil.npz"
  p.write_bytes(buf.getvalue())
  _check_rejected(p, "dtype object")
  assert not marker.exists()
  # the metadata entry as a pickle, too
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as zf:
    for name, value in entries.items():
      if name == ef.METADATA_KEY:
        value = evil
      with zf.open(name + ".npy", "w") as f:
        np.lib.format.write_array(f, value, allow_pickle=True)
  p.write_bytes(buf.getvalue())
  _check_rejected(p, "uint8")
  assert not marker.exists()
  # a raw pickle renamed .npz
  p.write_bytes(pickle.dumps(Boom()))
  _check_rejected(p, "not a .npz")
  assert not marker.exists()


def test_huge_declared_shape_is_rejected_before_reading(student_file, tmp_path):
  entries = _entries(student_file)
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as zf:
    for name, value in entries.items():
      with zf.open(name + ".npy", "w") as f:
        if name == "conv1/pw_bias":
          header = {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)}
          np.lib.format.write_array_header_1_0(f, header)
          f.write(b"\0" * 64)
        else:
          np.lib.format.write_array(f, value)
  p = tmp_path / "huge.npz"
  p.write_bytes(buf.getvalue())
  _check_rejected(p, "shape")


def test_rejects_foreign_zip_members(student_file, tmp_path):
  data = student_file.read_bytes()
  buf = io.BytesIO(data)
  with zipfile.ZipFile(buf, "a") as zf:
    zf.writestr("readme.txt", "hello")
  p = tmp_path / "extra.npz"
  p.write_bytes(buf.getvalue())
  _check_rejected(p, "unexpected member")


# --------------------------------------------------------------------------- verify and CLI


def _student_with_channels(in_channels=4, out_channels=6, scale=0.1):
  shapes = student_math.student_param_shapes(16, in_channels, out_channels)
  rng = np.random.default_rng(1)
  return {k: (rng.normal(0, 1, s) * scale).astype(np.float32) for k, s in shapes.items()}


def _write_raw(path, arrays, architecture):
  arrays = dict(arrays)
  meta = ef.build_metadata("student", architecture, arrays)
  arrays[ef.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  path.write_bytes(helpers.npz_bytes(arrays))
  return path


@pytest.mark.parametrize("in_channels, out_channels, match", [
    (5, 6, "4 input channels"), (3, 6, "4 input channels"), (4, 9, "6 output channels")])
def test_student_of_another_channel_count_is_refused(tmp_path, in_channels, out_channels,
                                                      match):
  """Metadata and arrays agree on in_channels=5, but the runtime reads students
  with 4 input channels (RGB + exposure): refused by the loader in one line."""
  arrays = _student_with_channels(in_channels, out_channels)
  path = _write_raw(tmp_path / "w.npz", arrays, {"name": "student", "width": 16,
                                                "in_channels": in_channels,
                                                "out_channels": out_channels})
  with pytest.raises(ef.ExportFormatError, match=match) as info:
    ef.load_export(path)
  assert "not a valid CuDi export" in str(info.value) and "\n" not in str(info.value)
  with pytest.raises(ef.ExportFormatError, match=match):
    ef.export_student(arrays, {}, tmp_path / "out.npz")


def test_weights_of_absurd_magnitude_are_refused(tmp_path):
  """Finite weights above 1e4 in magnitude cannot be meant: refused on load
  and on save."""
  arrays = _student_with_channels()
  arrays["conv5/pw_bias"][0] = -3e38
  path = _write_raw(tmp_path / "w.npz", arrays, {"name": "student", "width": 16,
                                                "in_channels": 4, "out_channels": 6})
  with pytest.raises(ef.ExportFormatError, match="magnitude") as info:
    ef.load_export(path)
  assert "conv5/pw_bias" in str(info.value)
  with pytest.raises(ef.ExportFormatError, match="magnitude"):
    ef.export_student(arrays, {}, tmp_path / "out.npz")
  arrays["conv5/pw_bias"][0] = 9e3  # large, but allowed
  ef.export_student(arrays, {}, tmp_path / "ok.npz")
  assert ef.load_export(tmp_path / "ok.npz").params["conv5/pw_bias"][0] == 9e3


def test_describe_takes_odd_training_metadata(tmp_path, flat):
  path = helpers.export_with_metadata(tmp_path / "odd.npz", flat, training="x")
  text = ef.describe(ef.load_export(path))
  assert "training step: None" in text


def test_oversized_metadata_is_named_as_such(tmp_path, flat):
  arrays = dict(flat)
  arrays[ef.METADATA_KEY] = np.zeros(ef.MAX_METADATA_BYTES + 1, np.uint8)
  path = tmp_path / "big_meta.npz"
  path.write_bytes(helpers.npz_bytes(arrays))
  _check_rejected(path, "metadata too large")
