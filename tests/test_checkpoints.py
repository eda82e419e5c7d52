"""Loading trained weights (cudi_jax.train.checkpoints): workdirs, checkpoint folders
and exports, as teachers and as warm starts, with clear errors."""
import json

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("grain")

from configs import tiny_student, tiny_teacher  # noqa: E402
from cudi_jax.train import checkpoints  # noqa: E402
from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from cudi_jax.train import train_lib  # noqa: E402
from tests import helpers  # noqa: E402


def _leaves(tree):
  import jax
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_teacher_checkpoint_of_another_architecture(image_dir, tmp_path):
  workdir = tmp_path / "teacher"
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=2), workdir,
                               progress=False)
  config = json.loads((workdir / "config.json").read_text())
  config["teacher"]["width"] = 8  # The checkpoint holds width 4.
  (workdir / "config.json").write_text(json.dumps(config))
  with pytest.raises(checkpoints.CheckpointError, match="does not match"):
    checkpoints.load_teacher_for_distillation(str(workdir))


def test_exports_serve_as_teacher_and_warm_start(image_dir, tmp_path):
  import export as export_script

  source = tmp_path / "source"
  train_lib.train(helpers.training_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=2),
                               source, progress=False)
  trained = checkpoints.load_trained(source)
  exported = tmp_path / "teacher.npz"
  export_script.export_trained(trained, str(exported))
  loaded = checkpoints.load_trained(str(exported))
  assert loaded.kind == "teacher" and loaded.step == 2
  assert loaded.teacher_config["width"] == tiny_teacher.get_config().teacher.width
  for x, y in zip(_leaves(loaded.params), _leaves(trained.params)):
    np.testing.assert_array_equal(x, y)
  # The exported teacher distils exactly like its checkpoint: same first student step.
  firsts = []
  for teacher in (source, exported):
    config = helpers.training_config(tiny_student, image_dir, num_steps=1, teacher_checkpoint=str(teacher))
    trainer = train_lib.Trainer(config)
    ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
    _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
    firsts.append(float(metrics["loss/distill"]))
  assert firsts[0] == firsts[1]
  # Warm start from the export: the same weights as from the workdir.
  config = helpers.training_config(tiny_teacher, image_dir, num_steps=1)
  trainer = train_lib.Trainer(config)
  started = trainer.warm_start(trainer.init_state(), str(exported))
  for x, y in zip(_leaves(started.params), _leaves(trained.params)):
    np.testing.assert_array_equal(x, y)
  with pytest.raises(checkpoints.CheckpointError, match="one step"):
    checkpoints.load_trained(str(exported), step=1)
  (tmp_path / "bad.npz").write_bytes(b"not a zip")
  with pytest.raises(checkpoints.CheckpointError, match="not a valid"):
    checkpoints.load_trained(str(tmp_path / "bad.npz"))