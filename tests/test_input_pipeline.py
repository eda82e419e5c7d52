"""The input pipeline (cudi_jax.train.input_pipeline): determinism, sharding, training
maps, worker processes, corrupt and odd images."""

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("jax")
pytest.importorskip("grain")

from configs import tiny_teacher  # noqa: E402
from cudi_jax.errors import ConfigError, DataError  # noqa: E402
from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from tests import helpers  # noqa: E402


def test_pipeline_is_deterministic_and_sharded_by_process(image_dir):
  config = helpers.training_config(tiny_teacher, image_dir).data
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
  config = helpers.training_config(tiny_teacher, image_dir).data
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
  config = helpers.training_config(tiny_teacher, image_dir).data
  config.exposure_range = (0.05, 0.1)
  ds, _ = data_lib.make_dataset(config, 4, seed=3)
  values = np.concatenate([ds[i]["exposure"].ravel() for i in range(3)])
  assert values.min() >= 0.05 and values.max() <= 0.1 and values.std() > 0.005
  config.exposure_range = (0.9, 0.3)
  with pytest.raises(ValueError, match="exposure_range"):
    data_lib.make_dataset(config, 4, seed=3)

def test_worker_processes_give_the_same_batches(image_dir):
  config = helpers.training_config(tiny_teacher, image_dir).data
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
  config = helpers.training_config(tiny_teacher, image_dir).data
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
  config = helpers.training_config(tiny_teacher, tmp_path).data
  ds, examples = data_lib.make_dataset(config, 2, seed=0)
  batch = ds[0]
  assert batch["image"].shape == (2, 32, 32, 3) and examples.skipped.count == 0
  values = sorted(np.unique(np.round(batch["image"] * 255)).tolist())
  assert set(values) <= {77.0, 200.0}

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
