"""The training loop (cudi_jax.train.train_lib): exact resume, multi-device equivalence,
non-finite stops, schedules, warm starts, every config."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("grain")

import jax  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from configs import tiny_student, tiny_teacher  # noqa: E402
from cudi_jax.errors import ConfigError  # noqa: E402
from cudi_jax.train import checkpoints  # noqa: E402
from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from cudi_jax.train import models  # noqa: E402
from cudi_jax.train import train_lib  # noqa: E402
from tests import helpers  # noqa: E402


def test_exact_resume(image_dir, tmp_path):
  overrides = dict(checkpoint_every=2, log_every=1)
  straight, resumed = tmp_path / "straight", tmp_path / "resumed"
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=4, **overrides),
                               straight, progress=False)
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=2, **overrides),
                               resumed, progress=False)
  assert [m["step"] for m in helpers.read_metrics(resumed)] == [1, 2]
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=4, **overrides),
                               resumed, progress=False)
  a, b = checkpoints.load_trained(straight), checkpoints.load_trained(resumed)
  assert a.step == b.step == 4
  diffs = [np.max(np.abs(x - y)) for x, y in zip(_leaves(a.params), _leaves(b.params))]
  assert max(diffs) <= 1e-6
  # The parameters did move (a resume that silently restarted would not match above,
  # but make sure the comparison is not between two untouched inits either).
  first = checkpoints.load_trained(resumed / "checkpoints" / "2")
  assert max(np.max(np.abs(x - y)) for x, y in zip(_leaves(first.params), _leaves(b.params))) > 0
  ma, mb = helpers.read_metrics(straight), helpers.read_metrics(resumed)
  assert [m["step"] for m in mb] == [1, 2, 3, 4]
  for x, y in zip(ma[2:], mb[2:]):
    for key in ("loss/total", "loss/exposure", "loss/spatial", "loss/color", "loss/smoothness"):
      assert x[key] == y[key], (x["step"], key)

def _leaves(tree):
  import jax
  return [np.asarray(x) for x in jax.tree.leaves(tree)]

MULTI_DEVICE_SCRIPT = textwrap.dedent("""
    import os, sys
    import jax
    import numpy as np
    sys.path.insert(0, {repo!r})
    from configs import tiny_teacher, tiny_student
    from cudi_jax.train import train_lib
    assert jax.device_count() == 4, jax.devices()
    rng = np.random.default_rng(0)
    batch = {{"image": rng.random((8, 32, 32, 3), dtype=np.float32),
              "exposure": rng.uniform(0.2, 0.8, (8, 32, 32, 1)).astype(np.float32)}}
    results = []
    teacher_params = None
    for module in (tiny_teacher, tiny_student):
      config = module.get_config()
      config.batch_size = 8
      outs = []
      for devices in (jax.devices()[:1], jax.devices()):
        mesh = train_lib.make_mesh(devices)
        teacher = None if module is tiny_teacher else (config.teacher, teacher_params)
        trainer = train_lib.Trainer(config, mesh=mesh, teacher=teacher)
        state = trainer.init_state()
        initial = jax.device_get(state.params)  # before the step, which donates state
        if module is tiny_teacher:
          teacher_params = initial
        new_state, metrics = trainer.step(state, trainer.global_batch(batch))
        outs.append((jax.device_get(new_state.params), jax.device_get(metrics),
                     jax.tree.leaves(new_state.params)[0]))
      (p1, m1, _), (p4, m4, leaf4) = outs
      assert len(leaf4.sharding.device_set) == 4
      diff = max(float(np.max(np.abs(a - b))) for a, b in
                 zip(jax.tree.leaves(p1), jax.tree.leaves(p4)))
      moved = max(float(np.max(np.abs(a - b))) for a, b in
                  zip(jax.tree.leaves(p1), jax.tree.leaves(initial)))
      loss_key = "loss/total" if module is tiny_teacher else "loss/distill"
      print(config.model, diff, moved, float(m1[loss_key]), float(m4[loss_key]))
    try:
      config = tiny_teacher.get_config(); config.batch_size = 6
      train_lib.Trainer(config)
    except ValueError as err:
      print("ERROR", err)
""")

def test_multi_device_step_matches_single_device(tmp_path):
  script = tmp_path / "multi.py"
  script.write_text(MULTI_DEVICE_SCRIPT.format(repo=str(REPO)))
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             JAX_PLATFORMS="cpu")
  run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, timeout=600)
  assert run.returncode == 0, run.stderr[-3000:]
  lines = [l.split() for l in run.stdout.splitlines()]
  results = {l[0]: [float(x) for x in l[1:]] for l in lines if l[0] in ("teacher", "student")}
  for kind in ("teacher", "student"):
    diff, moved, loss1, loss4 = results[kind]
    assert diff <= 1e-5, kind
    assert moved > 1e-6, kind  # the step changed the parameters
    assert abs(loss1 - loss4) <= 1e-6 * max(1.0, abs(loss1))
  error = [l for l in run.stdout.splitlines() if l.startswith("ERROR")]
  assert error and "not divisible by the 4 devices" in error[0]

def test_non_finite_loss_stops_with_last_good_checkpoint(image_dir, tmp_path):
  workdir = tmp_path / "nan"
  config = helpers.training_config(tiny_teacher, image_dir, num_steps=6, checkpoint_every=2, log_every=1,
                   learning_rate=float("nan"))
  # NaN learning rate: the first update makes the parameters NaN, the second step's loss is NaN.
  with pytest.raises(train_lib.NonFiniteError, match="non-finite"):
    train_lib.train(config, workdir, progress=False)
  assert not (workdir / "checkpoints").exists() or not os.listdir(workdir / "checkpoints")

def test_non_finite_update_is_never_checkpointed(image_dir, tmp_path):
  # A NaN learning rate: step 1's loss and gradient are finite but its update is not.
  # Saving every step, the NaN parameters must be caught before they are saved.
  workdir = tmp_path / "nan1"
  config = helpers.training_config(tiny_teacher, image_dir, num_steps=4, checkpoint_every=1, log_every=1,
                   learning_rate=float("nan"))
  with pytest.raises(train_lib.NonFiniteError, match="param_norm") as err:
    train_lib.train(config, workdir, progress=False)
  assert "step 1 " in str(err.value) and "No checkpoint of this run" in str(err.value)
  assert "step 0" not in str(err.value)
  assert not (workdir / "checkpoints").exists() or not os.listdir(workdir / "checkpoints")

def _adam_step_sizes(config, steps):
  """|update| of each step for a constant unit gradient: Adam's bias-corrected m / sqrt(v)
  is then 1, so the update is the learning rate of that step."""
  import jax.numpy as jnp
  opt = train_lib.make_optimizer(config)
  params = {"w": jnp.zeros((), jnp.float32)}
  state = opt.init(params)
  sizes = []
  for _ in range(steps):
    updates, state = opt.update({"w": jnp.ones((), jnp.float32)}, state, params)
    sizes.append(-float(updates["w"]))
  return np.array(sizes)

def test_slope_weights_add_their_terms_to_the_teacher_step(image_dir):
  extra = {"slope": 0.5, "highlight_slope": 0.3, "shadow_slope": 0.2}
  config = helpers.training_config(
      tiny_teacher, image_dir, **{f"loss_weights.{k}": w for k, w in extra.items()},
      max_slope=2.0, max_highlight_slope=1.0, min_shadow_slope=1.0)
  trainer = train_lib.Trainer(config)
  ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
  _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
  values = {k: float(v) for k, v in metrics.items()}
  for k in extra:
    assert np.isfinite(values[f"loss/{k}"]) and values[f"loss/{k}"] >= 0
  rest = sum(w * values[f"loss/{k}"] for k, w in config.loss_weights.items() if k not in extra)
  want = rest + sum(w * values[f"loss/{k}"] for k, w in extra.items())
  assert values["loss/total"] == pytest.approx(want, rel=1e-5)
  plain = train_lib.Trainer(helpers.training_config(tiny_teacher, image_dir)).step(
      trainer.init_state(), trainer.global_batch(ds[0]))[1]
  assert not any(f"loss/{k}" in plain for k in extra)

def test_teacher_keeps_its_features_under_an_objective_that_killed_zero_dce_init():
  # Region means + colour preservation at the CPU teacher's learning rate: teachers
  # started from N(0, 0.02) ended as constants (docs/experiments.md). Ten steps on
  # smooth random photos: the last block must still vary over the pixels. (Zero-DCE's
  # init starts there ~1e-7; a head at a tenth of He's std loses ~90% in ten steps.)
  from configs import teacher_cpu
  config = teacher_cpu.get_config()
  config.teacher.width = 8
  config.batch_size = 4
  config.exposure_mode, config.color_mode = "regions", "input"
  trainer = train_lib.Trainer(config)
  state = trainer.init_state()
  rng = np.random.default_rng(0)

  def batch():
    low = rng.uniform(0, 1, (4, 4, 4, 3)) ** 2
    image = np.asarray(jax.image.resize(low, (4, 32, 32, 3), "bilinear"), np.float32)
    emap = np.full((4, 32, 32, 1), 0.2, np.float32)
    emap[:, :, 16:] = 0.8
    return {"image": image, "exposure": emap}

  probe = batch()

  def signal(params):
    _, inter = trainer.model.apply({"params": params}, probe["image"], probe["exposure"],
                                   capture_intermediates=True, mutable=["intermediates"])
    x = np.asarray(inter["intermediates"]["dec0"]["__call__"][0])
    return float(x.reshape(-1, x.shape[-1]).std(axis=0).mean())

  start = signal(state.params)
  for _ in range(10):
    state, _ = trainer.step(state, trainer.global_batch(batch()))
  assert start > 0.01 and signal(state.params) > 0.5 * start, (start, signal(state.params))


def test_learning_rate_schedules():
  config = tiny_teacher.get_config()
  config.learning_rate, config.num_steps = 1e-2, 10
  config.grad_clip_norm, config.weight_decay = 0.0, 0.0
  assert config.lr_schedule == "constant"
  np.testing.assert_allclose(_adam_step_sizes(config, 12), 1e-2, rtol=1e-4)
  config.lr_schedule, config.lr_final_fraction = "cosine", 0.1
  sizes = _adam_step_sizes(config, 13)
  expected = [1e-2 * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(t, 10) / 10))) for t in range(13)]
  np.testing.assert_allclose(sizes, expected, rtol=1e-4)
  assert sizes[0] == pytest.approx(1e-2, rel=1e-4) and sizes[-1] == pytest.approx(1e-3, rel=1e-4)
  config.lr_decay_steps = 4  # decay over 4 steps, then hold the final value
  np.testing.assert_allclose(_adam_step_sizes(config, 6)[4:], 1e-3, rtol=1e-4)
  config.lr_schedule = "linear"
  with pytest.raises(ValueError, match="lr_schedule"):
    train_lib.make_optimizer(config)

def test_weight_decay_coupled_or_decoupled():
  """With no gradient, coupled decay is normalised by Adam (each weight moves by about
  the learning rate, whatever its size); decoupled decay (AdamW) moves it by
  learning rate x decay x weight."""
  import jax.numpy as jnp
  config = tiny_teacher.get_config()
  config.learning_rate, config.weight_decay, config.grad_clip_norm = 1e-2, 1e-4, 0.0
  params = {"w": jnp.asarray([0.5, -0.02], jnp.float32)}
  zero = {"w": jnp.zeros(2, jnp.float32)}

  def update(mode):
    config.weight_decay_mode = mode
    opt = train_lib.make_optimizer(config)
    return np.asarray(opt.update(zero, opt.init(params), params)[0]["w"])

  assert config.weight_decay_mode == "coupled"                    # the default
  np.testing.assert_allclose(update("coupled"), [-1e-2, 1e-2], rtol=1e-2)  # Adam's eps
  np.testing.assert_allclose(update("decoupled"), [-1e-2 * 1e-4 * 0.5, 1e-2 * 1e-4 * 0.02],
                             rtol=1e-4)
  config.weight_decay_mode = "adamw"
  with pytest.raises(ConfigError, match="weight_decay_mode"):
    train_lib.make_optimizer(config)


def test_warm_start_from_another_run(image_dir, tmp_path):
  source, target = tmp_path / "source", tmp_path / "target"
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=2),
                               source, progress=False)
  trained = checkpoints.load_trained(source)
  config = helpers.training_config(tiny_teacher, image_dir, num_steps=1, init_from=str(source))
  trainer = train_lib.Trainer(config)
  fresh = trainer.init_state()
  started = trainer.warm_start(fresh, str(source))
  assert int(started.step) == 0
  for x, y in zip(_leaves(started.params), _leaves(trained.params)):
    np.testing.assert_array_equal(x, y)
  assert max(np.max(np.abs(x - y)) for x, y in zip(_leaves(fresh.params), _leaves(trained.params))) > 0
  # A fresh optimizer: Adam's moments are zero again.
  assert all(not np.any(x) for x in _leaves(started.opt_state) if np.ndim(x))
  # Through train: one step from the source's weights stays next to them.
  final = train_lib.train(config, target, progress=False)
  near = max(np.max(np.abs(x - y)) for x, y in zip(_leaves(final.params), _leaves(trained.params)))
  far = max(np.max(np.abs(x - y)) for x, y in zip(_leaves(fresh.params), _leaves(trained.params)))
  assert near < far
  # Wrong kind, wrong architecture: clear errors.
  student = helpers.training_config(tiny_student, image_dir, teacher_checkpoint=str(source), init_from=str(source))
  trainer = train_lib.Trainer(student)
  with pytest.raises(checkpoints.CheckpointError, match="holds a teacher"):
    trainer.warm_start(trainer.init_state(), str(source))
  wider = helpers.training_config(tiny_teacher, image_dir, init_from=str(source))
  wider.teacher.width = tiny_teacher.get_config().teacher.width * 2
  trainer = train_lib.Trainer(wider)
  with pytest.raises(checkpoints.CheckpointError, match="architecture"):
    trainer.warm_start(trainer.init_state(), str(source))

def test_distill_dark_weight_reaches_the_student_step(image_dir, tmp_path):
  teacher_dir = tmp_path / "teacher"
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=1, checkpoint_every=1),
                               teacher_dir, progress=False)
  got = {}
  for weight in (0.0, 0.05):
    config = helpers.training_config(tiny_student, image_dir, num_steps=1, teacher_checkpoint=str(teacher_dir),
                     distill_dark_weight=weight)
    trainer = train_lib.Trainer(config)
    ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
    _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
    got[weight] = {k: float(v) for k, v in metrics.items()}
  # Same weights, same batch: the unweighted clipped L1 agrees, the trained loss does not.
  assert got[0.0]["loss/distill_clipped"] == pytest.approx(got[0.05]["loss/distill_clipped"],
                                                           rel=1e-6)
  assert got[0.0]["loss/distill"] != pytest.approx(got[0.05]["loss/distill"], rel=1e-4)


@pytest.mark.parametrize("name", sorted(
    ".".join(p.relative_to(REPO / "configs").with_suffix("").parts)
    for p in (REPO / "configs").rglob("*.py") if p.stem != "__init__"))
def test_every_config_builds_its_model_and_optimizer(name):
  import importlib
  config = importlib.import_module(f"configs.{name}").get_config()
  train_lib.make_optimizer(config)
  assert config.batch_size > 0 and config.num_steps > 0
  if name.startswith("recipes."):
    # Recipes name the runs they start from and distil on the command line.
    assert not config.init_from and not config.teacher_checkpoint
  if config.model == "teacher":
    models.build("teacher", config.teacher)
  else:
    assert config.model == "student"
    assert config.teacher_checkpoint or name.startswith("recipes.")
    models.build("student", config.student)

def test_train_refuses_bad_counts_when_called_directly(tmp_path, image_dir):
  with pytest.raises(ConfigError, match="checkpoint_every"):
    train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=0),
                    str(tmp_path / "wd"), progress=False)
