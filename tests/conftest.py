"""Shared fixtures for the core tests (plain helper functions are in tests/helpers.py).

Nothing here imports JAX at module level, so NumPy-only test modules stay cheap.
Flax ``init`` is slow on CPU (tens of seconds for the teacher, RNG compilation),
so model parameters are built from ``jax.eval_shape`` structures filled with
seeded NumPy draws instead.
"""
import os
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
  sys.path.insert(0, REPO_ROOT)

from tests import helpers  # noqa: E402


@pytest.fixture(scope="session")
def student_flat():
  """Realistic-magnitude random student parameters (seeded)."""
  return helpers.random_student_flat(seed=1234, std=0.3)


@pytest.fixture(scope="session")
def student_variables(student_flat):
  return helpers.flax_student_variables(student_flat)


@pytest.fixture(scope="session")
def student_apply():
  """jit-compiled Student().apply (the 'auto' depthwise implementation)."""
  import jax
  from cudi_jax.train import models
  return jax.jit(models.Student().apply)


@pytest.fixture(scope="session")
def photo():
  """A real photo as float32 (H, W, 3) in [0, 1] (skimage's astronaut, 512x512)."""
  skdata = pytest.importorskip("skimage.data")
  return np.asarray(skdata.astronaut(), np.float32) / 255.0


@pytest.fixture
def photos(tmp_path):
  """(inputs, references): folders of three input / reference pairs
  (:func:`tests.helpers.write_pair_photos`)."""
  return helpers.write_pair_photos(tmp_path)


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
  """A folder of small photos (two in a sub-folder), a grey JPEG, a corrupt JPEG and a
  text file."""
  from PIL import Image
  root = tmp_path_factory.mktemp("images")
  rng = np.random.default_rng(0)
  (root / "sub").mkdir()
  for i, brightness in enumerate((0.1, 0.2, 0.5, 0.8, 0.9, 0.3)):
    folder = root / "sub" if i % 2 else root
    Image.fromarray(helpers.photo_like(rng, 40 + 3 * i, 48, brightness)).save(folder / f"img{i}.png")
  Image.fromarray(helpers.photo_like(rng, 36, 36, 0.4)[..., 0]).save(root / "gray.jpg")
  (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
  (root / "notes.txt").write_text("not an image")
  return root
