"""Teacher / student networks and the student's resampling rule (student_math)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cudi_jax import student_math
from cudi_jax.errors import ConfigError
from cudi_jax.train import curves, models
from tests import helpers


def count(tree):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


# --------------------------------------------------------------------------- teacher


@pytest.fixture(scope="module")
def teacher_shapes():
  return jax.eval_shape(models.Teacher().init, jax.random.PRNGKey(0),
                        jnp.zeros((1, 8, 8, 3)), jnp.zeros((1, 8, 8, 1)))


@pytest.fixture(scope="module")
def teacher_variables(teacher_shapes):
  """Random teacher weights built from the init structure (Flax init is slow on CPU).

  std 0.05 (rather than the 0.02 init) keeps the 16-conv stack's output well away from 0.
  """
  rng = np.random.default_rng(0)
  return jax.tree.map(lambda s: jnp.asarray(rng.normal(0, 0.05, s.shape), jnp.float32),
                      teacher_shapes)


@pytest.fixture(scope="module")
def teacher_apply():
  return jax.jit(models.Teacher().apply)


def test_teacher_parameter_count(teacher_shapes):
  n = count(teacher_shapes)
  assert 4_500_000 <= n <= 5_000_000, n
  # the head predicts 3 channels per curve iteration
  assert teacher_shapes["params"]["head"]["kernel"].shape[-1] == 3 * curves.NUM_ITERATIONS


@pytest.mark.parametrize("size", [(13, 7), (3, 5), (1, 1)])
def test_teacher_odd_sizes(size, teacher_variables, teacher_apply):
  rng = np.random.default_rng(1)
  h, w = size
  image = jnp.asarray(rng.uniform(0, 1, (1, h, w, 3)), jnp.float32)
  e = jnp.full((1, h, w, 1), 0.6, jnp.float32)
  maps = np.asarray(teacher_apply(teacher_variables, image, e))
  assert maps.shape == (1, h, w, 24) and maps.dtype == np.float32
  assert np.all(np.isfinite(maps)) and maps.min() >= -1 and maps.max() <= 1
  assert np.abs(maps).max() > 1e-3
  out = np.asarray(jax.jit(models.teacher_enhance)(jnp.asarray(maps), image))
  assert out.shape == (1, h, w, 3) and out.min() >= 0 and out.max() <= 1


def test_teacher_depends_on_exposure(teacher_variables, teacher_apply):
  image = jnp.asarray(np.random.default_rng(2).uniform(0, 1, (1, 13, 7, 3)), jnp.float32)
  a = teacher_apply(teacher_variables, image, jnp.full((1, 13, 7, 1), 0.2, jnp.float32))
  b = teacher_apply(teacher_variables, image, jnp.full((1, 13, 7, 1), 0.8, jnp.float32))
  assert float(jnp.abs(a - b).max()) > 1e-4


def _teacher_at_init(weight_init=None, width=12):
  """A CPU-sized teacher's initial variables, and a batch of two random 32x32 photos
  with E = 0.2 and 0.8 (eager: faster than compiling for one call)."""
  arch = {"width": width} if weight_init is None else {"width": width, "weight_init": weight_init}
  model = models.build("teacher", arch)
  rng = np.random.default_rng(9)
  image = jnp.asarray(rng.uniform(0, 1, (2, 32, 32, 3)), jnp.float32)
  emap = jnp.concatenate([jnp.full((1, 32, 32, 1), 0.2), jnp.full((1, 32, 32, 1), 0.8)])
  return model, model.init(jax.random.key(0), image, emap), image, emap


def _block_signal(model, variables, image, emap):
  """Per block: the mean over channels of each channel's std over the batch's pixels
  (how much of the input a block's output still carries)."""
  _, state = model.apply(variables, image, emap, capture_intermediates=True,
                         mutable=["intermediates"])
  out = {}
  for name, value in state["intermediates"].items():
    if name.startswith(("enc", "dec")):
      x = np.asarray(value["__call__"][0])
      out[name] = float(x.reshape(-1, x.shape[-1]).std(axis=0).mean())
  return out


def test_teacher_init_carries_the_input_through_every_block():
  # The default teacher init must keep the activations' scale through the UNet. With
  # Zero-DCE's N(0, 0.02) every 3x3 conv at width 12 shrank its input ~7x, so the
  # deepest block carried ~1e-10 of the input, the output ignored E from the first
  # step and the gradient reaching the encoder was ~1e-12 of the weight decay's, which
  # then shrank every weight to 0 (docs/experiments.md, "Dead teachers").
  model, variables, image, emap = _teacher_at_init()
  signal = _block_signal(model, variables, image, emap)
  assert len(signal) == 8
  assert min(signal.values()) > 0.02, signal
  maps = model.apply(variables, image, emap)
  # Starting curves near identity, yet already depending on E and the image.
  assert float(jnp.abs(maps).max()) < 0.05
  flipped = model.apply(variables, image, emap[::-1])
  assert float(jnp.abs(maps - flipped).max()) > 1e-4


def test_teacher_weight_init_options():
  model, variables, image, emap = _teacher_at_init("zero_dce")
  params = variables["params"]
  for kernel in (params["enc0"]["conv0"]["kernel"], params["enc4"]["conv2"]["kernel"],
                 params["head"]["kernel"]):
    assert abs(float(jnp.std(kernel)) - 0.02) < 0.003   # Zero-DCE's init, as before
  assert max(_block_signal(model, variables, image, emap).values()) < 1e-3
  he = _teacher_at_init("he")[1]["params"]
  for kernel in (he["enc0"]["conv0"]["kernel"], he["enc4"]["conv2"]["kernel"]):
    fan_in = int(np.prod(kernel.shape[:-1]))
    np.testing.assert_allclose(float(jnp.std(kernel)), np.sqrt(2 / fan_in), rtol=0.15)
  assert float(jnp.std(he["head"]["kernel"])) < 0.01 / np.sqrt(108) * 1.2
  assert not np.any(np.asarray(he["enc0"]["conv0"]["bias"]))
  with pytest.raises(ConfigError, match="weight_init"):
    _teacher_at_init("xavier")


# --------------------------------------------------------------------------- student


def _student_layer_signal(weight_init):
  """Per layer of a fresh width-16 student on a random photo: the std of its
  pre-activation output, and the (K, B) it starts from."""
  model = models.build("student", {"width": 16, "weight_init": weight_init})
  rng = np.random.default_rng(4)
  image = rng.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32)
  emap = np.full((1, 32, 32, 1), 0.5, np.float32)
  flat = {k: np.asarray(v) for k, v in
          student_math.flatten_params(model.init(jax.random.key(0), image, emap)).items()}
  outputs = {"x": student_math.downsample4(np.concatenate([image, emap], -1), np)}
  stds = []
  for i, (sources, _) in enumerate(student_math.student_topology(16, 6), start=1):
    h = np.concatenate([outputs[s] for s in sources], axis=-1)
    h = student_math.depthwise3x3_shifted(h, flat[f"conv{i}/dw_kernel"], flat[f"conv{i}/dw_bias"], np)
    h = student_math.pointwise(h, flat[f"conv{i}/pw_kernel"], flat[f"conv{i}/pw_bias"], np)
    stds.append(float(h.std()))
    outputs[i] = np.maximum(h, 0)
  return stds, model.apply({"params": student_math.unflatten_params(flat)}, image, emap), flat


def test_student_init_carries_the_input_and_starts_near_identity():
  # Zero-DCE's N(0, 0.02) shrinks a separable layer's output ~200x: the second layer
  # already carries ~1e-4 of the input, and training from there left most of the
  # earlier students' ReLUs never active. The default init keeps the scale through
  # the hidden layers and starts from K = 1, B = 0 (the identity).
  stds, (k, b), flat = _student_layer_signal("he")
  assert min(stds[:6]) > 0.1, stds
  assert float(jnp.abs(k - 1).max()) < 0.05 and float(jnp.abs(b).max()) < 0.05
  np.testing.assert_allclose(flat["conv3/pw_kernel"].std(), np.sqrt(2 / 16), rtol=0.2)
  np.testing.assert_allclose(flat["conv3/dw_kernel"].std(), np.sqrt(1 / 9), rtol=0.2)
  old, _, flat = _student_layer_signal("zero_dce")
  assert max(old[1:]) < 1e-3, old
  assert abs(flat["conv3/pw_kernel"].std() - 0.02) < 0.005
  with pytest.raises(ConfigError, match="weight_init"):
    _student_layer_signal("xavier")


def test_student_parameter_count_and_export_contract():
  shapes = jax.eval_shape(models.Student().init, jax.random.PRNGKey(0),
                          jnp.zeros((1, 8, 8, 3)), jnp.zeros((1, 8, 8, 1)))
  n = count(shapes)
  assert 2_500 <= n <= 4_000, n
  # the Flax tree is exactly the flat export format used by the NumPy runtime
  flat = student_math.flatten_params(shapes["params"])
  contract = student_math.student_param_shapes()
  assert {k: tuple(v.shape) for k, v in flat.items()} == contract
  assert sum(int(np.prod(s)) for s in contract.values()) == n
  assert student_math.unflatten_params(student_math.flatten_params({"a": {"b": 1, "c": {"d": 2}}})) \
      == {"a": {"b": 1, "c": {"d": 2}}}


@pytest.mark.parametrize("size", [(517, 333), (3, 5), (1, 1), (64, 64)])
def test_student_output_sizes(size, student_variables, student_apply):
  h, w = size
  rng = np.random.default_rng(3)
  image = jnp.asarray(rng.uniform(0, 1, (1, h, w, 3)), jnp.float32)
  e = jnp.full((1, h, w, 1), 0.5, jnp.float32)
  k, b = student_apply(student_variables, image, e)
  assert k.shape == (1, h, w, 3) and b.shape == (1, h, w, 3)
  assert k.dtype == jnp.float32 and b.dtype == jnp.float32
  assert bool(jnp.all(jnp.isfinite(k))) and bool(jnp.all(jnp.isfinite(b)))


def test_student_batch_items_are_independent(student_variables, student_apply):
  rng = np.random.default_rng(4)
  image = jnp.asarray(rng.uniform(0, 1, (2, 3, 5, 3)), jnp.float32)
  e = jnp.asarray(rng.uniform(0.2, 0.8, (2, 3, 5, 1)), jnp.float32)
  k, b = student_apply(student_variables, image, e)
  k0, b0 = student_apply(student_variables, image[:1], e[:1])
  np.testing.assert_allclose(k[:1], k0, atol=1e-6)
  np.testing.assert_allclose(b[:1], b0, atol=1e-6)
  assert float(jnp.abs(k[0] - k[1]).max()) > 1e-3       # and the inputs matter


def test_student_depthwise_impls_agree(student_variables):
  rng = np.random.default_rng(5)
  image = jnp.asarray(rng.uniform(0, 1, (2, 37, 23, 3)), jnp.float32)
  e = jnp.asarray(rng.uniform(0.2, 0.8, (2, 37, 23, 1)), jnp.float32)
  ks, bs = jax.jit(models.Student(depthwise_impl="shifted").apply)(student_variables, image, e)
  kg, bg = jax.jit(models.Student(depthwise_impl="grouped").apply)(student_variables, image, e)
  assert float(jnp.abs(ks - 1).max()) > 0.1              # realistic weights, far from identity
  np.testing.assert_allclose(ks, kg, atol=1e-5)
  np.testing.assert_allclose(bs, bg, atol=1e-5)
  with pytest.raises(ValueError):
    models.resolve_depthwise("fft")


def test_depthwise_hand_values_and_grouped_conv():
  x = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
  kernel = np.zeros((3, 3, 1), np.float32)
  kernel[0, 0, 0] = 1.0                                   # out[y, x] = in[y-1, x-1] (0 outside)
  bias = np.array([0.5], np.float32)
  out = student_math.depthwise3x3_shifted(x, kernel, bias, np)
  expected = np.zeros((3, 4, 1), np.float32)
  expected[1:, 1:] = x[:-1, :-1]
  np.testing.assert_array_equal(out, expected + 0.5)
  ones = np.ones((3, 3, 1), np.float32)                   # 3x3 box sum with zero padding
  box = student_math.depthwise3x3_shifted(np.ones((3, 4, 1), np.float32), ones, np.zeros(1), np)
  np.testing.assert_array_equal(box[..., 0], [[4, 6, 6, 4], [6, 9, 9, 6], [4, 6, 6, 4]])
  # lax grouped convolution == shifted products, batched and unbatched
  rng = np.random.default_rng(6)
  xs = rng.normal(size=(2, 5, 6, 4)).astype(np.float32)
  ks = rng.normal(size=(3, 3, 4)).astype(np.float32)
  bs = rng.normal(size=(4,)).astype(np.float32)
  ref = student_math.depthwise3x3_shifted(xs, ks, bs, np)
  np.testing.assert_allclose(models.depthwise3x3_grouped(jnp.asarray(xs), ks, bs), ref, atol=1e-5)
  np.testing.assert_allclose(models.depthwise3x3_grouped(jnp.asarray(xs[0]), ks, bs), ref[0], atol=1e-5)


def test_zero_output_student_is_identity(student_flat, student_apply):
  flat = dict(student_flat)
  flat["conv7/pw_kernel"] = np.zeros_like(flat["conv7/pw_kernel"])
  flat["conv7/pw_bias"] = np.zeros_like(flat["conv7/pw_bias"])
  rng = np.random.default_rng(7)
  image = jnp.asarray(rng.uniform(0, 1, (1, 3, 5, 3)), jnp.float32)
  e = jnp.asarray(rng.uniform(0.2, 0.8, (1, 3, 5, 1)), jnp.float32)
  k, b = student_apply(helpers.flax_student_variables(flat), image, e)
  np.testing.assert_array_equal(np.asarray(k), 1.0)
  np.testing.assert_array_equal(np.asarray(b), 0.0)
  np.testing.assert_array_equal(np.asarray(student_math.tangent_apply(k, b, image, jnp)), np.asarray(image))


def test_random_student_fixture_is_far_from_identity(student_flat):
  # guards the parity tests' premise: std-0.3 weights give K, B far from (1, 0)
  rng = np.random.default_rng(8)
  image = rng.uniform(0, 1, (24, 20, 3)).astype(np.float32)
  e = np.full((24, 20, 1), 0.5, np.float32)
  k, b = student_math.student_maps(student_flat, image, e, np)
  assert np.abs(k - 1).mean() > 0.1 and np.abs(b).mean() > 0.05
  assert helpers.random_student_flat(seed=1234)["conv1/dw_kernel"].dtype == np.float32
  np.testing.assert_array_equal(helpers.random_student_flat(seed=1234)["conv7/pw_bias"], student_flat["conv7/pw_bias"])


# --------------------------------------------------------------------------- resampling rule
