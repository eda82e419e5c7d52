"""JSON-safe copies (:mod:`cudi_jax.jsonutil`): export metadata and evaluation results."""
import json
import math

import numpy as np

from cudi_jax.jsonutil import json_safe


class WithDict:
  def to_dict(self):
    return {"a": np.float32(0.5)}


def test_json_safe_values():
  value = {"i": np.int64(3), "f": np.float32(0.25), "b": np.bool_(True), "t": (1, 2.5),
           "s": {4}, "small": np.arange(3), "big": np.zeros((9, 9)), "obj": WithDict(),
           "type": object, 7: None}
  out = json_safe(value)
  json.dumps(out, allow_nan=False)
  assert out["i"] == 3 and out["f"] == 0.25 and out["b"] is True and out["t"] == [1, 2.5]
  assert out["s"] == [4] and out["small"] == [0, 1, 2] and out["big"] == "array(9, 9)"
  assert out["obj"] == {"a": 0.5} and out["7"] is None and isinstance(out["type"], str)
  deep = {}
  node = deep
  for _ in range(12):
    node["x"] = {}
    node = node["x"]
  assert "x" in json.dumps(json_safe(deep))


def test_json_safe_nonfinite():
  value = {"nan": float("nan"), "inf": np.float64(math.inf), "list": [-math.inf, 1.0]}
  assert json_safe(value) == {"nan": "nan", "inf": "inf", "list": ["-inf", 1.0]}
  assert json_safe(value, nonfinite=lambda v: None) == {"nan": None, "inf": None,
                                                        "list": [None, 1.0]}
