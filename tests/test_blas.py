"""BLAS held at one thread while the engine's workers run."""
import numpy as np
import pytest

from cudi_jax.exposure import values
from cudi_jax.runtime import blas
from cudi_jax.runtime import engine
from cudi_jax.runtime.job import Job
from tests import helpers


def test_blas_single_threaded_during_a_run_then_restored():
  params = helpers.random_student_flat(seed=7, std=0.3)
  """threadpoolctl holds BLAS at one thread for the banded section (process-wide), then
  gives the previous count back; overlapping runs share the limit."""
  threadpoolctl = pytest.importorskip("threadpoolctl")

  controller = blas._blas_controller()
  if controller is None:
    pytest.skip("no BLAS library that threadpoolctl can limit, or CUDI_NO_BLAS_LOCAL set")
  # The BLAS NumPy uses (the engine's); another one loaded later by another test's
  # imports (e.g. SciPy's own OpenBLAS) is not the runtime's concern.
  ours = {lib.filepath for lib in controller.lib_controllers}

  def blas_threads():
    return [i["num_threads"] for i in threadpoolctl.threadpool_info()
            if i["user_api"] == "blas" and i["filepath"] in ours]

  with threadpoolctl.threadpool_limits(2, user_api="blas"):
    outside = blas_threads()
    assert max(outside) == 2
    eng = engine.Engine(params, threads=2)
    image = np.zeros((67, 17, 3), np.uint8)
    seen = []
    eng.run(Job(image, values.Constant(0.5), out=np.empty_like(image)), band_rows=4,
            progress=lambda rows: seen.append(blas_threads()))
    assert len(seen) == 5 and all(max(s) == 1 for s in seen)  # 17 low-res rows, 4 a band
    assert eng._mnk is None  # matmuls need no size cap while BLAS is limited
    assert blas_threads() == outside
    with blas.single_threaded_blas() as limited:
      assert limited
      with blas.single_threaded_blas():
        pass
      assert max(blas_threads()) == 1  # the inner run leaving does not lift the limit
    assert blas_threads() == outside
