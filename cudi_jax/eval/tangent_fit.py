"""The best quarter-resolution tangent line for a target image (NumPy only).

:func:`tangent_line_fit` finds, by least squares (preconditioned conjugate
gradients), the K, B maps at 1/4 resolution that, bilinearly upsampled x4 as the
student's are, bring ``K * I + B`` closest to a teacher output: the ceiling of any
student of this design (``cudi evaluate fidelity --tangent-fit``).
"""
import numpy as np

from cudi_jax import student_math


def _upsample4_adjoint_axis(g, axis, n):
  """Adjoint of :func:`student_math.upsample4_axis` (n cells -> 4n pixels along ``axis``)."""
  g = np.moveaxis(g, axis, 0)
  g = g.reshape((n, student_math.SCALE) + g.shape[1:])
  acc = np.zeros((n + 2,) + g.shape[2:], g.dtype)
  for j, (w_nb, w_self, offset) in enumerate(student_math.UPSAMPLE_PHASES):
    acc[1:n + 1] += w_self * g[:, j]
    if offset < 0:
      acc[0:n] += w_nb * g[:, j]
    else:
      acc[2:n + 2] += w_nb * g[:, j]
  acc[1] += acc[0]        # the clamped border: padding repeats the edge cells
  acc[n] += acc[n + 1]
  return np.moveaxis(acc[1:n + 1], 0, axis)


def _upsample4_adjoint(g, cells):
  """Adjoint of ``upsample4(x, np, size=g.shape[:2])`` for x of ``cells = (hq, wq)``."""
  hq, wq = cells
  h, w = g.shape[:2]
  full = np.zeros((4 * hq, 4 * wq) + g.shape[2:], g.dtype)
  full[:h, :w] = g
  return _upsample4_adjoint_axis(_upsample4_adjoint_axis(full, 1, wq), 0, hq)


def _upsample4_squared_adjoint(v, cells):
  """``sum_pixels U[pixel, cell]^2 * v[pixel]`` for the x4 upsampling matrix U of
  ``cells = (hq, wq)`` cropped to ``v.shape[:2]``: the diagonal of the normal equations."""
  h, w = v.shape[:2]
  rows = student_math.upsample4_axis(np.eye(cells[0]), 0, np)[:h] ** 2   # (h, hq)
  cols = student_math.upsample4_axis(np.eye(cells[1]), 0, np)[:w] ** 2   # (w, wq)
  return np.einsum("yi,yxc,xj->ijc", rows, v, cols, optimize=True)


def tangent_line_fit(image, target, iterations=30, tol=1e-4, ridge=1e-6):
  """The best tangent-line approximation of ``target``: quarter-resolution slope and
  intercept maps (K, B), upsampled x4 exactly as the student's, fitted by least
  squares so that ``K * image + B`` matches ``target`` (Jacobi-preconditioned
  conjugate gradients on the normal equations, a tiny ridge towards K = 1, B = 0 for
  cells the image leaves undetermined). Returns ``clip(K * image + B, 0, 1)``.

  This is what the student's representation can reach whatever its network: when a
  student's PSNR to its teacher is far below this fit's, the network (its size or its
  training), not the tangent line at 1/4 resolution, is the limit. NumPy only.
  image, target: (H, W, 3) float in [0, 1].
  """
  image = np.asarray(image, np.float32)
  target = np.asarray(target, np.float32)
  if image.shape != target.shape or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"image and target must both be (H, W, 3), got {image.shape} and {target.shape}")
  h, w = image.shape[:2]
  hp, wp = student_math.padded_size(h, w)
  cells = (hp // 4, wp // 4)

  def forward(p):
    up = student_math.upsample4(p, np, (h, w))
    return up[..., :3] * image + up[..., 3:]

  def adjoint(r):
    return _upsample4_adjoint(np.concatenate([r * image, r], -1), cells)

  def normal(p):
    return adjoint(forward(p)) + ridge * p

  def dot(a, b):
    return float(np.dot(a.ravel().astype(np.float64), b.ravel().astype(np.float64)))

  prior = np.concatenate([np.ones(cells + (3,), np.float32), np.zeros(cells + (3,), np.float32)], -1)
  diag = (_upsample4_squared_adjoint(np.concatenate([image * image, np.ones_like(image)], -1),
                                     cells) + ridge).astype(np.float32)
  ridge = np.float32(ridge)
  p = prior.copy()
  r = adjoint(target) + ridge * prior - normal(p)
  z = r / diag
  d = z.copy()
  rz = dot(r, z)
  stop = tol * tol * max(dot(r, r), 1e-30)
  for _ in range(int(iterations)):
    if dot(r, r) <= stop:
      break
    q = normal(d)
    alpha = np.float32(rz / dot(d, q))
    p += alpha * d
    r -= alpha * q
    z = r / diag
    rz_new = dot(r, z)
    d = z + np.float32(rz_new / rz) * d
    rz = rz_new
  return np.clip(forward(p), 0.0, 1.0).astype(np.float32)
