"""Command-line checks of cudi evaluate / cudi report (cudi_jax.eval.options)."""
import argparse

import pytest

from cudi_jax.eval import options


def test_number_types():
  assert options.positive_int("3") == 3 and options.non_negative_int("0") == 0
  for bad in ("0", "-5", "x", "1.5"):
    with pytest.raises(argparse.ArgumentTypeError):
      options.positive_int(bad)
  with pytest.raises(argparse.ArgumentTypeError, match="at least 0"):
    options.non_negative_int("-1")


def test_exposure_lists():
  assert options.exposure_list("0.2, 0.5,,1") == [0.2, 0.5, 1.0]
  assert options.exposure_list("") == []
  for bad, words in [("abc", "abc"), ("0.2,1.5", "1.5"), ("nan", "nan")]:
    with pytest.raises(argparse.ArgumentTypeError, match=words):
      options.exposure_list(bad)
  with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
    options.nonempty_exposure_list(" , ")


def test_choice_list():
  parse = options.choice_list(("halves", "ellipse"), "--local")
  assert parse("halves, ellipse") == ["halves", "ellipse"] and parse("") == []
  with pytest.raises(argparse.ArgumentTypeError, match="--local takes halves,ellipse, got 'x'"):
    parse("halves,x")


def test_parser_errors_are_one_line(capsys):
  p = options.Parser(prog="cudi test")
  p.add_argument("--n", type=options.positive_int)
  with pytest.raises(SystemExit) as exc:
    p.parse_args(["--n", "0"])
  assert exc.value.code == 2
  assert capsys.readouterr().err == "cudi test: error: argument --n: must be at least 1, got 0\n"


def test_output_checks(tmp_path, monkeypatch):
  options.check_output_file("-", "--json")
  options.check_output_file(tmp_path / "new" / "deeper" / "r.json", "--json")
  options.check_output_dir(tmp_path / "new" / "report", "-o")
  a_file = tmp_path / "f"
  a_file.write_text("")
  options.check_output_file(a_file, "--json")  # replacing a file is fine
  with pytest.raises(options.UsageError, match="is a folder"):
    options.check_output_file(tmp_path, "--json")
  with pytest.raises(options.UsageError, match="is a file"):
    options.check_output_file(a_file / "r.json", "--json")
  with pytest.raises(options.UsageError, match="is a file, not a folder"):
    options.check_output_dir(a_file, "-o")
  monkeypatch.setattr(options.os, "access", lambda p, mode: False)
  with pytest.raises(options.UsageError, match="permission denied"):
    options.check_output_dir(tmp_path / "x", "-o")
