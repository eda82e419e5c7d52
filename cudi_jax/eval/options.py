"""Command-line checks shared by ``cudi evaluate`` and ``cudi report``.

Every bad command line ends in one line on stderr, ``PROG: error: ...``, and exit
status 2 (no usage block, no traceback): option values are checked by argparse
``type`` functions (:func:`positive_int`, :func:`exposure_list`, ...), and what
can only be checked after parsing (an output that cannot be written, a local map)
raises :class:`UsageError`. Output paths are checked before any work is done.
"""
import argparse
import os
import pathlib
import sys

from cudi_jax.errors import CudiError
from cudi_jax.exposure import settings as exposure_settings


class UsageError(CudiError, ValueError):
  """A command line that cannot be run (exit status 2)."""


class Parser(argparse.ArgumentParser):
  """An ArgumentParser whose errors are one line, ``PROG: error: MESSAGE``, exit 2
  (sub-command parsers made by ``add_subparsers`` are of this class too)."""

  def error(self, message):
    self.exit(2, f"{self.prog}: error: {message}\n")


def usage_error(prog, err):
  """Prints ``PROG: error: ERR`` (one line) and returns the exit status 2."""
  print(f"{prog}: error: {first_line(err)}", file=sys.stderr)
  return 2


def first_line(err):
  text = str(err).strip()
  return text.splitlines()[0] if text else type(err).__name__


# --------------------------------------------------------------------------- option types


def int_at_least(minimum):
  """argparse type: an integer >= ``minimum``."""
  def parse(text):
    try:
      value = int(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
      raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value
  return parse


#: argparse types: an integer >= 1, an integer >= 0.
positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def exposure_list(text, allow_empty=True):
  """Comma-separated exposure values in [0, 1] -> a list of floats."""
  values = []
  for item in text.split(","):
    item = item.strip()
    if not item:
      continue
    try:
      value = float(item)
    except ValueError:
      raise argparse.ArgumentTypeError(f"expected numbers in [0, 1], got {item!r}") from None
    try:
      values.append(float(exposure_settings.check_value(value)))
    except (ValueError, CudiError) as err:
      raise argparse.ArgumentTypeError(first_line(err)) from None
  if not values and not allow_empty:
    raise argparse.ArgumentTypeError("give at least one exposure value, e.g. 0.3,0.5,0.7")
  return values


def nonempty_exposure_list(text):
  """argparse type: :func:`exposure_list` with at least one value."""
  return exposure_list(text, allow_empty=False)


def choice_list(choices, option):
  """argparse type: comma-separated names among ``choices`` ('' for none)."""
  def parse(text):
    names = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in names if k not in choices]
    if bad:
      raise argparse.ArgumentTypeError(f"{option} takes {','.join(choices)}, got {bad[0]!r}")
    return names
  parse.__name__ = option.lstrip("-")
  return parse


# --------------------------------------------------------------------------- outputs


def _nearest_existing(path):
  path = pathlib.Path(os.path.abspath(path))
  while not path.exists() and path != path.parent:
    path = path.parent
  return path


def check_output_file(path, option):
  """Raises :class:`UsageError` unless ``path`` ('-' for stdout passes) can be
  written: not a folder, and its folder exists (or can be created) and is writable."""
  if path is None or str(path) == "-":
    return
  path = pathlib.Path(path)
  if path.is_dir():
    raise UsageError(f"{option} {path}: is a folder, not a file")
  if path.exists() and not os.access(path, os.W_OK):
    raise UsageError(f"{option} {path}: cannot write the file (permission denied)")
  _check_folder(path.parent, f"{option} {path}")


def check_output_dir(path, option):
  """Raises :class:`UsageError` unless ``path`` is a writable folder or can be made one."""
  path = pathlib.Path(path)
  if path.exists() and not path.is_dir():
    raise UsageError(f"{option} {path}: is a file, not a folder")
  _check_folder(path, f"{option} {path}")


def _check_folder(folder, what):
  base = _nearest_existing(folder)
  if not base.is_dir():
    raise UsageError(f"{what}: {base} is a file, not a folder")
  if not os.access(base, os.W_OK | os.X_OK):
    raise UsageError(f"{what}: cannot write in {base} (permission denied)")
