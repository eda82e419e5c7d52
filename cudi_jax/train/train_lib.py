"""Training library: train state, jitted data-parallel steps, the training loop.

``train(config, workdir)`` is what ``train.py`` runs and what the
tests call. Data parallelism uses ``jax.jit`` with shardings over a 1-D mesh of
every device of every host: the state is replicated (``P()``), the batch is split
on its leading axis (``P('data')``), the loss is a mean over the global batch and
XLA inserts the gradient all-reduce. We use jit rather than ``shard_map`` because
the step has no per-device logic that needs writing by hand, so the compiler is
free to choose the collectives, and the same code runs unchanged on one device.
(``pmap`` is in maintenance mode.)
"""
import functools
import json
import os
import sys
import time
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec as P

from cudi_jax import student_math
from cudi_jax.errors import ConfigError, CudiError
from cudi_jax.train import checkpoints
from cudi_jax.train import input_pipeline as data_lib
from cudi_jax.train import losses
from cudi_jax.train import models
from cudi_jax.train import settings

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


@flax.struct.dataclass
class TrainState:
  """Everything a step changes: a pytree of arrays, replicated over the mesh."""

  step: jax.Array
  params: Any
  opt_state: Any


class NonFiniteError(CudiError, RuntimeError):
  pass


def compute_dtype(config):
  try:
    return DTYPES[config.get("compute_dtype", "float32")]
  except KeyError:
    raise ConfigError(f"compute_dtype must be one of {sorted(DTYPES)}") from None


#: How ``config.weight_decay`` enters Adam: 'coupled' (added to the gradient before
#: Adam normalises it, torch's Adam and Zero-DCE) or 'decoupled' (AdamW: added to
#: Adam's update, so it shrinks a weight by learning rate x decay x weight per step).
WEIGHT_DECAY_MODES = ("coupled", "decoupled")


def make_optimizer(config):
  """Adam with optional global-norm clipping and weight decay (coupled by default, as
  Zero-DCE; ``config.weight_decay_mode``)."""
  mode = config.get("weight_decay_mode", "coupled")
  if mode not in WEIGHT_DECAY_MODES:
    raise ConfigError(f"weight_decay_mode must be one of {WEIGHT_DECAY_MODES}, got {mode!r}")
  decay = ([optax.add_decayed_weights(config.weight_decay)]
           if config.get("weight_decay") else [])
  parts = []
  if config.get("grad_clip_norm"):
    parts.append(optax.clip_by_global_norm(config.grad_clip_norm))
  if mode == "coupled":
    parts += decay
  parts.append(optax.scale_by_adam(b1=config.get("b1", 0.9), b2=config.get("b2", 0.999)))
  if mode == "decoupled":
    parts += decay
  parts.append(optax.scale_by_learning_rate(learning_rate_schedule(config)))
  return optax.chain(*parts)


def learning_rate_schedule(config):
  """``config.learning_rate`` as a constant, or a cosine decay from it.

  ``lr_schedule='cosine'`` decays to ``lr_final_fraction * learning_rate`` over
  ``lr_decay_steps`` steps (default ``num_steps``; constant after that). The schedule
  is a function of the optimizer's step count, which checkpoints keep, so a resumed
  run continues on the same curve as long as these fields are unchanged.
  """
  kind = config.get("lr_schedule", "constant")
  if kind == "constant":
    return config.learning_rate
  if kind == "cosine":
    steps = int(config.get("lr_decay_steps") or config.num_steps)
    if steps <= 0:
      raise ConfigError(f"lr_decay_steps must be positive, got {steps}")
    return optax.cosine_decay_schedule(config.learning_rate, steps,
                                       alpha=float(config.get("lr_final_fraction", 0.0)))
  raise ConfigError(f"lr_schedule must be 'constant' or 'cosine', got {kind!r}")


def init_state(model, optimizer, config, image_size=32):
  init_rng, _ = jax.random.split(jax.random.key(config.seed))
  image = jnp.zeros((1, image_size, image_size, 3), jnp.float32)
  emap = jnp.zeros((1, image_size, image_size, 1), jnp.float32)
  params = model.init(init_rng, image, emap)["params"]
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    opt_state=optimizer.init(params))


def global_norm(tree):
  """L2 norm over every leaf of a pytree."""
  return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))


def _apply_gradients(state, grads, optimizer, metrics):
  """The updated state, and ``metrics`` with ``param_norm`` of the *new* parameters, so
  that a finite loss and gradient with a non-finite update (a NaN learning rate, say)
  is caught before that state is saved."""
  updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
  params = optax.apply_updates(state.params, updates)
  metrics = dict(metrics, param_norm=global_norm(params))
  return state.replace(step=state.step + 1, params=params, opt_state=opt_state), metrics


def teacher_step(state, batch, *, model, optimizer, loss_weights, exposure_cell=16,
                 max_slope=16.0, exposure_mode="cells", spatial_log_eps=0.0,
                 color_mode="grey_world", max_highlight_slope=6.0,
                 min_shadow_slope=0.7):
  """One teacher update on zero-reference losses -> (new state, metrics).

  batch: image (B, P, P, 3), exposure (B, P, P, 1).
  """
  image, emap = batch["image"], batch["exposure"]

  def loss_fn(params):
    maps = model.apply({"params": params}, image, emap)
    output = models.teacher_enhance(maps, image)
    terms = losses.teacher_losses(output, image, emap, maps, loss_weights, exposure_cell,
                                  max_slope, exposure_mode, spatial_log_eps, color_mode,
                                  max_highlight_slope, min_shadow_slope)
    return terms["total"], terms

  (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  metrics = {f"loss/{k}": v for k, v in terms.items()}
  metrics["grad_norm"] = global_norm(grads)
  return _apply_gradients(state, grads, optimizer, metrics)


def student_step(state, batch, teacher_params, *, model, teacher, optimizer,
                 dark_weight=0.0):
  """One distillation update: the frozen teacher's output is computed in the same
  jitted step (no stored targets); L1 between the student's unclipped tangent line
  ``K * I + B`` and the teacher's curve output (weighted towards dark targets when
  ``dark_weight`` > 0, see ``losses.distillation_loss``) -> (new state, metrics)."""
  image, emap = batch["image"], batch["exposure"]
  maps = teacher.apply({"params": teacher_params}, image, emap)
  target = jax.lax.stop_gradient(models.teacher_enhance(maps, image))

  def loss_fn(params):
    k, b = model.apply({"params": params}, image, emap)
    output = student_math.tangent_apply(k, b, image, jnp, clip=False)
    return losses.distillation_loss(output, target, dark_weight), output

  (loss, output), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  metrics = {
      "loss/distill": loss,
      "loss/distill_clipped": jnp.mean(jnp.abs(jnp.clip(output, 0, 1) - target)),
      "grad_norm": global_norm(grads),
  }
  return _apply_gradients(state, grads, optimizer, metrics)


# --------------------------------------------------------------------------- setup


def make_mesh(devices=None):
  """A 1-D 'data' mesh over the given devices (default: every device of every host)."""
  devices = jax.devices() if devices is None else devices
  return jax.sharding.Mesh(np.asarray(devices), ("data",))


def check_batch_size(global_batch, mesh):
  n = mesh.devices.size
  if global_batch % n:
    raise ConfigError(f"global batch size {global_batch} is not divisible by the "
                     f"{n} devices; choose a multiple of {n} (--config.batch_size)")
  if global_batch % jax.process_count():
    raise ConfigError(f"global batch size {global_batch} is not divisible by the "
                     f"{jax.process_count()} processes")


class Trainer:
  """Builds the model, optimizer and jitted step for a config (teacher or student)."""

  def __init__(self, config, mesh=None, teacher=None):
    """teacher: optional (teacher config, params) for a student, instead of
    loading ``config.teacher_checkpoint``."""
    self.config = config
    self.kind = config.model
    self.mesh = mesh if mesh is not None else make_mesh()
    check_batch_size(config.batch_size, self.mesh)
    self.replicated = NamedSharding(self.mesh, P())
    self.batch_sharding = NamedSharding(self.mesh, P("data"))
    dtype = compute_dtype(config)
    self.optimizer = make_optimizer(config)
    self.teacher_params = None
    if self.kind == "teacher":
      self.model = models.build("teacher", config.teacher, dtype)
      step = functools.partial(teacher_step, model=self.model, optimizer=self.optimizer,
                               loss_weights=dict(config.loss_weights),
                               exposure_cell=config.get("exposure_cell", 16),
                               max_slope=config.get("max_slope", 16.0),
                               exposure_mode=config.get("exposure_mode", "cells"),
                               spatial_log_eps=config.get("spatial_log_eps", 0.0),
                               color_mode=config.get("color_mode", "grey_world"),
                               max_highlight_slope=config.get("max_highlight_slope", 6.0),
                               min_shadow_slope=config.get("min_shadow_slope", 0.7))
      in_shardings = (self.replicated, self.batch_sharding)
    elif self.kind == "student":
      self.model = models.build("student", config.student, dtype)
      if teacher is None:
        loaded = checkpoints.load_teacher_for_distillation(config.teacher_checkpoint)
        teacher = (loaded.teacher_config, loaded.params)
        # Record the architecture actually distilled from (config.json, exports).
        for key, value in loaded.teacher_config.items():
          if key in config.teacher:
            config.teacher[key] = tuple(value) if isinstance(value, list) else value
      self.teacher = models.build("teacher", teacher[0], dtype)
      self.teacher_params = jax.device_put(teacher[1], self.replicated)
      step = functools.partial(student_step, model=self.model, teacher=self.teacher,
                               optimizer=self.optimizer,
                               dark_weight=config.get("distill_dark_weight", 0.0))
      in_shardings = (self.replicated, self.batch_sharding, self.replicated)
    else:
      raise ConfigError(f"config.model must be 'teacher' or 'student', got {self.kind!r}")
    self._step = jax.jit(step, in_shardings=in_shardings,
                         out_shardings=(self.replicated, self.replicated), donate_argnums=0)

  def init_state(self):
    state = init_state(self.model, self.optimizer, self.config)
    return jax.device_put(state, self.replicated)

  def warm_start(self, state, path):
    """``state`` with the parameters of another run of the same kind (a workdir or
    checkpoint) and a fresh optimizer; the step count starts again from 0."""
    loaded = checkpoints.load_trained(path)
    if loaded.kind != self.kind:
      raise checkpoints.CheckpointError(
          f"init_from {path} holds a {loaded.kind}, but this run trains a {self.kind}")
    want = jax.tree.map(lambda x: tuple(x.shape), state.params)
    got = jax.tree.map(lambda x: tuple(np.shape(x)), loaded.params)
    if got != want:
      raise checkpoints.CheckpointError(
          f"init_from {path}: its {loaded.kind} does not match this config's architecture")
    # load_trained already gives float32 NumPy arrays.
    state = state.replace(params=loaded.params, opt_state=self.optimizer.init(loaded.params))
    return jax.device_put(state, self.replicated)

  def global_batch(self, local_batch):
    """Process-local NumPy batch -> global arrays sharded over the mesh."""
    return {k: jax.make_array_from_process_local_data(self.batch_sharding, v)
            for k, v in local_batch.items()}

  def step(self, state, batch):
    if self.kind == "teacher":
      return self._step(state, batch)
    return self._step(state, batch, self.teacher_params)


# --------------------------------------------------------------------------- loop


def _to_float_dict(metrics):
  return {k: float(v) for k, v in jax.device_get(metrics).items()}


def _finite(metrics):
  return all(np.isfinite(v) for v in metrics.values())


def _truncate_metrics(path, last_step):
  """Drops logged lines after ``last_step`` (they will be logged again on resume)."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    lines = [line for line in f if line.strip() and json.loads(line)["step"] <= last_step]
  with open(path, "w") as f:
    f.writelines(lines)


def train(config, workdir, progress=True):
  """Trains ``config.model`` for ``config.num_steps`` steps in ``workdir``; resumes from
  the latest checkpoint there. Returns the final TrainState."""
  problem = settings.settings_error(config)
  if problem:
    raise ConfigError(problem)
  workdir = os.path.abspath(os.path.expanduser(workdir))
  os.makedirs(workdir, exist_ok=True)
  is_main = jax.process_index() == 0
  trainer = Trainer(config)
  state = trainer.init_state()
  manager = checkpoints.make_manager(workdir, config.get("keep_checkpoints", 3))
  start_step = 0
  latest = manager.latest_step()
  if latest is not None and latest >= config.num_steps:
    # Finished: no data pipeline, no loop, config.json and metrics left as they are.
    state, _ = checkpoints.restore(manager, state)
    manager.close()
    print(f"{config.model}: already complete at step {latest} in {workdir} "
          f"(num_steps={config.num_steps}; the final checkpoint is "
          f"{os.path.join(workdir, 'checkpoints', str(latest))})", file=sys.stderr)
    return state
  if latest is not None:
    state, meta = checkpoints.restore(manager, state)
    start_step = int(meta["data"]["next_batch"])
    print(f"Resuming from step {start_step} in {workdir}", file=sys.stderr)
  elif config.get("init_from"):
    state = trainer.warm_start(state, config.init_from)
    print(f"Starting from the weights of {config.init_from}", file=sys.stderr)
  if is_main:
    checkpoints.write_config(workdir, config)
    _truncate_metrics(os.path.join(workdir, "metrics.jsonl"), start_step)

  local_batch = config.batch_size // jax.process_count()
  print(f"{config.model}: global batch {config.batch_size}, per process {local_batch}, "
        f"per device {config.batch_size // trainer.mesh.devices.size}, "
        f"{trainer.mesh.devices.size} devices, {jax.process_count()} processes, "
        f"{sum(x.size for x in jax.tree.leaves(state.params)):,} parameters", file=sys.stderr)
  dataset, examples = data_lib.make_dataset(config.data, local_batch, config.seed,
                                            jax.process_index(), jax.process_count())
  batches = data_lib.batch_iterator(dataset, start_step, config.data.get("num_threads", 4),
                                    config.data.get("prefetch", 8),
                                    config.data.get("num_workers", 0))

  def save(step, state):
    meta = {"data": {"next_batch": step, "seed": config.seed}, "kind": config.model}
    checkpoints.save(manager, step, state, meta)

  bar = None
  if progress and is_main:
    from tqdm.auto import tqdm
    bar = tqdm(total=config.num_steps, initial=start_step, desc=config.model, unit="step",
               dynamic_ncols=True, mininterval=1.0)
  pending = []  # Device metrics since the last check, checked before logging or saving.
  log_every = config.get("log_every", 50)
  ckpt_every = config.get("checkpoint_every", 500)
  metrics_path = os.path.join(workdir, "metrics.jsonl")
  # Checks run before every save, so a saved state always has finite parameters.
  last_saved = start_step if manager.latest_step() is not None else None
  t_last, step_last = time.perf_counter(), start_step

  def check_pending():
    for step_i, m in pending:
      values = _to_float_dict(m)
      if not _finite(values):
        bad = ", ".join(f"{k}={v}" for k, v in values.items() if not np.isfinite(v))
        last = (f"The last good checkpoint is step {last_saved} in {workdir}; lower the "
                f"learning rate or enable --config.grad_clip_norm and re-run to resume "
                f"from it." if last_saved is not None else
                "No checkpoint of this run has been saved; lower the learning rate or "
                "enable --config.grad_clip_norm and start again.")
        raise NonFiniteError(f"non-finite training values at step {step_i} ({bad}); "
                             f"stopping. {last}")
      yield step_i, values
    pending.clear()

  try:
    for step in range(start_step + 1, config.num_steps + 1):
      state, metrics = trainer.step(state, trainer.global_batch(next(batches)))
      pending.append((step, metrics))
      if step % log_every == 0 or step == config.num_steps or step % ckpt_every == 0:
        checked = list(check_pending())
        now = time.perf_counter()
        rate = (step - step_last) * config.batch_size / max(now - t_last, 1e-9)
        t_last, step_last = now, step
        step_i, values = checked[-1]
        if step % log_every == 0 or step == config.num_steps:
          values = dict(values, step=step, images_per_sec=rate,
                        skipped_images=examples.skipped.count)
          if is_main:
            with open(metrics_path, "a") as f:
              f.write(json.dumps(values) + "\n")
          if bar is not None:
            bar.set_postfix(loss=f"{values.get('loss/total', values.get('loss/distill')):.4f}",
                            img_s=f"{rate:.1f}")
        if step % ckpt_every == 0 or step == config.num_steps:
          save(step, state)
          last_saved = step
      if bar is not None:
        bar.update(1)
  finally:
    if bar is not None:
      bar.close()
    if hasattr(batches, "close"):  # Stops prefetch threads and worker processes.
      batches.close()
    manager.wait_until_finished()
    if examples.skipped.count:
      print(f"skipped {examples.skipped.count} reads of unreadable images, e.g. "
            f"{examples.skipped.examples[:3]}", file=sys.stderr)
  manager.close()
  if is_main and last_saved is not None:
    print(f"{config.model}: done; final checkpoint (step {last_saved}): "
          f"{os.path.join(workdir, 'checkpoints', str(last_saved))}", file=sys.stderr)
  return state
