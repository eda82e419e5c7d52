"""The best tangent-line fit of a teacher output (cudi_jax.eval.tangent_fit)."""
import numpy as np
import pytest

from cudi_jax.eval import metrics
from cudi_jax.eval import tangent_fit


@pytest.mark.parametrize("h, w", [(16, 20), (18, 23), (5, 3)])
def test_upsample_adjoint_is_the_transpose(h, w):
  from cudi_jax import student_math
  rng = np.random.default_rng(1)
  hq, wq = -(-h // 4), -(-w // 4)
  x = rng.standard_normal((hq, wq, 2))
  g = rng.standard_normal((h, w, 2))
  lhs = np.sum(student_math.upsample4(x, np, (h, w)) * g)
  np.testing.assert_allclose(np.sum(x * tangent_fit._upsample4_adjoint(g, (hq, wq))), lhs, rtol=1e-10)
  # squared: the column sums of the squared upsampling matrix, built column by column
  expected = np.zeros((hq, wq))
  for i in range(hq):
    for j in range(wq):
      e = np.zeros((hq, wq, 1))
      e[i, j] = 1.0
      expected[i, j] = np.sum(student_math.upsample4(e, np, (h, w)) ** 2)
  got = tangent_fit._upsample4_squared_adjoint(np.ones((h, w, 1)), (hq, wq))[..., 0]
  np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_tangent_line_fit_recovers_a_tangent_line_output():
  from cudi_jax import student_math
  rng = np.random.default_rng(2)
  h, w = 37, 50
  image = rng.uniform(0.05, 0.45, (h, w, 3)).astype(np.float32)
  cells = (-(-h // 4), -(-w // 4), 3)
  k = student_math.upsample4(rng.uniform(0.8, 1.6, cells), np, (h, w))
  b = student_math.upsample4(rng.uniform(0.0, 0.2, cells), np, (h, w))
  target = (k * image + b).astype(np.float32)
  assert 0 <= target.min() and target.max() <= 1
  assert metrics.psnr(tangent_fit.tangent_line_fit(image, target, iterations=200, tol=1e-7),
                      target) > 60
  # a target no tangent line at 1/4 resolution can follow: a per-pixel curve on noise
  bent = np.sqrt(image).astype(np.float32)
  fit = tangent_fit.tangent_line_fit(image, bent)
  assert 25 < metrics.psnr(fit, bent) < 60
  with pytest.raises(ValueError):
    tangent_fit.tangent_line_fit(image, bent[:-1])
