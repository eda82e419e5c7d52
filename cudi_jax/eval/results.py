"""Results of ``cudi evaluate``: summaries over images, and the JSON / CSV / terminal
table writers.

Files are written atomically (:func:`cudi_jax.io.atomic.atomic_write`): a failed
write (a full disk) leaves an existing results file as it was, never half-written.
"""
import csv
import io
import json
import math
import sys

import numpy as np

from cudi_jax.eval.common import EvaluationError
from cudi_jax.io import atomic
from cudi_jax.io.errors import ImageIOError
from cudi_jax.jsonutil import json_safe


def mean(values):
  """Mean of the finite values (None and NaN left out); NaN when none is left."""
  vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
  return float(np.mean(vals)) if vals else float("nan")


def summarise(rows, keys, values):
  """One row per group of ``rows`` with equal ``keys`` (in order of appearance):
  the keys, ``count`` and the mean of each of ``values`` over the group's finite
  values (an all-infinite PSNR stays inf)."""
  groups = {}
  for r in rows:
    groups.setdefault(tuple(r[k] for k in keys), []).append(r)
  out = []
  for key, group in groups.items():
    s = dict(zip(keys, key))
    s["count"] = len(group)
    for v in values:
      finite = [r[v] for r in group if r.get(v) is not None and math.isfinite(r[v])]
      s[v] = float(np.mean(finite)) if finite else (float("inf") if group and v == "psnr" else float("nan"))
    out.append(s)
  return out


# --------------------------------------------------------------------------- writers


def _write_text(path, text):
  if str(path) == "-":
    sys.stdout.write(text)
    return
  try:
    atomic.atomic_write(path, text.encode("utf-8"))
  except ImageIOError as err:
    raise EvaluationError(f"cannot write {path}: {str(err).removeprefix('cannot write: ')}") \
        from None


def write_json(path, result):
  """All results as JSON (non-finite numbers as null); '-': stdout."""
  _write_text(path, json.dumps(json_safe(result, nonfinite=lambda v: None), indent=2) + "\n")


def write_csv(path, rows):
  """Per-image rows as CSV (the union of all keys, in first-seen order); '-': stdout."""
  fields = []
  for r in rows:
    fields.extend(k for k in r if k not in fields)
  buf = io.StringIO(newline="")
  writer = csv.DictWriter(buf, fieldnames=fields)
  writer.writeheader()
  for r in rows:
    writer.writerow({k: _fmt_csv(r.get(k)) for k in fields})
  _write_text(path, buf.getvalue())


def _fmt_csv(v):
  if v is None:
    return ""
  if isinstance(v, float):
    return f"{v:.6g}"
  return v


def format_table(rows, columns):
  """A plain-text table of ``rows`` (dicts) for the terminal."""
  def cell(v):
    if v is None:
      return "-"
    if isinstance(v, float):
      return "nan" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.4f}")
    return str(v)
  table = [[c for c in columns]] + [[cell(r.get(c)) for c in columns] for r in rows]
  widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
  lines = ["  ".join(v.rjust(widths[i]) if i else v.ljust(widths[i]) for i, v in enumerate(row))
           for row in table]
  lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)
