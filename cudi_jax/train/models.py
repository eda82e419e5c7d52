"""Teacher and student networks (Flax Linen).

Both take an image (B, H, W, 3) in [0, 1] and an exposure map (B, H, W, 1) in
[0, 1]. The teacher returns 3 * n curve maps in [-1, 1] for the high-order curve;
the student returns slope and intercept maps K, B (B, H, W, 3) for ``K * I + B``.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from cudi_jax import student_math
from cudi_jax import teacher_layout
from cudi_jax.errors import ConfigError
from cudi_jax.train import curves

#: Zero-DCE's initialisation: conv weights from N(0, 0.02), biases from zero; used
#: only with ``weight_init='zero_dce'`` (teacher or student).
conv_init = nn.initializers.normal(stddev=0.02)
#: He initialisation (fan-in, ReLU gain 2) for the teacher's hidden convs.
he_init = nn.initializers.variance_scaling(2.0, "fan_in", "normal")
#: The teacher's curve head under ``weight_init='he'``: std 0.01 / sqrt(fan_in), so the
#: starting curve maps are ~0.01 (curves near identity) and nearly flat. A head at even
#: a tenth of He's std makes the smoothness term's gradient, not the exposure term's, the
#: strongest at the start, and its first Adam steps flatten every feature map.
head_init = nn.initializers.variance_scaling(1e-4, "fan_in", "normal")
#: Teacher initialisations: 'he' (the default) or 'zero_dce' (N(0, 0.02) everywhere,
#: what every teacher trained before this option existed started from; the shipped
#: teacher started from 'he').
TEACHER_INITS = ("he", "zero_dce")
#: The student's depthwise kernels under ``weight_init='he'``: unit gain over the 9
#: taps (the depthwise step is linear; the ReLU follows the pointwise step).
depthwise_init = nn.initializers.variance_scaling(1.0, "fan_in", "normal")
#: Student initialisations: 'he' (the default) or 'zero_dce' (N(0, 0.02) everywhere,
#: what every student trained before this option existed started from: activations
#: shrink ~200x a layer at the start and most ReLUs end up never active; the shipped
#: student started from 'he').
STUDENT_INITS = ("he", "zero_dce")


def resize_to(x, height, width):
  """Bilinear resize of (B, h, w, C) to (B, height, width, C) (antialiased when shrinking)."""
  return jax.image.resize(x, (x.shape[0], height, width, x.shape[-1]), "bilinear")


class ConvBlock(nn.Module):
  """``num_convs`` 3x3 convolutions, each followed by ReLU."""

  features: int
  num_convs: int = 3
  dtype: Any = jnp.float32
  kernel_init: Any = conv_init

  @nn.compact
  def __call__(self, x):
    for i in range(self.num_convs):
      x = nn.Conv(self.features, (3, 3), padding="SAME", kernel_init=self.kernel_init,
                  dtype=self.dtype, param_dtype=jnp.float32, name=f"conv{i}")(x)
      x = nn.relu(x)
    return x


class Teacher(nn.Module):
  """UNet-like curve estimator at full resolution.

  Encoder blocks at ``width * multipliers`` channels; every block but the last two is
  followed by x0.5 bilinear downsampling; the decoder upsamples x2 (bilinear, to the
  skip's exact size, so any H, W works) and concatenates the skip. With the
  defaults (width 32, multipliers 1/2/4/8/8, 3 convs per block) the network has
  4,701,912 parameters, the paper's ~4.7M.
  """

  width: int = 32
  multipliers: Sequence[int] = (1, 2, 4, 8, 8)
  convs_per_block: int = 3
  num_iterations: int = curves.NUM_ITERATIONS
  dtype: Any = jnp.float32
  #: 'he': He init of the hidden convs and a small head (curves near identity);
  #: 'zero_dce': N(0, 0.02) everywhere. Only the initial weights differ.
  weight_init: str = "he"

  def _inits(self):
    if self.weight_init == "he":
      return he_init, head_init
    if self.weight_init == "zero_dce":
      return conv_init, conv_init
    raise ConfigError(f"teacher weight_init must be one of {', '.join(TEACHER_INITS)}, "
                      f"got {self.weight_init!r}")

  @nn.compact
  def __call__(self, image, exposure):
    hidden_init, last_init = self._inits()
    x = jnp.concatenate([image, exposure], axis=-1).astype(self.dtype)
    num_down = teacher_layout.num_downsamplings(self.multipliers)
    skips = []
    for level, (name, channels) in enumerate(teacher_layout.encoder(self.width, self.multipliers)):
      x = ConvBlock(channels, self.convs_per_block, self.dtype, hidden_init, name=name)(x)
      if level < num_down:
        skips.append(x)
        x = resize_to(x, -(-x.shape[1] // 2), -(-x.shape[2] // 2))
    for name, channels, level in teacher_layout.decoder(self.width, self.multipliers):
      skip = skips[level]
      x = resize_to(x, skip.shape[1], skip.shape[2])
      x = jnp.concatenate([x, skip], axis=-1)
      x = ConvBlock(channels, self.convs_per_block, self.dtype, hidden_init, name=name)(x)
    x = nn.Conv(3 * self.num_iterations, (3, 3), padding="SAME", kernel_init=last_init,
                dtype=self.dtype, param_dtype=jnp.float32, name="head")(x)
    return jnp.tanh(x.astype(jnp.float32))


def teacher_enhance(maps, image):
  """Applies the teacher's curve maps to the image: (B, H, W, 3) in [0, 1]."""
  return curves.high_order_curve(image, maps, maps.shape[-1] // 3)


def depthwise3x3_grouped(x, kernel, bias, xp=jnp):
  """The same depthwise 3x3 as :func:`student_math.depthwise3x3_shifted` via a grouped conv."""
  del xp
  squeeze = x.ndim == 3
  if squeeze:
    x = x[None]
  c = x.shape[-1]
  y = jax.lax.conv_general_dilated(
      x, kernel.reshape(3, 3, 1, c).astype(x.dtype), (1, 1), "SAME",
      dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=c)
  y = y + bias
  return y[0] if squeeze else y


def resolve_depthwise(impl="auto"):
  """'shifted' (fast on CPU), 'grouped' (fast on GPU/TPU), or 'auto' by backend."""
  if impl == "auto":
    impl = "shifted" if jax.default_backend() == "cpu" else "grouped"
  if impl == "shifted":
    return student_math.depthwise3x3_shifted
  if impl == "grouped":
    return depthwise3x3_grouped
  raise ConfigError(f"depthwise_impl must be 'auto', 'shifted' or 'grouped', got {impl!r}")


class SeparableConvParams(nn.Module):
  """Holds one depthwise-separable layer's parameters (the math lives in student_math)."""

  in_channels: int
  out_channels: int
  dw_init: Any = conv_init
  pw_init: Any = conv_init

  @nn.compact
  def __call__(self):
    zeros = nn.initializers.zeros
    return {
        "dw_kernel": self.param("dw_kernel", self.dw_init, (3, 3, self.in_channels)),
        "dw_bias": self.param("dw_bias", zeros, (self.in_channels,)),
        "pw_kernel": self.param("pw_kernel", self.pw_init, (self.in_channels, self.out_channels)),
        "pw_bias": self.param("pw_bias", zeros, (self.out_channels,)),
    }


class Student(nn.Module):
  """Depthwise-separable slope/intercept estimator at 1/4 resolution (3,630 params at width 16)."""

  width: int = 16
  depthwise_impl: str = "auto"
  dtype: Any = jnp.float32
  #: 'network' (what distillation trains) or 'natural' (the runtime's default colour
  #: handling, :func:`cudi_jax.student_math.natural_color`).
  color: str = "network"
  #: 'he': unit-gain depthwise kernels, He-initialised pointwise kernels and a small
  #: last layer (K near 1, B near 0: the identity); 'zero_dce': N(0, 0.02)
  #: everywhere. Only the initial weights differ.
  weight_init: str = "he"

  def _inits(self, last):
    if self.weight_init == "he":
      return depthwise_init, (head_init if last else he_init)
    if self.weight_init == "zero_dce":
      return conv_init, conv_init
    raise ConfigError(f"student weight_init must be one of {', '.join(STUDENT_INITS)}, "
                      f"got {self.weight_init!r}")

  def flat_params(self):
    shapes = student_math.student_param_shapes(self.width)
    flat = {}
    for i in range(1, 8):
      cin, cout = shapes[f"conv{i}/pw_kernel"]
      dw_init, pw_init = self._inits(last=i == 7)
      layer = SeparableConvParams(cin, cout, dw_init, pw_init, name=f"conv{i}")()
      flat.update({f"conv{i}/{k}": v.astype(self.dtype) for k, v in layer.items()})
    return flat

  @nn.compact
  def __call__(self, image, exposure):
    """Returns K, B: (B, H, W, 3) float32 at the input's resolution."""
    params = self.flat_params()
    k, b = student_math.student_maps(
        params, image.astype(self.dtype), exposure.astype(self.dtype), jnp,
        depthwise=resolve_depthwise(self.depthwise_impl), color=self.color)
    return k.astype(jnp.float32), b.astype(jnp.float32)


KINDS = ("teacher", "student")


def build(kind, architecture=None, dtype=jnp.float32):
  """The one builder of both networks: the Flax module of ``kind`` ('teacher' or
  'student') from an architecture mapping (a config section such as
  ``config.teacher``, an export's ``architecture`` metadata, or a plain dict).
  Missing fields take the defaults; fields of the other kind are ignored.

  teacher: width, multipliers, convs_per_block, num_iterations, weight_init;
  student: width, depthwise_impl, weight_init.
  """
  arch = dict(architecture or {})
  if kind == "teacher":
    return Teacher(width=int(arch.get("width", 32)),
                   multipliers=tuple(int(m) for m in arch.get("multipliers", (1, 2, 4, 8, 8))),
                   convs_per_block=int(arch.get("convs_per_block", 3)),
                   num_iterations=int(arch.get("num_iterations") or curves.NUM_ITERATIONS),
                   weight_init=str(arch.get("weight_init") or "he"), dtype=dtype)
  if kind == "student":
    return Student(width=int(arch.get("width", 16)),
                   depthwise_impl=arch.get("depthwise_impl", "auto"),
                   weight_init=str(arch.get("weight_init") or "he"), dtype=dtype)
  raise ConfigError(f"model kind must be 'teacher' or 'student', got {kind!r}")
