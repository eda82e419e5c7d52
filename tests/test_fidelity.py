"""Teacher/student fidelity (cudi_jax.eval.fidelity)."""
import numpy as np
import pytest

from cudi_jax.eval import common as eval_common
from cudi_jax.eval import fidelity
from cudi_jax.runtime import api as runtime
from tests import helpers


def test_fidelity_of_identical_models_is_perfect():
  image = np.random.default_rng(0).random((24, 30, 3)).astype(np.float32)
  fn = eval_common.student_function(
      runtime.StudentRuntime(helpers.random_student_flat(std=0.05)))
  res = fidelity.evaluate_fidelity([("x", image)], fn, fn, ["auto", 0.3], progress=False)
  assert len(res["images"]) == 2
  for r in res["images"]:
    assert r["pearson"] == pytest.approx(1.0) and r["mae"] == 0.0 and r["ssim"] == pytest.approx(1.0)
  assert res["summary"][-1]["exposure"] == "all"


def test_fidelity_tangent_fit_columns(tmp_path):
  rng = np.random.default_rng(3)
  image = rng.uniform(0.2, 0.6, (24, 30, 3)).astype(np.float32)
  student = eval_common.student_function(
      runtime.StudentRuntime(helpers.random_student_flat(std=0.05)))
  teacher = lambda img, emap: np.sqrt(img)  # pylint: disable=unnecessary-lambda-assignment
  res = fidelity.evaluate_fidelity([("x", image)], student, teacher, [0.5], progress=False,
                                   tangent_fit=True)
  row = res["images"][0]
  assert row["fit_psnr"] > row["psnr"] and 0 < row["fit_ssim"] <= 1
  assert res["summary"][0]["fit_psnr"] == pytest.approx(row["fit_psnr"])
  plain = fidelity.evaluate_fidelity([("x", image)], student, teacher, [0.5], progress=False)
  assert "fit_psnr" not in plain["images"][0] and "fit_psnr" not in plain["summary"][0]
