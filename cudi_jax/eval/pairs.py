"""Input/reference pairs for ``cudi evaluate paired``: matched by file stem, or listed
in a CSV of pairs (as ``sice_part1_pairs.csv``)."""
import csv
import io
import pathlib

from cudi_jax.eval import common as eval_common
from cudi_jax.eval.common import EvaluationError


class Pair(tuple):
  """(name, input path, reference path) with optional ``kind`` and ``split`` labels."""

  def __new__(cls, name, input_path, reference_path, kind=None, split=None):
    obj = super().__new__(cls, (name, input_path, reference_path))
    obj.kind, obj.split = kind, split
    return obj


def match_pairs(inputs, references, pairs_csv=None, split=None):
  """[Pair(name, input path, reference path)] by file stem, or from a CSV of pairs.

  The CSV has columns input, reference (a header row naming them, or the first two
  columns without a header) and optionally kind (e.g. under / over) and split (e.g.
  train / val), as in ``sice_part1_pairs.csv``; paths are relative to the ``inputs``
  / ``references`` folders (or to the CSV's folder, or absolute). ``split`` keeps
  the rows of that split only (the CSV must then have a split column).
  """
  inputs = pathlib.Path(inputs)
  references = pathlib.Path(references) if references is not None else None
  if pairs_csv is None:
    if split:
      raise EvaluationError("--split needs a --pairs CSV with a split column")
    ins = {p.stem: p for p in eval_common.expand_image_paths(inputs)}
    refs = {p.stem: p for p in eval_common.expand_image_paths(references)}
    common = sorted(set(ins) & set(refs))
    return [Pair(name, ins[name], refs[name]) for name in common]
  pairs_csv = pathlib.Path(pairs_csv)
  rows = read_csv_rows(pairs_csv)
  rows = [r for r in rows if any(r) and not r[0].startswith("#")]
  header = [c.lower() for c in rows[0]] if rows else []
  if "input" in header and "reference" in header:
    col = {name: header.index(name) for name in ("input", "reference", "kind", "split")
           if name in header}
    rows = rows[1:]
  else:
    col = {"input": 0, "reference": 1}
  if split and "split" not in col:
    raise EvaluationError(f"{pairs_csv}: --split {split} needs a 'split' column")
  out = []
  for row in rows:
    if len(row) <= max(col["input"], col["reference"]) or not row[col["input"]] \
        or not row[col["reference"]]:
      raise EvaluationError(f"{pairs_csv}: each row needs an input and a reference, got {row}")
    get = lambda name: row[col[name]] if name in col and col[name] < len(row) else None  # noqa: E731
    if split and get("split") != split:
      continue
    a = _resolve(get("input"), [inputs, pairs_csv.parent])
    b = _resolve(get("reference"), [references, pairs_csv.parent] if references
                 else [inputs, pairs_csv.parent])
    if a is None or b is None:
      raise EvaluationError(f"{pairs_csv}: cannot find {get('input') if a is None else get('reference')}")
    out.append(Pair(a.stem, a, b, kind=get("kind"), split=get("split")))
  return out


def read_csv_rows(path):
  """The rows of a UTF-8 CSV file (a byte-order mark is allowed), cells stripped.

  Raises :class:`EvaluationError` (one line, naming the file) for a file that is not
  UTF-8 text or not CSV (e.g. a field over the csv module's 128 KiB limit)."""
  path = pathlib.Path(path)
  try:
    data = path.read_bytes()
  except IsADirectoryError:
    raise EvaluationError(f"{path}: is a folder, not a CSV file") from None
  except OSError as err:
    raise EvaluationError(f"cannot read {path}: {err.strerror or err}") from None
  try:
    text = data.decode("utf-8-sig")
  except UnicodeDecodeError as err:
    raise EvaluationError(f"{path}: not UTF-8 text (byte {err.start}); save the CSV as UTF-8") \
        from None
  reader = csv.reader(io.StringIO(text, newline=""))
  try:
    return [[c.strip() for c in row] for row in reader]
  except csv.Error as err:
    raise EvaluationError(f"{path}: not a CSV of pairs (line {reader.line_num}: {err})") from None


def _resolve(name, folders):
  p = pathlib.Path(name)
  if p.is_absolute():
    return p if p.exists() else None
  for folder in folders:
    if folder is not None and (folder / p).exists():
      return folder / p
  return None
