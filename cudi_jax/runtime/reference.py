"""The straightforward student (``student_math`` with ``xp=numpy`` on whole float32
arrays): the benchmark baseline and the test oracle of the banded engine."""
import numpy as np

from cudi_jax import student_math
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values


def reference_enhance(params, image, exposure="auto", rules=resolve_lib.DEFAULT_RULES,
                      color="natural", cell=4):
  """uint8/uint16 RGB or float image -> enhanced, the same dtype. ``exposure``: a
  setting or a fed value; ``rules``: the export's (``model.rules``); ``color``: as for
  :meth:`cudi_jax.runtime.api.StudentRuntime.enhance`; ``cell``: the cell size the
  network runs at (a fed value's cells are then of that size; settings resolve on 4x4
  cells, so other sizes take fed values)."""
  maxval = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
  x = image.astype(np.float32)
  if maxval != 1.0:
    x = x / np.float32(maxval)
  if cell != 4 and not values.is_fed(exposure):
    raise ValueError("a cell size other than 4 takes a fed exposure value")
  fed = rules.resolve_image(exposure, x)
  tempered = ((fed.weights, fed.gain, fed.ceiling) if isinstance(fed, values.Tempered)
              else None)
  e = values.full_map(fed, x, cell)
  k, b = student_math.student_maps(params, x, e[..., None], np, color=color, tempered=tempered,
                                   cell=cell)
  out = student_math.tangent_apply(k, b, x, np)
  if maxval == 1.0:
    return out.astype(image.dtype)
  return np.floor(out * np.float32(maxval) + np.float32(0.5)).astype(image.dtype)
