"""export.py: checkpoints to exports (with a fake checkpoint loader), --describe and
--verify; --calibrate is tested with the measurement (tests/test_measure.py)."""
import sys
import types

import pytest

import export
from cudi_jax import student_math
from cudi_jax import weights as ef
from tests import helpers


@pytest.fixture(scope="module")
def flat():
  return helpers.random_student_flat(seed=21, std=0.3)


class FakeTrained:
  def __init__(self, kind, params, step=77):
    self.kind, self.params, self.step = kind, params, step
    self.model = None
    self.config = {"model": kind, "optimizer": {"lr": 5e-4}, "steps": 1000}


def _fake_checkpoints(monkeypatch, trained):
  module = types.ModuleType("cudi_jax.train.checkpoints")
  module.load_trained = lambda path: trained
  monkeypatch.setitem(sys.modules, "cudi_jax.train.checkpoints", module)
  import cudi_jax
  monkeypatch.setattr(cudi_jax, "checkpoints", module, raising=False)


def test_export_script_student_with_verify(flat, tmp_path, monkeypatch, capsys):
  pytest.importorskip("jax")
  _fake_checkpoints(monkeypatch, FakeTrained("student", student_math.unflatten_params(flat)))
  out = tmp_path / "exported" / "student.npz"
  assert export.main(["--workdir", "runs/student", "--output", str(out), "--verify"]) == 0
  printed = capsys.readouterr().out
  assert "verify: OK" in printed and "training step: 77" in printed
  loaded = ef.load_export(out, kind="student")
  assert loaded.metadata["training"]["config"]["optimizer"] == {"lr": 5e-4}


def test_export_script_teacher(tmp_path, monkeypatch, capsys):
  _fake_checkpoints(monkeypatch, FakeTrained("teacher",
                                             student_math.unflatten_params(helpers.small_teacher_params())))
  out = tmp_path / "teacher.npz"
  assert export.main(["--checkpoint", "ckpt/100", "--output", str(out)]) == 0
  assert ef.load_export(out).kind == "teacher"
  assert export.main(["--checkpoint", "ckpt/100", "--output", str(out),
                      "--kind", "student"]) == 1
  assert "holds a teacher" in capsys.readouterr().err


def test_export_script_describe_bad_file_is_one_line(tmp_path, capsys):
  bad = tmp_path / "bad.npz"
  bad.write_bytes(b"\0" * 100)
  assert export.main(["--describe", str(bad)]) == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "not a valid CuDi export" in err and "Traceback" not in err


@pytest.mark.parametrize("entries, match", [
    ({"calibration": {"maps": {"means": [0.2], "requested": [0.1, 0.9], "fed": [[0.0, 0.0]]}}},
     "calibration table 'maps'"),
    ({"calibration": {"auto": {"means": [0.2], "requested": [0.5], "fed": [[0.0]]}}},
     "black photos"),
    ({"exposure_presets": {"under": 0}}, "under"),
    ({"exposure_presets": {"auto": {"target": 0.0}}}, "auto.target"),
])
def test_malformed_exposure_metadata_is_refused_on_load_and_by_describe(
    tmp_path, flat, capsys, entries, match):
  """Tables of zeros or a zero target would give black photos: refused in one line, and
  export.py --describe does not call such a file valid."""
  path = helpers.export_with_metadata(tmp_path / "bad.npz", flat, **entries)
  with pytest.raises(ef.ExportFormatError, match=match):
    ef.load_export(path)
  assert export.main(["--describe", str(path)]) == 1
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and match.split("'")[0] in err
