"""Checks of a training config that need no JAX (``train.py`` runs them before JAX
starts; :func:`cudi_jax.train.train_lib.train` runs them too)."""

#: Settings that must be positive integers.
POSITIVE_SETTINGS = ("num_steps", "batch_size", "checkpoint_every", "log_every")


def settings_error(config):
  """A one-line reason when a setting that must be a positive integer is not, else None."""
  for key in POSITIVE_SETTINGS:
    value = config.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
      return f"--config.{key} must be a positive integer, got {value!r}"
  return None
