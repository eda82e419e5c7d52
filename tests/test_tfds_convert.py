"""Converting an image folder to a tensorflow-datasets ArrayRecord dataset, and reading it."""

import pytest

pytest.importorskip("jax")
pytest.importorskip("grain")

from configs import tiny_teacher  # noqa: E402
from cudi_jax.train import input_pipeline as data_lib  # noqa: E402
from cudi_jax.train import train_lib  # noqa: E402
from tests import helpers  # noqa: E402


def test_tfds_source_from_converted_folder(image_dir, tmp_path):
  pytest.importorskip("tensorflow_datasets")
  from cudi_jax.train import tfds_convert
  count, skipped = tfds_convert.convert(str(image_dir), "cudi_test_photos", str(tmp_path),
                                        log=lambda *_: None)
  assert count == 7 and len(skipped) == 1 and "corrupt.jpg" in skipped[0]
  config = helpers.training_config(tiny_teacher, image_dir, **{"data.path": "",
                                               "data.tfds_name": "cudi_test_photos",
                                               "data.tfds_data_dir": str(tmp_path),
                                               "num_steps": 2})
  ds, _ = data_lib.make_dataset(config.data, 2, seed=0)
  assert len(data_lib.make_source(config.data)) == 7
  assert ds[0]["image"].shape == (2, 32, 32, 3)
  workdir = tmp_path / "run"
  train_lib.train(config, workdir, progress=False)
  assert [m["step"] for m in helpers.read_metrics(workdir)] == [1, 2]
