"""Batched JAX inference with exported (or in-memory) student weights, and the
export check that the JAX model and the NumPy runtime agree.

    from cudi_jax.train.jax_enhance import make_jax_enhancer
    enhance = make_jax_enhancer("student.npz")          # or a params dict
    out = enhance(images, exposure_maps)                 # (B,H,W,3), (B,H,W,1) -> (B,H,W,3)

Needs JAX and Flax (the ``[train]`` extra); :mod:`cudi_jax.runtime` does not.
"""
import os

import jax
import jax.numpy as jnp
import numpy as np

from cudi_jax import demo
from cudi_jax.exposure import values as exposure_values
from cudi_jax import student_math
from cudi_jax import weights
from cudi_jax.errors import CudiError
from cudi_jax.runtime import api as runtime
from cudi_jax.train import models

#: Tolerance of :func:`verify_export` on K, B and the float image.
VERIFY_TOLERANCE = 1e-5


class VerificationError(CudiError, AssertionError):
  """The JAX model and the NumPy runtime disagree on an export."""


def load_params(npz_or_params):
  """(flat float32 NumPy params, metadata) from a path, an Export, or a params dict
  (nested Flax 'params' collection, a whole variables dict, or flat '/'-joined)."""
  if isinstance(npz_or_params, (str, os.PathLike)):
    export = weights.load_export(npz_or_params, kind="student")
    return export.params, export.metadata
  if isinstance(npz_or_params, weights.Export):
    return npz_or_params.params, npz_or_params.metadata
  params = student_math.flatten_params(npz_or_params)
  return {k: np.asarray(v, np.float32) for k, v in params.items()}, {}


def make_student(npz_or_params, depthwise_impl="auto", color="network"):
  """(models.Student module, Flax variables) for the weights."""
  flat, _ = load_params(npz_or_params)
  width = int(flat["conv1/pw_kernel"].shape[-1])
  model = models.build("student", {"width": width, "depthwise_impl": depthwise_impl})
  model = model.clone(color=student_math.check_color(color))
  variables = {"params": jax.tree.map(jnp.asarray, student_math.unflatten_params(flat))}
  return model, variables


def make_jax_enhancer(npz_or_params, depthwise_impl="auto", return_maps=False, color="natural"):
  """A jitted ``fn(images, exposure_maps)`` for batched GPU/TPU/CPU inference.

  images: (B, H, W, 3) float in [0, 1]; exposure_maps: (B, H, W, 1) or (B, H, W) in
  [0, 1]. Returns the enhanced (B, H, W, 3) float32 images, or ``(out, K, B)`` with
  ``return_maps=True``. The weights are the same arrays the NumPy runtime uses
  (an exported ``.npz`` or a params dict); ``depthwise_impl='auto'`` picks the grouped
  convolution on GPU/TPU and shifted products on CPU. ``color``: as for the NumPy
  runtime's ``enhance`` ('natural' by default). Compiles once per input shape.
  """
  model, variables = make_student(npz_or_params, depthwise_impl, color)

  @jax.jit
  def enhance(images, exposure_maps):
    images = jnp.asarray(images, jnp.float32)
    exposure_maps = jnp.asarray(exposure_maps, jnp.float32)
    if exposure_maps.ndim == images.ndim - 1:
      exposure_maps = exposure_maps[..., None]
    k, b = model.apply(variables, images, exposure_maps)
    out = student_math.tangent_apply(k, b, images, jnp)
    if return_maps:
      return out, k, b
    return out

  return enhance


# --------------------------------------------------------------------------- verification


def sample_inputs(seed=0):
  """(name, uint8 RGB image, exposure) pairs used by :func:`verify_export`: random
  images (odd sizes) with constant, preset, adaptive and random-map exposures, and the
  package's sample photo (a real photo) when present."""
  rng = np.random.default_rng(seed)
  samples = []
  noise = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
  smooth = (np.linspace(0, 1, 61)[:, None, None] * np.linspace(0.2, 1, 50)[None, :, None]
            * np.array([1.0, 0.8, 0.6]) * 255).astype(np.uint8)
  samples.append(("random 37x53, E=0.55", noise, 0.55))
  samples.append(("random 37x53, random map", noise, rng.random((37, 53)).astype(np.float32)))
  samples.append(("gradient 61x50, adaptive", smooth, "adaptive"))
  samples.append(("gradient 61x50, over", smooth, "over"))
  try:
    photo = demo.sample_photo()
  except (OSError, ValueError):
    photo = None
  if photo is not None:
    samples.append(("sample photo, auto", photo, "auto"))
    samples.append(("sample photo, adaptive", photo, "adaptive"))
  return samples


def verify_export(npz_or_params, samples=None, tolerance=VERIFY_TOLERANCE, depthwise_impl="auto"):
  """Runs the JAX student and the NumPy runtime on the samples; raises
  :class:`VerificationError` if K or B differ by more than ``tolerance`` relative to
  max(1, |value|), the float image by more than ``tolerance``, or a uint8 output by more
  than half a level (+ tolerance). Returns a list of ``(name, max |dK| / max(1, |K|),
  max |dB| / max(1, |B|), max |d image|, max |d uint8|)``."""
  flat, metadata = load_params(npz_or_params)
  numpy_model = runtime.StudentRuntime(flat, metadata)
  # K and B as the network predicts them; the images also with the runtime's default
  # colour handling (natural), whose gain-dependent blend would magnify float32
  # rounding of K and B if the blended maps were compared.
  enhance = make_jax_enhancer(flat, depthwise_impl=depthwise_impl, return_maps=True,
                              color="network")
  natural = make_jax_enhancer(flat, depthwise_impl=depthwise_impl, color="natural")
  rows, failures = [], []
  for name, image, exposure in samples or sample_inputs():
    x = image.astype(np.float32) / np.float32(255)
    fed = numpy_model.resolve_exposure(image, exposure)
    if isinstance(fed, exposure_values.Tempered):
      # auto's tempering and night ceiling are steps of the runtime after the network
      # (checked against the reference math by the runtime's tests).
      fed = fed.fed
    e = exposure_values.full_map(fed, x)
    # Full float32 convolutions: GPUs default to TF32, ~1e-3 relative.
    with jax.default_matmul_precision("highest"):
      out_j, k_j, b_j = (np.asarray(a[0]) for a in enhance(x[None], e[None, ..., None]))
      nat_j = np.asarray(natural(x[None], e[None, ..., None])[0])
    out_n, k_n, b_n = numpy_model.enhance(x, fed, return_maps=True, color="network")
    nat_n = numpy_model.enhance(x, fed)
    out_8 = numpy_model.enhance(image, fed)
    # The exposure map as the whole-image statistics resolve it, too.
    e_ref = exposure_values.full_map(numpy_model.rules.resolve_image(exposure, x), x)
    d_e = float(np.max(np.abs(e_ref - e)))
    # Slopes reach 10 or more on dark pixels, where float32 differences in summation
    # order are relative: K and B are compared relative to max(1, |value|).
    d_k = float(np.max(np.abs(k_j - k_n) / np.maximum(1.0, np.abs(k_j))))
    d_b = float(np.max(np.abs(b_j - b_n) / np.maximum(1.0, np.abs(b_j))))
    d_o = max(float(np.max(np.abs(out_j - out_n))), float(np.max(np.abs(nat_j - nat_n))))
    d_8 = float(np.max(np.abs(out_8.astype(np.float64) - nat_j.astype(np.float64) * 255.0)))
    rows.append((name, d_k, d_b, d_o, d_8))
    if max(d_k, d_b, d_o, d_e) > tolerance or d_8 > 0.5 + 255 * tolerance:
      failures.append(f"{name}: max|dK|/max(1,|K|)={d_k:.2e} max|dB|/max(1,|B|)={d_b:.2e} "
                      f"max|d image|={d_o:.2e} "
                      f"max|d E|={d_e:.2e} max|d uint8 - 255 image|={d_8:.3f}")
  if failures:
    raise VerificationError("JAX and NumPy runtime disagree: " + "; ".join(failures))
  return rows
