"""Training settings checked before JAX starts (cudi_jax.train.settings)."""
import pytest

ml_collections = pytest.importorskip("ml_collections")

from cudi_jax.train import settings  # noqa: E402


def test_counts_must_be_positive_integers():
  config = ml_collections.ConfigDict(dict(num_steps=10, batch_size=8, checkpoint_every=5,
                                          log_every=1))
  assert settings.settings_error(config) is None
  for key, bad in (("num_steps", -5), ("batch_size", 0), ("checkpoint_every", 0),
                   ("log_every", 2.5), ("batch_size", True)):
    broken = ml_collections.ConfigDict(dict(config, **{key: bad}))
    assert f"--config.{key} must be a positive integer" in settings.settings_error(broken)
