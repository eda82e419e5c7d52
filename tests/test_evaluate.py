"""`cudi evaluate` (cudi_jax.eval.evaluate): the command line of the three modes."""
import csv
import json

import numpy as np
import pytest

from cudi_jax.eval import common as eval_common
from cudi_jax.eval import evaluate
from cudi_jax.eval import metrics
from cudi_jax.exposure import values as exposure_values
from cudi_jax.runtime import api as runtime
from tests import helpers


@pytest.fixture
def student_npz(tmp_path):
  return helpers.export_student_npz(tmp_path / "student.npz")


@pytest.fixture(scope="module")
def teacher_npz(tmp_path_factory):
  pytest.importorskip("flax")
  return helpers.export_teacher_npz(tmp_path_factory.mktemp("teacher") / "teacher.npz")


def test_paired_cli_json_csv(photos, student_npz, tmp_path, capsys):
  ins, refs = photos
  out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
  rc = evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz),
                      "--models", "student,input", "--exposure", "0.5", "--exposure", "auto",
                      "--json", str(out_json), "--csv", str(out_csv), "-q"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert data["settings"]["exposures"] == ["0.5", "auto"]
  assert len(data["images"]) == 3 * 3  # 3 pairs x (2 student exposures + 1 baseline)
  summary = {(s["model"], s["exposure"]): s for s in data["summary"]}
  assert set(summary) == {("student", "0.5"), ("student", "auto"), ("input", "-")}
  assert all(0 < s["ssim"] <= 1 and s["count"] == 3 for s in summary.values())
  rows = list(csv.DictReader(out_csv.open()))
  assert len(rows) == 9 and {"name", "model", "exposure", "psnr", "ssim"} <= set(rows[0])
  # --color: the student's colour handling, recorded; natural (cudi enhance's) by default.
  assert data["settings"]["color"] == "natural"
  net_json = tmp_path / "net.json"
  assert evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz),
                        "--models", "student", "--exposure", "0.5", "--color", "network",
                        "--json", str(net_json), "-q"]) == 0
  net = json.loads(net_json.read_text())
  assert net["settings"]["color"] == "network"
  model = runtime.load_student(student_npz)
  ins_sorted = sorted(p for p in ins.iterdir())
  image = eval_common.load_image(ins_sorted[0])
  ref = eval_common.resize_image(eval_common.read_float_image(sorted(refs.iterdir())[0]),
                                 size=image.shape[:2])
  out = eval_common.to_uint8(model.enhance(image, exposure_values.Constant(0.5), color="network"))
  assert net["images"][0]["psnr"] == pytest.approx(
      metrics.psnr(out.astype(np.float32) / 255, ref), abs=1e-6)


def test_paired_pairs_csv_and_max_size(photos, student_npz, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "pairs.csv"
  pairs_csv.write_text("input,reference\np1.png,p1.jpg\np2.png,p2.jpg\n")
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--pairs", str(pairs_csv), "--student",
                      str(student_npz), "--max-size", "26", "--json", str(out_json), "-q"])
  assert rc == 0
  rows = json.loads(out_json.read_text())["images"]
  assert [(r["name"], r["model"]) for r in rows] == [
      ("p1", "gain"), ("p1", "student"), ("p2", "gain"), ("p2", "student")]
  assert (rows[0]["height"], rows[0]["width"]) == (18, 26)


def test_paired_csv_with_kind_and_split_and_the_gain_baseline(photos, student_npz, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "pairs.csv"
  pairs_csv.write_text("input,reference,kind,scene,split\n"
                       "p0.png,p0.png,under,0-1,train\n"
                       "p1.png,p1.jpg,under,1-2,val\n"
                       "p2.png,p2.jpg,over,2-3,val\n")
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--pairs", str(pairs_csv), "--split", "val",
                      "--student", str(student_npz), "--models", "student,gain,input",
                      "--json", str(out_json), "-q"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert data["settings"]["split"] == "val"
  summary = [(s["kind"], s["model"], s["count"]) for s in data["summary"]]
  assert summary == [("under", "student", 1), ("under", "gain", 1), ("under", "input", 1),
                     ("over", "student", 1), ("over", "gain", 1), ("over", "input", 1)]
  for s in data["summary"]:
    assert {"psnr", "ssim", "black_lift", "contrast", "mean_error"} <= set(s)


def test_exposure_cli(photos, student_npz, tmp_path, capsys):
  ins, _ = photos
  out_json = tmp_path / "e.json"
  rc = evaluate.main(["exposure", str(ins / "p0.png"), str(ins / "p1.png"), "--student",
                      str(student_npz), "--targets", "0.3,0.7", "--local", "halves",
                      "--json", str(out_json), "--floor"])
  assert rc == 0
  assert "constant_cell_error" in capsys.readouterr().out
  data = json.loads(out_json.read_text())
  # per photo: 3 named settings, 2 targets, 3 halves rows; + the floor's two targets
  assert len(data["images"]) == 2 * (3 + 2 + 3) + 2 * 2
  assert [r["map"] for r in data["images"] if r["model"] == "student"][:3] == [
      "auto", "under", "over"]
  assert data["settings"]["named"] == ["auto", "under", "over"]
  capsys.readouterr()
  with pytest.raises(SystemExit) as exc:
    evaluate.main(["exposure", str(ins / "p0.png"), "--student", str(student_npz),
                   "--named", "sideways", "-q"])
  assert exc.value.code == 2 and "--named takes" in capsys.readouterr().err
  assert [o["model"] for o in data["overall"]] == ["student", "floor"]
  assert 0 <= data["overall"][0]["constant_cell_error"] <= 1
  floor = [r for r in data["images"] if r["model"] == "floor"]
  assert [r["target"] for r in floor] == [0.3, 0.7, 0.3, 0.7]
  # these synthetic photos have no pure black or white: every target is reachable
  assert all(r["cell_error"] == 0.0 for r in floor)
  assert data["settings"]["floor"] is True


def test_cli_errors(tmp_path, student_npz, capsys):
  assert evaluate.main(["exposure", str(tmp_path / "missing"), "--student", str(student_npz), "-q"]) == 2
  assert evaluate.main(["paired", str(tmp_path), str(tmp_path), "--exposure", "1.5",
                        "--student", str(student_npz), "-q"]) == 2
  assert evaluate.main(["fidelity", str(tmp_path), "-q"]) == 2  # --teacher is required
  assert "needs --teacher" in capsys.readouterr().err


def test_fidelity_cli_with_a_teacher(teacher_npz, photos, student_npz, tmp_path):
  out_json = tmp_path / "f.json"
  rc = evaluate.main(["fidelity", str(photos[0]), "--limit", "2", "--teacher", str(teacher_npz),
                      "--student", str(student_npz), "--tile", "0", "--json", str(out_json), "-q",
                      "--tangent-fit"])
  assert rc == 0
  data = json.loads(out_json.read_text())
  assert len(data["images"]) == 2 and data["settings"]["tangent_fit"] is True
  s = data["summary"][0]
  assert s["exposure"] == "auto" and -1 <= s["pearson"] <= 1 and s["psnr"] > 0
  assert s["fit_psnr"] > 0 and 0 < s["fit_ssim"] <= 1


# --------------------------------------------------------------------------- robustness


def _one_line_error(capsys, *words):
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "Traceback" not in err, err
  for w in words:
    assert w in err, err
  return err


def test_results_are_written_atomically_on_a_full_disk(photos, student_npz, tmp_path, capsys,
                                                       monkeypatch):
  """A full disk while writing leaves the previous results file whole (exit 1, one line)."""
  ins, refs = photos
  out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
  args = ["paired", str(ins), str(refs), "--student", str(student_npz), "--models", "student",
          "--exposure", "0.5", "-q"]
  assert evaluate.main(args + ["--json", str(out_json), "--csv", str(out_csv)]) == 0
  before_json, before_csv = out_json.read_bytes(), out_csv.read_bytes()
  json.loads(before_json)
  helpers.FullDisk.install(monkeypatch)
  assert evaluate.main(args + ["--json", str(out_json)]) == 1
  _one_line_error(capsys, str(out_json), "No space left")
  assert out_json.read_bytes() == before_json
  assert evaluate.main(args + ["--csv", str(out_csv)]) == 1
  _one_line_error(capsys, str(out_csv))
  assert out_csv.read_bytes() == before_csv
  assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


def test_unwritable_outputs_fail_before_any_work(photos, student_npz, tmp_path, capsys,
                                                 monkeypatch):
  from cudi_jax.eval import paired
  ins, refs = photos
  calls = []
  monkeypatch.setattr(paired, "evaluate_paired", lambda *a, **k: calls.append(1))
  monkeypatch.setattr(eval_common, "load_student_model", lambda *a, **k: calls.append(1))
  a_file = tmp_path / "file.txt"
  a_file.write_text("x")
  locked = tmp_path / "locked"
  locked.mkdir()
  real_access = evaluate.options.os.access
  monkeypatch.setattr(evaluate.options.os, "access",
                      lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
  for option, path, words in [("--json", a_file / "r.json", ("is a file",)),
                              ("--csv", tmp_path, ("is a folder",)),
                              ("--json", locked / "r.json", ("permission denied",)),
                              ("--csv", locked / "sub" / "r.csv", ("permission denied",))]:
    rc = evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz), option,
                        str(path), "-q"])
    assert rc == 2
    _one_line_error(capsys, option, *words)
  assert calls == []


@pytest.mark.parametrize("mode, extra, words", [
    ("exposure", ["--targets", "abc"], ("--targets", "abc")),
    ("exposure", ["--targets", "0.3,1.5"], ("--targets", "1.5")),
    ("exposure", ["--cell", "0"], ("--cell", "at least 1")),
    ("exposure", ["--local", "star"], ("--local", "star")),
    ("exposure", ["--max-size", "-5"], ("--max-size",)),
    ("paired", ["--max-size", "0"], ("--max-size",)),
    ("exposure", ["--limit", "0"], ("--limit",)),
    ("exposure", ["--tile", "-1"], ("--tile",)),
])
def test_bad_options_are_one_line_usage_errors(photos, mode, extra, words, capsys):
  ins, refs = photos
  argv = [mode, str(ins)] + ([str(refs)] if mode == "paired" else []) + extra + ["-q"]
  with pytest.raises(SystemExit) as exc:
    evaluate.main(argv)
  assert exc.value.code == 2
  _one_line_error(capsys, *words)


def test_an_unreadable_photo_is_skipped_and_named(photos, student_npz, tmp_path, capsys):
  """One bad file: a message naming it, the others evaluated and written, exit 1."""
  ins, refs = photos
  (ins / "p1.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz),
                      "--models", "student", "--exposure", "0.5", "--json", str(out_json), "-q"])
  assert rc == 1
  err = capsys.readouterr().err
  assert "Traceback" not in err and err.count("\n") == 2, err  # the skip, then the count
  assert str(ins / "p1.png") in err and "corrupt PNG" in err
  data = json.loads(out_json.read_text())
  assert [r["name"] for r in data["images"]] == ["p0", "p2"]
  assert data["skipped"] == [{"name": "p1", "error": f"{ins / 'p1.png'}: corrupt PNG (no image header)"}]
  # exposure mode: the same
  rc = evaluate.main(["exposure", str(ins), "--student", str(student_npz), "--targets", "0.5",
                      "--local", "", "--named", "", "--json", str(out_json), "-q"])
  assert rc == 1
  assert str(ins / "p1.png") in capsys.readouterr().err
  assert sorted({r["name"] for r in json.loads(out_json.read_text())["images"]}) == [
      "p0", "p2", "unmatched"]


def test_paired_strata_cli(photos, student_npz, tmp_path, capsys):
  ins, refs = photos
  out_json = tmp_path / "r.json"
  rc = evaluate.main(["paired", str(ins), str(refs), "--student", str(student_npz), "--models",
                      "student", "--strata", "--json", str(out_json)])
  assert rc == 0
  out = capsys.readouterr().out
  assert "dynamic range" in out and "gain_ssim" in out
  data = json.loads(out_json.read_text())
  assert data["settings"]["strata"] == ["r<8", "8<=r<16", "r>=16"]
  assert {r["model"] for r in data["images"]} == {"student", "gain"}  # gain added
  assert [s["model"] for s in data["strata"]] == ["student"] * len(data["strata"])
  assert sum(s["pairs"] for s in data["strata"]) == 3


def test_pairs_csv_problems_are_one_line_usage_errors(photos, student_npz, tmp_path, capsys):
  ins, refs = photos
  bad = tmp_path / "bad.csv"
  bad.write_bytes(b"input,reference\np1.png,\xff.jpg\n")
  assert evaluate.main(["paired", str(ins), str(refs), "--pairs", str(bad), "-q"]) == 2
  _one_line_error(capsys, str(bad), "not UTF-8")
  bom = tmp_path / "bom.csv"
  bom.write_bytes(b"\xef\xbb\xbfinput,reference\np1.png,p1.jpg\n")
  assert evaluate.main(["paired", str(ins), str(refs), "--pairs", str(bom), "--student",
                        str(student_npz), "--models", "gain", "-q"]) == 0
