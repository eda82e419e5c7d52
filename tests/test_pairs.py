"""Input/reference pairs (cudi_jax.eval.pairs): by name, or from a CSV of pairs."""
import pytest

from cudi_jax.eval import pairs as pairs_lib
from cudi_jax.eval.common import EvaluationError


def test_pairs_by_file_stem(photos):
  ins, refs = photos
  pairs = pairs_lib.match_pairs(ins, refs)
  assert [p[0] for p in pairs] == ["p0", "p1", "p2"]
  assert pairs[1][1] == ins / "p1.png" and pairs[1][2] == refs / "p1.jpg"
  assert pairs[0].kind is None and pairs[0].split is None


def test_pairs_csv_with_kind_and_split(photos, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "pairs.csv"
  pairs_csv.write_text("input,reference,kind,scene,split\n"
                       "p0.png,p0.png,under,0-1,train\n"
                       "# a comment\n"
                       "p1.png,p1.jpg,under,1-2,val\n"
                       "p2.png,p2.jpg,over,2-3,val\n")
  pairs = pairs_lib.match_pairs(ins, refs, pairs_csv, split="val")
  assert [(p[0], p.kind, p.split) for p in pairs] == [("p1", "under", "val"), ("p2", "over", "val")]
  with pytest.raises(EvaluationError, match="split"):
    pairs_lib.match_pairs(ins, refs, split="val")
  headerless = tmp_path / "plain.csv"
  headerless.write_text("p1.png,p1.jpg\n")
  assert [p[0] for p in pairs_lib.match_pairs(ins, refs, headerless)] == ["p1"]
  with pytest.raises(EvaluationError, match="needs a 'split' column"):
    pairs_lib.match_pairs(ins, refs, headerless, split="val")
  missing = tmp_path / "missing.csv"
  missing.write_text("input,reference\nnope.png,p1.jpg\n")
  with pytest.raises(EvaluationError, match="cannot find nope.png"):
    pairs_lib.match_pairs(ins, refs, missing)


def test_pairs_csv_with_a_byte_order_mark(photos, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "bom.csv"
  pairs_csv.write_bytes(b"\xef\xbb\xbfinput,reference,kind\r\np1.png,p1.jpg,under\r\n")
  pairs = pairs_lib.match_pairs(ins, refs, pairs_csv)
  assert [(p[0], p.kind) for p in pairs] == [("p1", "under")]


def test_pairs_csv_not_utf8_is_one_line_naming_the_file(photos, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "latin1.csv"
  pairs_csv.write_bytes("input,reference\np1.png,caf\u00e9.jpg\n".encode("latin-1"))
  with pytest.raises(EvaluationError) as exc:
    pairs_lib.match_pairs(ins, refs, pairs_csv)
  assert str(exc.value) == f"{pairs_csv}: not UTF-8 text (byte 26); save the CSV as UTF-8"


def test_pairs_csv_with_a_huge_field_is_one_line(photos, tmp_path):
  ins, refs = photos
  pairs_csv = tmp_path / "huge.csv"
  pairs_csv.write_text("input,reference\np1.png,p1.jpg\n\"" + "x" * 200_000 + "\",p2.jpg\n")
  with pytest.raises(EvaluationError) as exc:
    pairs_lib.match_pairs(ins, refs, pairs_csv)
  message = str(exc.value)
  assert message.startswith(f"{pairs_csv}: not a CSV of pairs (line 3") and "\n" not in message
  assert "field larger than field limit" in message
  with pytest.raises(EvaluationError, match="is a folder"):
    pairs_lib.match_pairs(ins, refs, tmp_path)
