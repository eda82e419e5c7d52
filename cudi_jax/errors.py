"""The project's own error types.

Every expected failure (a bad file, setting, config or checkpoint) raises a
subclass of :class:`CudiError`; the command-line entry points print those as one
line and exit with status 1. Anything else is a bug and keeps its traceback.
"""


class CudiError(Exception):
  """Base of the project's expected, user-facing errors."""


class ConfigError(CudiError, ValueError):
  """A training config that cannot be run."""


class DataError(CudiError, OSError):
  """Training data that cannot be found or read."""
