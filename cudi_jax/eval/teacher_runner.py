"""The Flax teacher as a model function on NumPy images, in overlapping tiles (JAX).

:func:`load_teacher_runner` takes an exported teacher ``.npz`` or a training
workdir (both through :func:`cudi_jax.train.checkpoints.load_trained`) and returns
a :class:`TeacherRunner`: ``runner(image, exposure_map) -> output`` on float32
(H, W, 3) images in [0, 1] and (H, W) maps.
"""
import jax
import jax.numpy as jnp
import numpy as np

from cudi_jax.exposure import values as exposure_values
from cudi_jax.train import checkpoints
from cudi_jax.train import models


def tile_windows(n, tile, margin):
  """Tiles along one axis: [(window start, window stop, core start, core stop)].

  Every window has the same length ``min(n, tile + 2 * margin)`` (windows at the
  border are shifted inwards instead of padded), so a jitted function compiles
  once; the cores partition [0, n).
  """
  win = tile + 2 * margin
  if n <= win:
    return [(0, n, 0, n)]
  out = []
  start = 0
  while start < n:
    stop = min(start + tile, n)
    ws = min(max(start - margin, 0), n - win)
    out.append((ws, ws + win, start, stop))
    start = stop
  return out


def _run(module, variables, image, emap):
  maps = module.apply(variables, image[None], emap[None, ..., None])
  return jnp.clip(models.teacher_enhance(maps, image[None])[0], 0.0, 1.0)


# One jitted function for all runners (the module is static), so runners of the
# same architecture share compilations.
_run_jit = jax.jit(_run, static_argnums=0)


class TeacherRunner:
  """The Flax teacher as a model function on float32 NumPy images.

  Images larger than ``tile + 2 * margin`` on a side are processed in
  overlapping windows of that size; only each window's central ``tile`` part is
  kept, so seams are limited to what lies beyond ``margin`` pixels of context
  (the teacher's receptive field is wider than that, hence small differences to
  a whole-image pass). ``tile=None`` processes whole images.
  """

  def __init__(self, module, variables, tile=512, margin=64):
    self.module = module
    self.tile = tile
    self.margin = margin
    self.variables = jax.device_put(variables)

  def _apply(self, image, emap):
    return np.asarray(_run_jit(self.module, self.variables, np.ascontiguousarray(image, np.float32),
                               np.ascontiguousarray(emap, np.float32)))

  def enhance(self, image, fed):
    """A float32 (H, W, 3) image and a fed exposure value
    (:mod:`cudi_jax.exposure.values`, e.g. from ``model.resolve_exposure``) -> the
    teacher's output, (H, W, 3) float32."""
    image = np.asarray(image, np.float32)
    emap = exposure_values.full_map(fed, image)
    h, w = image.shape[:2]
    if self.tile is None:
      return self._apply(image, emap)
    out = np.empty_like(image)
    for ys, ye, cys, cye in tile_windows(h, self.tile, self.margin):
      for xs, xe, cxs, cxe in tile_windows(w, self.tile, self.margin):
        res = self._apply(image[ys:ye, xs:xe], emap[ys:ye, xs:xe])
        out[cys:cye, cxs:cxe] = res[cys - ys:cye - ys, cxs - xs:cxe - xs]
    return out

  __call__ = enhance


def load_teacher_runner(path, tile=512, margin=64):
  """A :class:`TeacherRunner` for an exported teacher .npz or a teacher training workdir."""
  trained = checkpoints.load_trained(path, kind="teacher")
  return TeacherRunner(trained.model, {"params": trained.params}, tile=tile, margin=margin)
