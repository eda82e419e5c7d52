"""Summaries and writers of cudi evaluate (cudi_jax.eval.results)."""
import csv
import json
import math

import pytest

from cudi_jax.eval import results
from cudi_jax.eval.common import EvaluationError
from tests import helpers

ROWS = [{"name": "a", "model": "s", "psnr": 20.0, "ssim": 0.5},
        {"name": "b", "model": "s", "psnr": math.inf, "ssim": math.nan},
        {"name": "c", "model": "g", "psnr": math.inf, "ssim": 0.7, "extra": "x"}]


def test_summarise_and_mean():
  s = results.summarise(ROWS, ("model",), ("psnr", "ssim"))
  assert s[0] == {"model": "s", "count": 2, "psnr": 20.0, "ssim": 0.5}
  assert s[1]["psnr"] == math.inf and s[1]["ssim"] == 0.7  # all-infinite PSNR stays inf
  assert results.mean([1.0, None, math.nan, 3.0]) == 2.0 and math.isnan(results.mean([]))


def test_write_json_and_csv(tmp_path, capsys):
  path = tmp_path / "sub" / "r.json"
  results.write_json(path, {"rows": ROWS})
  data = json.loads(path.read_text())
  assert data["rows"][1]["psnr"] is None and data["rows"][0]["psnr"] == 20.0
  results.write_csv(tmp_path / "r.csv", ROWS)
  rows = list(csv.DictReader((tmp_path / "r.csv").open(newline="")))
  assert list(rows[0]) == ["name", "model", "psnr", "ssim", "extra"]
  assert rows[0]["psnr"] == "20" and rows[1]["ssim"] == "nan" and rows[2]["extra"] == "x"
  assert (tmp_path / "r.csv").read_bytes().count(b"\r\n") == 4
  results.write_json("-", {"a": 1})
  assert json.loads(capsys.readouterr().out) == {"a": 1}


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
  path = tmp_path / "r.json"
  results.write_json(path, {"old": True})
  before = path.read_bytes()
  helpers.FullDisk.install(monkeypatch)
  with pytest.raises(EvaluationError, match=f"cannot write {path}: No space left"):
    results.write_json(path, {"new": list(range(1000))})
  with pytest.raises(EvaluationError):
    results.write_csv(path, ROWS)
  assert path.read_bytes() == before
  assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left


def test_format_table():
  text = results.format_table(ROWS, ("name", "psnr", "ssim", "missing"))
  lines = text.split("\n")
  assert lines[0].split() == ["name", "psnr", "ssim", "missing"]
  assert set(lines[1]) <= {"-", " "}
  assert lines[2].split() == ["a", "20.0000", "0.5000", "-"]
  assert lines[3].split() == ["b", "inf", "nan", "-"]
