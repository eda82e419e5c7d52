"""NumPy-only CuDi runtime: exposure map -> student at 1/4 resolution -> K, B
upsampled x4 -> ``clip(K * I + B, 0, 1)``.

Imports nothing but NumPy (and Pillow lazily for files): it works where JAX is
not installed.
"""
import numpy as np

from cudi_jax import exposure as exposure_lib
from cudi_jax import student_math


class StudentRuntime:
  """A trained student held as float32 NumPy arrays.

  params: flat dict ``conv{i}/{dw_kernel,dw_bias,pw_kernel,pw_bias}`` (see
  :func:`cudi_jax.student_math.student_param_shapes`); metadata: free-form dict.
  """

  def __init__(self, params, metadata=None):
    self.params = {k: np.ascontiguousarray(v, np.float32) for k, v in params.items()}
    self.metadata = dict(metadata or {})
    self.width = self.params["conv1/pw_kernel"].shape[-1]
    expected = student_math.student_param_shapes(self.width)
    if set(expected) != set(self.params):
      missing = sorted(set(expected) - set(self.params))
      extra = sorted(set(self.params) - set(expected))
      raise ValueError(f"student parameters do not match the architecture "
                       f"(missing {missing}, unexpected {extra})")
    for name, shape in expected.items():
      if self.params[name].shape != shape:
        raise ValueError(f"parameter {name} has shape {self.params[name].shape}, expected {shape}")

  def maps(self, image, exposure_map):
    """Slope and intercept maps for a float image.

    image: (H, W, 3) float in [0, 1]; exposure_map: (H, W) in [0, 1].
    Returns K, B: (H, W, 3) float32 each.
    """
    image = np.asarray(image, np.float32)
    e = np.asarray(exposure_map, np.float32)[..., None]
    return student_math.student_maps(self.params, image, e, np)

  def enhance_float(self, image, exposure_map):
    """(H, W, 3) float32 in [0, 1] and an (H, W) map -> enhanced (H, W, 3) float32."""
    image = np.asarray(image, np.float32)
    k, b = self.maps(image, exposure_map)
    return student_math.tangent_apply(k, b, image, np)
