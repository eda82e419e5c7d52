"""The built-in sample photo and `cudi enhance --demo` (cudi_jax.demo)."""
import os

import pytest

from cudi_jax import cli
from cudi_jax import demo
from cudi_jax import weights as weights_lib
from cudi_jax.io import decode
from tests import helpers


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
  path = tmp_path_factory.mktemp("w") / "student.npz"
  weights_lib.export_student(helpers.random_student_flat(seed=5, std=0.3), {}, path)
  return str(path)


def run(*args):
  return cli.main(["enhance", *map(str, args), "--no-progress"])


def test_demo(tmp_path, weights, capsys):
  out = tmp_path / "demo"
  assert run("--demo", "-o", out, "--weights", weights) == 0
  names = sorted(os.listdir(out))
  assert names == ["coffee_dark.jpg", "coffee_dark_adaptive.jpg", "coffee_dark_auto.jpg",
                   "coffee_dark_exposure-0.40.jpg", "coffee_dark_exposure-0.70.jpg",
                   "comparison.jpg"]

  with open(demo.sample_photo_path(), "rb") as f:
    assert (out / "coffee_dark.jpg").read_bytes() == f.read()
  dark = decode.read_image(out / "coffee_dark_exposure-0.40.jpg").array.mean()
  bright = decode.read_image(out / "coffee_dark_exposure-0.70.jpg").array.mean()
  assert bright > dark
  assert run("--demo", "-o", out, "--weights", weights) == 0
  assert "6 skipped" in capsys.readouterr().err


def test_sample_photo_is_small_and_documented():

  assert os.path.getsize(demo.sample_photo_path()) < 150_000
  assert demo.sample_photo().shape == (400, 600, 3)
  readme = os.path.join(os.path.dirname(demo.sample_photo_path()), "README.md")
  text = open(readme).read()
  assert "CC0" in text and "coffee" in text