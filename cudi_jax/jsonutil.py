"""JSON-serialisable copies of config-like values and results (NumPy only)."""
import math

import numpy as np


def json_safe(value, nonfinite=str, depth=0):
  """A JSON-serialisable copy of ``value``: NumPy scalars and small arrays become Python
  numbers and lists, mappings dicts with string keys, tuples and sets lists, objects
  with ``to_dict()`` their dict, anything else its ``str``; beyond 8 levels of nesting
  the rest is a string. ``nonfinite`` maps NaN and infinities: ``str`` ('nan', 'inf':
  kept visible, as in export metadata) or e.g. ``lambda v: None`` (JSON null, as in
  evaluation results)."""
  if depth > 8:
    return str(value)
  if value is None or isinstance(value, (bool, str)):
    return value
  if isinstance(value, np.bool_):
    return bool(value)
  if isinstance(value, (int, np.integer)):
    return int(value)
  if isinstance(value, (float, np.floating)):
    value = float(value)
    return value if math.isfinite(value) else nonfinite(value)
  if isinstance(value, np.ndarray):
    return (json_safe(value.tolist(), nonfinite, depth + 1) if value.size <= 64
            else f"array{value.shape}")
  if hasattr(value, "items"):
    try:
      items = list(value.items())
    except Exception:  # pylint: disable=broad-except
      return str(value)
    return {str(k): json_safe(v, nonfinite, depth + 1) for k, v in items}
  if isinstance(value, (list, tuple, set, frozenset)):
    return [json_safe(v, nonfinite, depth + 1) for v in value]
  if hasattr(value, "to_dict"):
    try:
      return json_safe(value.to_dict(), nonfinite, depth + 1)
    except Exception:  # pylint: disable=broad-except
      pass
  return str(value)
