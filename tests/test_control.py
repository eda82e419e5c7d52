"""Exposure-control evaluation (cudi_jax.eval.control)."""
import numpy as np
import pytest

from cudi_jax.eval import common as eval_common
from cudi_jax.eval import control
from cudi_jax.eval.common import EvaluationError
from cudi_jax.exposure import presets as presets_lib
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values as exposure_values
from tests import helpers


def test_exposure_control_error_is_zero_for_grey_fake_model():
  image = np.random.default_rng(0).random((40, 56, 3)).astype(np.float32)
  res = control.evaluate_exposure([("x", image)], {"fake": helpers.grey_model}, progress=False,
                                   named=())
  const = [r for r in res["images"] if r["map"] == "constant"]
  assert [r["target"] for r in const] == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
  for r in res["images"]:
    # The network sees a map per 4x4 cell: an ellipse's edge cells are blends.
    assert r["abs_error"] == pytest.approx(0.0, abs=1e-6 if r["map"] != "ellipse" else 0.05)
    if r["region"] != "contrast" and r["map"] != "ellipse":
      assert np.isnan(r["cell_error"]) or r["cell_error"] == pytest.approx(0.0, abs=1e-6)
  overall = res["overall"][0]
  assert overall["constant_cell_error"] == pytest.approx(0.0, abs=1e-6)
  assert overall["local_contrast_ratio"] == pytest.approx(1.0, abs=0.1)
  regions = {(r["map"], r["region"]) for r in res["images"]}
  assert {("halves", "left"), ("halves", "right"), ("ellipse", "inside"), ("ellipse", "outside"),
          ("halves", "contrast")} <= regions


def test_exposure_control_error_of_identity_model():
  image = np.full((32, 32, 3), 0.25, np.float32)
  res = control.evaluate_exposure([("x", image)], {"id": lambda i, e: i}, targets=(0.25, 0.75),
                                   local_maps=(), progress=False, named=())
  errs = [r["cell_error"] for r in res["images"]]
  assert errs == pytest.approx([0.0, 0.5])
  assert [r["black_lift"] for r in res["images"]] == [0.0, 0.0]
  # A grey output lifts black: the darkest values of an image go from 0 to E.
  image = np.zeros((32, 32, 3), np.float32)
  image[:16] = 0.5
  res = control.evaluate_exposure([("x", image)], {"grey": helpers.grey_model}, targets=(0.4,),
                                   local_maps=(), progress=False, named=())
  assert res["images"][0]["black_lift"] == pytest.approx(0.4)
  assert res["overall"][0]["constant_black_lift"] == pytest.approx(0.4)


def test_exposure_named_settings_rows():
  """auto / under / over: mean brightness against what the name promises, black lift."""
  rng = np.random.default_rng(4)
  image = (rng.random((40, 56, 3)) * 0.3).astype(np.float32)
  rules = resolve_lib.ExposureRules(presets_lib.Presets(under=0.6, over=0.3, auto_target=0.45))
  res = control.evaluate_exposure([("x", image)], {"grey": helpers.grey_model}, targets=(),
                                   local_maps=(), progress=False, rules=rules)
  rows = {r["map"]: r for r in res["images"]}
  assert set(rows) == {"auto", "under", "over"}
  assert rows["under"]["target"] == pytest.approx(0.6) and rows["over"]["target"] == pytest.approx(0.3)
  assert rows["under"]["mean"] == pytest.approx(0.6) and rows["under"]["abs_error"] < 1e-6
  assert rows["over"]["black_lift"] == pytest.approx(0.3 - np.percentile(image.mean(-1), 1),
                                                     abs=1e-6)
  auto_map = exposure_values.full_map(eval_common.resolve_exposure("auto", image, rules), image)
  assert rows["auto"]["target"] == pytest.approx(0.45)
  assert rows["auto"]["mean"] == pytest.approx(float(auto_map.mean()), abs=1e-6)
  assert rows["auto"]["abs_error"] == pytest.approx(abs(float(auto_map.mean()) - 0.45), abs=1e-6)
  assert all(np.isnan(r["cell_error"]) for r in rows.values())
  # A grey output of a colour photo: its blue/green ratio over the input's.
  ratio = (image[..., 2].mean() + 1e-3) / (image[..., 1].mean() + 1e-3)
  assert rows["under"]["blue_shift"] == pytest.approx(1.0 / ratio, rel=1e-6)
  with pytest.raises(EvaluationError):
    control.evaluate_exposure([("x", image)], {"grey": helpers.grey_model}, targets=(), local_maps=(),
                               progress=False, named=("adaptive",))
