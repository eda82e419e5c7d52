"""Reading a training run's ``metrics.jsonl`` (one JSON record per line, each with a
``step``), as written by the trainers; used by ``cudi report`` and the training tools.

Lines that are not such a record are skipped: the last line when it has no newline
yet (a record being written) silently, any other odd line (not JSON, not an object,
no finite numeric ``step``, bytes that are not UTF-8) with one warning per file.
"""
import json
import math


def _step(record):
  step = record.get("step") if isinstance(record, dict) else None
  if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
    return None
  return step


def read_metrics(path, warn=None):
  """The records of a ``metrics.jsonl`` file, sorted by step.

  warn: called with one line (naming the file, how many lines were skipped and the
  first of them) when odd lines were skipped; None: skipped quietly.
  """
  records, odd = [], []
  with open(path, "rb") as f:
    lines = f.read().split(b"\n")
  last = len(lines) - 1  # after the final newline: '' (complete) or a partial record
  for number, raw in enumerate(lines, 1):
    if not raw.strip():
      continue
    try:
      rec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
      if number - 1 != last:  # the unterminated last line is a record being written
        odd.append(number)
      continue
    if _step(rec) is None:
      odd.append(number)
      continue
    records.append(rec)
  records.sort(key=_step)
  if odd and warn is not None:
    warn(f"{path}: skipped {len(odd)} line{'s' if len(odd) > 1 else ''} that "
         f"{'are' if len(odd) > 1 else 'is'} not a metrics record (line {odd[0]}"
         f"{' ...' if len(odd) > 1 else ''})")
  return records
