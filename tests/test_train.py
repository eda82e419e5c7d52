"""Training system: end-to-end train.py runs, exact resume, multi-device equivalence,
tfds data, corrupt images."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("jax")
pytest.importorskip("grain")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from configs import tiny_student, tiny_teacher  # noqa: E402
from cudi_jax.errors import ConfigError, DataError  # noqa: E402
from cudi_jax.train import checkpoints  # noqa: E402
from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from cudi_jax.train import models  # noqa: E402
from cudi_jax.train import train_lib  # noqa: E402


def _photo_like(rng, h, w, brightness):
  """A smooth, textured colour image with the given mean brightness (uint8)."""
  yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
  base = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in (0.0, 1.0, 2.0)], -1)
  img = brightness + 0.15 * base + 0.05 * rng.standard_normal((h, w, 3))
  return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("images")
  rng = np.random.default_rng(0)
  (root / "sub").mkdir()
  for i, brightness in enumerate((0.1, 0.2, 0.5, 0.8, 0.9, 0.3)):
    folder = root / "sub" if i % 2 else root
    Image.fromarray(_photo_like(rng, 40 + 3 * i, 48, brightness)).save(folder / f"img{i}.png")
  Image.fromarray(_photo_like(rng, 36, 36, 0.4)[..., 0]).save(root / "gray.jpg")
  (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
  (root / "notes.txt").write_text("not an image")
  return root


def _config(module, image_dir, **overrides):
  config = module.get_config()
  config.data.path = str(image_dir)
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
      node = node[part]
    node[leaf] = value
  return config


def _read_metrics(workdir):
  with open(Path(workdir) / "metrics.jsonl") as f:
    return [json.loads(line) for line in f]


def _run_train(*args):
  return subprocess.run([sys.executable, str(REPO / "train.py"), "--progress=false", *args],
                        cwd=REPO, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_train_py_teacher_then_student(image_dir, tmp_path):
  teacher_dir, student_dir = tmp_path / "teacher", tmp_path / "student"
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(teacher_dir),
                   f"--config.data.path={image_dir}")
  assert run.returncode == 0, run.stderr[-3000:]
  metrics = _read_metrics(teacher_dir)
  assert [m["step"] for m in metrics] == [1, 2, 3, 4]
  for m in metrics:
    for key in ("loss/total", "loss/exposure", "loss/spatial", "loss/color",
                "loss/smoothness", "grad_norm", "images_per_sec"):
      assert np.isfinite(m[key]), key
  # 8 samples from the 7 readable images + 1 corrupt one: the corrupt file is met and skipped.
  assert metrics[-1]["skipped_images"] >= 1
  assert "corrupt.jpg" in run.stderr
  assert sorted(os.listdir(teacher_dir / "checkpoints")) == ["2", "4"]
  assert json.loads((teacher_dir / "config.json").read_text())["model"] == "teacher"

  # config.teacher of a student is replaced by the checkpoint's own architecture.
  run = _run_train("--config", "configs/tiny_student.py", "--workdir", str(student_dir),
                   f"--config.data.path={image_dir}", "--config.teacher.width=8",
                   f"--config.teacher_checkpoint={teacher_dir}")
  assert run.returncode == 0, run.stderr[-3000:]
  metrics = _read_metrics(student_dir)
  assert [m["step"] for m in metrics] == [1, 2, 3, 4]
  assert all(np.isfinite(m["loss/distill"]) for m in metrics)
  # The student's config.json records the teacher it was distilled from.
  assert json.loads((student_dir / "config.json").read_text())["teacher"] == \
      json.loads((teacher_dir / "config.json").read_text())["teacher"]
  student = checkpoints.load_trained(student_dir)
  assert student.kind == "student" and student.step == 4
  assert student.params["conv1"]["pw_kernel"].shape == (4, 4)

  # A student cannot distil from a student, nor from a missing teacher.
  run = _run_train("--config", "configs/tiny_student.py", "--workdir", str(tmp_path / "bad"),
                   f"--config.data.path={image_dir}",
                   f"--config.teacher_checkpoint={student_dir}")
  assert run.returncode == 1 and "not a teacher" in run.stderr
  with pytest.raises(checkpoints.CheckpointError, match="not found"):
    checkpoints.load_teacher_for_distillation(str(tmp_path / "missing"))
  with pytest.raises(checkpoints.CheckpointError, match="teacher_checkpoint"):
    checkpoints.load_teacher_for_distillation("")


def test_teacher_checkpoint_of_another_architecture(image_dir, tmp_path):
  workdir = tmp_path / "teacher"
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=2), workdir,
                               progress=False)
  config = json.loads((workdir / "config.json").read_text())
  config["teacher"]["width"] = 8  # The checkpoint holds width 4.
  (workdir / "config.json").write_text(json.dumps(config))
  with pytest.raises(checkpoints.CheckpointError, match="does not match"):
    checkpoints.load_teacher_for_distillation(str(workdir))


def test_exact_resume(image_dir, tmp_path):
  overrides = dict(checkpoint_every=2, log_every=1)
  straight, resumed = tmp_path / "straight", tmp_path / "resumed"
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=4, **overrides),
                               straight, progress=False)
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=2, **overrides),
                               resumed, progress=False)
  assert [m["step"] for m in _read_metrics(resumed)] == [1, 2]
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=4, **overrides),
                               resumed, progress=False)
  a, b = checkpoints.load_trained(straight), checkpoints.load_trained(resumed)
  assert a.step == b.step == 4
  diffs = [np.max(np.abs(x - y)) for x, y in zip(_leaves(a.params), _leaves(b.params))]
  assert max(diffs) <= 1e-6
  # The parameters did move (a resume that silently restarted would not match above,
  # but make sure the comparison is not between two untouched inits either).
  first = checkpoints.load_trained(resumed / "checkpoints" / "2")
  assert max(np.max(np.abs(x - y)) for x, y in zip(_leaves(first.params), _leaves(b.params))) > 0
  ma, mb = _read_metrics(straight), _read_metrics(resumed)
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


def test_pipeline_is_deterministic_and_sharded_by_process(image_dir):
  config = _config(tiny_teacher, image_dir).data
  ds_a, _ = data_lib.make_dataset(config, 4, seed=3)
  ds_b, _ = data_lib.make_dataset(config, 4, seed=3)
  ds_c, _ = data_lib.make_dataset(config, 4, seed=4)
  a, b, c = ds_a[5], ds_b[5], ds_c[5]
  np.testing.assert_array_equal(a["image"], b["image"])
  np.testing.assert_array_equal(a["exposure"], b["exposure"])
  assert not np.array_equal(a["image"], c["image"])
  assert a["image"].shape == (4, 32, 32, 3) and a["image"].dtype == np.float32
  assert a["exposure"].shape == (4, 32, 32, 1)
  assert 0.0 <= a["image"].min() and a["image"].max() <= 1.0
  assert 0.2 <= a["exposure"].min() and a["exposure"].max() <= 0.8
  # Two processes with 2 samples each see exactly the samples of the global batch of 4.
  p0, _ = data_lib.make_dataset(config, 2, seed=3, process_index=0, process_count=2)
  p1, _ = data_lib.make_dataset(config, 2, seed=3, process_index=1, process_count=2)
  merged = np.concatenate([p0[5]["image"], p1[5]["image"]])
  key = lambda x: sorted(float(v) for v in x.reshape(len(x), -1).sum(1))  # noqa: E731
  assert key(merged) == pytest.approx(key(a["image"]), rel=1e-6)
  # Resuming the iterator at batch 5 yields batch 5.
  first = next(data_lib.batch_iterator(ds_a, 5, num_threads=1, prefetch=1))
  np.testing.assert_array_equal(first["image"], a["image"])


def test_following_maps_replace_that_fraction_of_training_maps(image_dir):
  from cudi_jax.exposure import resolve, rules
  config = _config(tiny_teacher, image_dir).data
  plain, _ = data_lib.make_dataset(config, 4, seed=3)
  config.following_maps = 1.0
  following, _ = data_lib.make_dataset(config, 4, seed=3)
  a, b = plain[2], following[2]
  np.testing.assert_array_equal(a["image"], b["image"])   # same crops
  for image, emap in zip(b["image"], b["exposure"][..., 0]):
    cells = resolve.ImageStats(image).cell_brightness()
    # An input-following map: constant per 4x4 cell, a power of each cell's brightness.
    np.testing.assert_array_equal(emap[::4, ::4].shape, cells.shape)
    assert np.all(emap[0:4, 0:4] == emap[0, 0])
    # Brighter cells are never asked for less (a non-negative strength).
    order = np.argsort(cells.ravel())
    assert np.all(np.diff(emap[::4, ::4].ravel()[order]) >= -1e-6)
    assert emap.min() >= rules.AUTO_RANGE[0] and emap.max() <= rules.AUTO_RANGE[1]
  assert not np.array_equal(a["exposure"], b["exposure"])
  # 0 keeps every sample as it was (the extra draws come after the two-region map).
  config.following_maps = 0.0
  again, _ = data_lib.make_dataset(config, 4, seed=3)
  np.testing.assert_array_equal(again[2]["exposure"], a["exposure"])
  # A fraction in between mixes both kinds.
  config.following_maps = 0.5
  mixed, _ = data_lib.make_dataset(config, 4, seed=3)
  kinds = [len(np.unique(m)) <= 2 for i in range(4) for m in mixed[i]["exposure"][..., 0]]
  assert 0 < sum(kinds) < len(kinds)


def test_exposure_range_sets_the_training_map_values(image_dir):
  config = _config(tiny_teacher, image_dir).data
  config.exposure_range = (0.05, 0.1)
  ds, _ = data_lib.make_dataset(config, 4, seed=3)
  values = np.concatenate([ds[i]["exposure"].ravel() for i in range(3)])
  assert values.min() >= 0.05 and values.max() <= 0.1 and values.std() > 0.005
  config.exposure_range = (0.9, 0.3)
  with pytest.raises(ValueError, match="exposure_range"):
    data_lib.make_dataset(config, 4, seed=3)


def test_worker_processes_give_the_same_batches(image_dir):
  config = _config(tiny_teacher, image_dir).data
  ds, _ = data_lib.make_dataset(config, 3, seed=1)
  batches = data_lib.batch_iterator(ds, 4, num_threads=1, prefetch=4, num_workers=2)
  try:
    for index in range(4, 10):  # crosses the 8-file epoch and skips corrupt.jpg
      got, want = next(batches), ds[index]
      np.testing.assert_array_equal(got["image"], want["image"])
      np.testing.assert_array_equal(got["exposure"], want["exposure"])
  finally:
    batches.close()


def test_corrupt_images_are_skipped_and_counted(image_dir):
  config = _config(tiny_teacher, image_dir).data
  ds, examples = data_lib.make_dataset(config, 1, seed=0)
  for i in range(16):  # two epochs of the 8 files
    assert ds[i]["image"].shape == (1, 32, 32, 3)
  assert examples.skipped.count >= 1
  assert all("corrupt.jpg" in e for e in examples.skipped.examples)


def test_grayscale_and_small_images_are_cropped_to_patches(tmp_path):
  Image.fromarray(np.full((10, 20), 77, np.uint8)).save(tmp_path / "small_gray.png")
  rgba = np.zeros((50, 60, 4), np.uint8)
  rgba[..., :3] = 200
  Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
  config = _config(tiny_teacher, tmp_path).data
  ds, examples = data_lib.make_dataset(config, 2, seed=0)
  batch = ds[0]
  assert batch["image"].shape == (2, 32, 32, 3) and examples.skipped.count == 0
  values = sorted(np.unique(np.round(batch["image"] * 255)).tolist())
  assert set(values) <= {77.0, 200.0}


def test_tfds_source_from_converted_folder(image_dir, tmp_path):
  pytest.importorskip("tensorflow_datasets")
  from cudi_jax.train import tfds_convert
  count, skipped = tfds_convert.convert(str(image_dir), "cudi_test_photos", str(tmp_path),
                                        log=lambda *_: None)
  assert count == 7 and len(skipped) == 1 and "corrupt.jpg" in skipped[0]
  config = _config(tiny_teacher, image_dir, **{"data.path": "",
                                               "data.tfds_name": "cudi_test_photos",
                                               "data.tfds_data_dir": str(tmp_path),
                                               "num_steps": 2})
  ds, _ = data_lib.make_dataset(config.data, 2, seed=0)
  assert len(data_lib.make_source(config.data)) == 7
  assert ds[0]["image"].shape == (2, 32, 32, 3)
  workdir = tmp_path / "run"
  train_lib.train(config, workdir, progress=False)
  assert [m["step"] for m in _read_metrics(workdir)] == [1, 2]


def test_missing_data_gives_clear_errors(tmp_path):
  config = tiny_teacher.get_config()
  with pytest.raises(ConfigError, match="--config.data.path"):
    data_lib.make_source(config.data)
  config.data.path = str(tmp_path / "nowhere")
  with pytest.raises(DataError, match="not found"):
    data_lib.make_source(config.data)
  config.data.path = str(tmp_path)
  with pytest.raises(DataError, match="no images"):
    data_lib.make_source(config.data)


def test_non_finite_loss_stops_with_last_good_checkpoint(image_dir, tmp_path):
  workdir = tmp_path / "nan"
  config = _config(tiny_teacher, image_dir, num_steps=6, checkpoint_every=2, log_every=1,
                   learning_rate=float("nan"))
  # NaN learning rate: the first update makes the parameters NaN, the second step's loss is NaN.
  with pytest.raises(train_lib.NonFiniteError, match="non-finite"):
    train_lib.train(config, workdir, progress=False)
  assert not (workdir / "checkpoints").exists() or not os.listdir(workdir / "checkpoints")


def test_non_finite_update_is_never_checkpointed(image_dir, tmp_path):
  # A NaN learning rate: step 1's loss and gradient are finite but its update is not.
  # Saving every step, the NaN parameters must be caught before they are saved.
  workdir = tmp_path / "nan1"
  config = _config(tiny_teacher, image_dir, num_steps=4, checkpoint_every=1, log_every=1,
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


def test_slope_weight_adds_the_term_to_the_teacher_step(image_dir):
  config = _config(tiny_teacher, image_dir, **{"loss_weights.slope": 0.5, "max_slope": 2.0})
  trainer = train_lib.Trainer(config)
  ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
  _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
  values = {k: float(v) for k, v in metrics.items()}
  assert np.isfinite(values["loss/slope"]) and values["loss/slope"] >= 0
  rest = sum(w * values[f"loss/{k}"] for k, w in config.loss_weights.items() if k != "slope")
  assert values["loss/total"] == pytest.approx(rest + 0.5 * values["loss/slope"], rel=1e-5)
  assert "loss/slope" not in train_lib.Trainer(_config(tiny_teacher, image_dir)).step(
      trainer.init_state(), trainer.global_batch(ds[0]))[1]


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


def test_warm_start_from_another_run(image_dir, tmp_path):
  source, target = tmp_path / "source", tmp_path / "target"
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=2),
                               source, progress=False)
  trained = checkpoints.load_trained(source)
  config = _config(tiny_teacher, image_dir, num_steps=1, init_from=str(source))
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
  student = _config(tiny_student, image_dir, teacher_checkpoint=str(source), init_from=str(source))
  trainer = train_lib.Trainer(student)
  with pytest.raises(checkpoints.CheckpointError, match="holds a teacher"):
    trainer.warm_start(trainer.init_state(), str(source))
  wider = _config(tiny_teacher, image_dir, init_from=str(source))
  wider.teacher.width = tiny_teacher.get_config().teacher.width * 2
  trainer = train_lib.Trainer(wider)
  with pytest.raises(checkpoints.CheckpointError, match="architecture"):
    trainer.warm_start(trainer.init_state(), str(source))


def test_distill_dark_weight_reaches_the_student_step(image_dir, tmp_path):
  teacher_dir = tmp_path / "teacher"
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=1, checkpoint_every=1),
                               teacher_dir, progress=False)
  got = {}
  for weight in (0.0, 0.05):
    config = _config(tiny_student, image_dir, num_steps=1, teacher_checkpoint=str(teacher_dir),
                     distill_dark_weight=weight)
    trainer = train_lib.Trainer(config)
    ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
    _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
    got[weight] = {k: float(v) for k, v in metrics.items()}
  # Same weights, same batch: the unweighted clipped L1 agrees, the trained loss does not.
  assert got[0.0]["loss/distill_clipped"] == pytest.approx(got[0.05]["loss/distill_clipped"],
                                                           rel=1e-6)
  assert got[0.0]["loss/distill"] != pytest.approx(got[0.05]["loss/distill"], rel=1e-4)


def test_exports_serve_as_teacher_and_warm_start(image_dir, tmp_path):
  sys.path.insert(0, str(REPO))
  import export as export_script

  source = tmp_path / "source"
  train_lib.train(_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=2),
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
    config = _config(tiny_student, image_dir, num_steps=1, teacher_checkpoint=str(teacher))
    trainer = train_lib.Trainer(config)
    ds, _ = data_lib.make_dataset(config.data, config.batch_size, seed=0)
    _, metrics = trainer.step(trainer.init_state(), trainer.global_batch(ds[0]))
    firsts.append(float(metrics["loss/distill"]))
  assert firsts[0] == firsts[1]
  # Warm start from the export: the same weights as from the workdir.
  config = _config(tiny_teacher, image_dir, num_steps=1)
  trainer = train_lib.Trainer(config)
  started = trainer.warm_start(trainer.init_state(), str(exported))
  for x, y in zip(_leaves(started.params), _leaves(trained.params)):
    np.testing.assert_array_equal(x, y)
  with pytest.raises(checkpoints.CheckpointError, match="one step"):
    checkpoints.load_trained(str(exported), step=1)
  (tmp_path / "bad.npz").write_bytes(b"not a zip")
  with pytest.raises(checkpoints.CheckpointError, match="not a valid"):
    checkpoints.load_trained(str(tmp_path / "bad.npz"))


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


@pytest.mark.slow
def test_train_on_budget_probes_plans_trains_and_exports(image_dir, tmp_path):
  from cudi_jax import weights

  runs = tmp_path / "runs"
  cmd = [sys.executable, str(REPO / "tools" / "train_on_budget.py"), "--data", str(image_dir),
         "--runs", str(runs), "--budget", "900", "--reserve", "6", "--probe-steps", "4",
         "--max-steps", "3",
         "--teacher-config", str(REPO / "configs" / "tiny_teacher.py"),
         "--student-config", str(REPO / "configs" / "tiny_student.py")]
  run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
  assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
  plan = json.loads((runs / "plan.json").read_text())
  assert plan["probe_images_per_sec"] > 0
  # Sized from the measured rate: seconds * images/s / batch (2 for the tiny configs),
  # then capped by --max-steps (the budget is generous so that a loaded machine's slow
  # probe still leaves time; the cap keeps the runs short).
  for kind in ("teacher", "student"):
    assert plan[f"{kind}_steps"] == min(3, plan[f"{kind}_steps_for_time"])
  assert plan["teacher_steps_for_time"] == max(1, int(plan["teacher_seconds"]
                                                      * plan["probe_images_per_sec"] / 2))
  assert plan["teacher_steps_for_time"] > 3 and plan["max_steps"] == 3
  assert plan["teacher_seconds"] + plan["student_seconds"] <= 900 - 6
  assert _read_metrics(runs / "teacher")[-1]["step"] == plan["teacher_steps"]
  assert _read_metrics(runs / "student")[-1]["step"] == plan["student_steps"]
  teacher = weights.load_export(str(runs / "exports" / "teacher.npz"), kind="teacher")
  student = weights.load_export(str(runs / "exports" / "student.npz"), kind="student")
  assert teacher.metadata["training"]["step"] == plan["teacher_steps"]
  assert student.metadata["training"]["step"] == plan["student_steps"]
  assert "verify: OK" in run.stdout
  # The student was distilled from this run's teacher.
  config = json.loads((runs / "student" / "config.json").read_text())
  assert config["teacher_checkpoint"] == str(runs / "teacher")
  # Re-running reuses the plan and finds both runs finished.
  again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
  assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
  assert "reusing" in again.stdout
  assert again.stdout.count("train.py --config=") == 2  # teacher and student, no probe
  assert json.loads((runs / "plan.json").read_text()) == plan


def _error_lines(stderr):
  return [l for l in stderr.splitlines() if l.strip()]


def test_train_py_unreadable_folder_is_one_line(tmp_path):
  """Every image unreadable: one error line naming examples, no traceback."""
  for i in range(3):
    (tmp_path / f"bad{i}.jpg").write_bytes(b"not a jpeg")
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path}")
  assert run.returncode == 1, run.stderr[-3000:]
  assert "Traceback" not in run.stderr
  errors = [l for l in run.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "unreadable images" in errors[0], run.stderr[-3000:]
  assert "bad" in errors[0] and ".jpg" in errors[0]
  # The examples are distinct files, not the same one repeated.
  examples = [part for part in errors[0].split("bad")[1:]]
  assert len(set(e[:1] for e in examples)) == len(examples)


def test_train_py_missing_data_path_before_jax(tmp_path):
  """A missing --config.data.path is one line, before JAX starts."""
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path / 'nowhere'}")
  assert run.returncode == 1
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr[-3000:]
  assert "nowhere" in lines[0] and "--config.data.path" in lines[0]
  assert not (tmp_path / "wd").exists()


def test_train_py_reports_final_checkpoint_and_finished_runs(image_dir, tmp_path):
  """The end of a run says where the final checkpoint is; a rerun of a finished
  run says so and exits 0 without starting the loop."""
  workdir = tmp_path / "wd"
  args = ("--config", "configs/tiny_teacher.py", "--workdir", str(workdir),
          f"--config.data.path={image_dir}", "--config.num_steps=2",
          "--config.checkpoint_every=2")
  run = _run_train(*args)
  assert run.returncode == 0, run.stderr[-3000:]
  final = [l for l in run.stderr.splitlines() if "final checkpoint" in l]
  assert len(final) == 1 and str(workdir / "checkpoints" / "2") in final[0], run.stderr
  metrics = (workdir / "metrics.jsonl").read_text()
  again = _run_train(*args)
  assert again.returncode == 0, again.stderr[-3000:]
  assert f"already complete at step 2 in {workdir}" in again.stderr
  assert "global batch" not in again.stderr  # the loop was not set up
  assert (workdir / "metrics.jsonl").read_text() == metrics


@pytest.mark.parametrize("override, message", [
    ("--config.batch_size=0", "batch_size must be a positive integer, got 0"),
    ("--config.batch_size=-4", "batch_size must be a positive integer, got -4"),
    ("--config.num_steps=-5", "num_steps must be a positive integer, got -5"),
    ("--config.checkpoint_every=0", "checkpoint_every must be a positive integer, got 0"),
])
def test_train_py_refuses_bad_counts_before_jax(tmp_path, override, message):
  """Counts that cannot work are one line, before JAX starts, and nothing is written."""
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   f"--config.data.path={tmp_path}", override)
  assert run.returncode == 1
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and message in lines[0], run.stderr[-3000:]
  assert not (tmp_path / "wd").exists()


def test_train_py_names_an_unknown_config_key_and_the_closest(tmp_path):
  run = _run_train("--config", "configs/tiny_teacher.py", "--workdir", str(tmp_path / "wd"),
                   "--config.batchsize=4", "--config.data.pth=x")
  assert run.returncode == 2
  lines = _error_lines(run.stderr)
  assert len(lines) == 1 and "unknown config key 'batchsize'" in lines[0], run.stderr[-3000:]
  assert "batch_size" in lines[0] and "Traceback" not in run.stderr


def test_train_refuses_bad_counts_when_called_directly(tmp_path, image_dir):
  with pytest.raises(ConfigError, match="checkpoint_every"):
    train_lib.train(_config(tiny_teacher, image_dir, num_steps=2, checkpoint_every=0),
                    str(tmp_path / "wd"), progress=False)
