"""Trains a CuDi teacher or student.

    python train.py --config configs/teacher.py --workdir runs/teacher \
        --config.data.path=IMAGE_DIR            # or --config.data.tfds_name=NAME
    python train.py --config configs/student.py --workdir runs/student \
        --config.teacher_checkpoint=runs/teacher --config.data.path=IMAGE_DIR

Re-running the same command resumes from the latest checkpoint in --workdir (a run
that already reached num_steps says so and exits 0). The end of a run names the
final checkpoint.
Multi-host: run the same command on every host; jax.distributed.initialize() is
called when --multihost is given (or the cluster environment is detected by JAX).
"""
import difflib
import os
import runpy
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file (configs/*.py).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, config.json and metrics.jsonl.")
flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() before training.")
flags.DEFINE_bool("progress", True, "Show a progress bar.")
flags.mark_flags_as_required(["config", "workdir"])


def _data_error(config):
  """A one-line reason when the image folder of ``--config.data.path`` is missing
  (checked before JAX starts), else None. tfds data is checked when it is opened."""
  data = config.get("data") if hasattr(config, "get") else None
  if data is None or data.get("tfds_name") or not data.get("path"):
    return None
  path = os.path.expanduser(str(data.path))
  if not os.path.isdir(path):
    what = "is not a folder" if os.path.exists(path) else "not found"
    return f"image folder {what}: {data.path} (--config.data.path)"
  return None


def _config_keys(config, prefix=""):
  """Every field path of a config ('data', 'data.path', ...)."""
  keys = set()
  for key, value in config.items():
    keys.add(prefix + key)
    if hasattr(value, "items"):
      keys |= _config_keys(value, prefix + key + ".")
  return keys


def _override_error(argv):
  """A one-line reason when a ``--config.KEY=...`` override names no field of the config
  file (ml_collections would raise with a long traceback), else None."""
  path = None
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      path = arg.split("=", 1)[1]
    elif arg == "--config" and i + 1 < len(argv):
      path = argv[i + 1]
  if not path:
    return None
  file, _, arg = path.partition(":")
  try:
    get_config = runpy.run_path(file)["get_config"]
    config = get_config(arg) if arg else get_config()
    keys = _config_keys(config)
  except Exception:  # pylint: disable=broad-except - the flag parser reports the file itself
    return None
  for arg in argv:
    if arg.startswith("--config.") and not arg.startswith("--config.="):
      key = arg[len("--config."):].split("=", 1)[0]
      if key not in keys:
        close = difflib.get_close_matches(key, sorted(keys), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return f"unknown config key {key!r} in --config.{key}{hint}"
  return None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  from cudi_jax.train.settings import settings_error  # no JAX
  problem = settings_error(FLAGS.config) or _data_error(FLAGS.config)
  if problem:
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(1)
  import jax
  from absl import logging

  logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  if FLAGS.multihost:
    jax.distributed.initialize()
  from cudi_jax.errors import CudiError
  from cudi_jax.train import train_lib

  try:
    train_lib.train(FLAGS.config, FLAGS.workdir, progress=FLAGS.progress)
  except CudiError as err:  # Expected failures: one line. Anything else is a bug: traceback.
    print(f"error: {err}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  unknown = _override_error(sys.argv[1:])
  if unknown:
    print(f"error: {unknown}", file=sys.stderr)
    sys.exit(2)
  app.run(main)
