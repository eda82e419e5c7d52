"""Orbax checkpoints of training runs, and loading trained models from them.

A workdir holds ``config.json`` (the full training config) and
``checkpoints/<step>/`` with two items: ``state`` (the TrainState pytree: step,
params, optimizer state, RNG key data) and ``meta`` (JSON: data iterator position
``{"data": {"next_batch": step}}`` and the model kind).
"""
import dataclasses
import json
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from cudi_jax import weights
from cudi_jax.errors import CudiError
from cudi_jax.train import models


class CheckpointError(CudiError, ValueError):
  """A checkpoint that is missing or does not fit what was asked for."""


def make_manager(workdir, max_to_keep=3):
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
  return ocp.CheckpointManager(os.path.join(os.path.abspath(workdir), "checkpoints"),
                               options=options, item_names=("state", "meta"))


def save(manager, step, state, meta):
  manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                             meta=ocp.args.JsonSave(meta)))


def restore(manager, target_state, step=None):
  """Restores into the structure, shardings and dtypes of ``target_state``."""
  step = manager.latest_step() if step is None else step
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target_state)
  restored = manager.restore(step, args=ocp.args.Composite(
      state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()))
  return restored.state, restored.meta


def config_to_dict(config):
  return json.loads(config.to_json_best_effort()) if hasattr(config, "to_json_best_effort") \
      else dict(config)


def write_config(workdir, config):
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump(config_to_dict(config), f, indent=2, sort_keys=True)


@dataclasses.dataclass
class TrainedModel:
  kind: str  # 'teacher' or 'student'
  model: Any  # the flax module
  params: Any  # nested dict of NumPy arrays (the 'params' collection)
  config: dict  # the training config
  step: int

  @property
  def teacher_config(self):
    return dict(self.config["teacher"])


def _split_path(path):
  """workdir or workdir/checkpoints[/<step>] -> (workdir, checkpoints dir, step or None)."""
  path = os.path.abspath(os.path.expanduser(path))
  if not os.path.exists(path):
    raise CheckpointError(f"checkpoint not found: {path}")
  name = os.path.basename(path)
  if name.isdigit() and os.path.basename(os.path.dirname(path)) == "checkpoints":
    return os.path.dirname(os.path.dirname(path)), os.path.dirname(path), int(name)
  if name == "checkpoints":
    return os.path.dirname(path), path, None
  return path, os.path.join(path, "checkpoints"), None


def _build_model(kind, config, where):
  """The Flax module of a ``kind`` run from its config dict."""
  if kind not in models.KINDS:
    raise CheckpointError(f"{where}: unknown model kind {kind!r}")
  return models.build(kind, config.get(kind))


def _load_export(path):
  """A TrainedModel from an ``export.py`` file: the architecture from its metadata,
  the rest of the config from the training config it records (if any)."""
  try:
    export = weights.load_export(path)
  except (OSError, weights.ExportFormatError) as err:
    raise CheckpointError(str(err)) from None
  config = dict(export.metadata.get("training", {}).get("config") or {})
  config["model"] = export.kind
  arch = {k: v for k, v in export.architecture.items()
          if k not in ("name", "in_channels", "out_channels")}
  config[export.kind] = dict(config.get(export.kind) or {}, **arch)
  model = _build_model(export.kind, config, path)
  params = jax.tree.map(lambda x: np.asarray(x, np.float32), export.nested_params())
  step = int(export.metadata.get("training", {}).get("step") or 0)
  return TrainedModel(kind=export.kind, model=model, params=params, config=config, step=step)


def load_trained(path, step=None, kind=None):
  """The one loader of trained weights on the JAX side: a teacher or student from a
  workdir (latest checkpoint), its ``checkpoints`` folder, one ``checkpoints/<step>``
  folder, or a ``.npz`` made by ``export.py`` (weights only: enough to evaluate,
  distill from or warm-start; read by :func:`cudi_jax.weights.load_export`).
  kind: 'teacher' or 'student' to refuse the other kind with a clear error."""
  trained = _load_trained(path, step)
  if kind is not None and trained.kind != kind:
    raise CheckpointError(f"{path} holds a {trained.kind}, not a {kind}")
  return trained


def _load_trained(path, step):
  path = os.fspath(path)
  if path.lower().endswith(".npz") and os.path.isfile(os.path.expanduser(path)):
    if step is not None:
      raise CheckpointError(f"{path} is an export, which holds one step only")
    return _load_export(os.path.expanduser(path))
  workdir, ckpt_dir, path_step = _split_path(path)
  config_path = os.path.join(workdir, "config.json")
  if not os.path.exists(config_path):
    raise CheckpointError(f"{workdir} is not a training workdir (no config.json)")
  with open(config_path) as f:
    config = json.load(f)
  kind = config.get("model")
  step = path_step if step is None else step
  manager = ocp.CheckpointManager(ckpt_dir, item_names=("state", "meta"))
  if step is None:
    step = manager.latest_step()
  if step is None or step not in manager.all_steps():
    raise CheckpointError(f"no checkpoint{'' if step is None else f' for step {step}'} "
                          f"in {ckpt_dir}")
  model = _build_model(kind, config, config_path)
  image = np.zeros((1, 16, 16, 3), np.float32)
  emap = np.zeros((1, 16, 16, 1), np.float32)
  expected = jax.eval_shape(lambda: model.init(jax.random.key(0), image, emap)["params"])
  restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
  params = restored.state["params"]
  got = jax.tree.map(lambda x: tuple(np.shape(x)), params)
  want = jax.tree.map(lambda x: tuple(x.shape), expected)
  if got != want:
    raise CheckpointError(f"checkpoint {ckpt_dir}/{step} does not match the {kind} "
                          f"architecture in {config_path}")
  manager.close()
  params = jax.tree.map(lambda x: np.asarray(x, np.float32), params)
  return TrainedModel(kind=kind, model=model, params=params, config=config, step=int(step))


def load_teacher_for_distillation(path):
  """The frozen teacher named by a student config, with a clear error if it is
  missing or not a teacher."""
  if not path:
    raise CheckpointError("the student needs a trained teacher: set "
                          "--config.teacher_checkpoint=WORKDIR_OR_CHECKPOINT_DIR")
  return load_trained(path, kind="teacher")
