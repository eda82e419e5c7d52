"""Progress bars for every ``cudi`` command: one rule and one pair of options (and
:func:`show_name`, how file names appear in one-line messages).

The rule: a bar is drawn only when stderr is a terminal and neither ``--quiet`` nor
``--no-progress`` is given, so pipes, logs and tests never receive bar text. Bars go
to stderr; anything printed while a bar is shown goes through :func:`write` (stderr by
default), never to stdout, which carries only what a script would parse.

    from cudi_jax import progress
    progress.add_arguments(parser)                     # --quiet, --no-progress
    show = progress.enabled(args.quiet, args.no_progress)
    for item in progress.wrap(items, "report", unit="photo", enabled=show): ...
"""
import os
import sys
import unicodedata


def show_name(name):
  """A file name for a one-line message: as is, or quoted with escapes (Python's
  repr) when it holds control characters (a newline would split the line),
  line separators or undecodable bytes (surrogate escapes)."""
  text = os.fspath(name)
  if isinstance(text, bytes):
    return repr(text)
  if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text):
    return repr(text)
  return text


def on_terminal(stream=None):
  """Whether ``stream`` (default: stderr) is a terminal."""
  stream = sys.stderr if stream is None else stream
  try:
    return bool(stream.isatty())
  except (AttributeError, ValueError):  # no isatty, or a closed stream
    return False


def enabled(quiet=False, no_progress=False, stream=None):
  """The one rule: bars only on a terminal, never with --quiet or --no-progress."""
  return not (quiet or no_progress) and on_terminal(stream)


def add_arguments(parser, quiet_flags=("-q", "--quiet"),
                  quiet_help="print errors and the summary only"):
  """Adds ``--quiet`` (with ``quiet_flags``) and ``--no-progress`` to an argparse parser."""
  parser.add_argument(*quiet_flags, dest="quiet", action="store_true", help=quiet_help)
  parser.add_argument("--no-progress", action="store_true",
                      help="no progress bars (they are drawn only when stderr is a terminal)")
  return parser


def failure_reason(err):
  """The one line a failed file's error line gives: the error's first line (its type
  when it has no message; 'out of memory' for a MemoryError)."""
  if isinstance(err, MemoryError):
    return "out of memory"
  text = str(err)
  return text.splitlines()[0] if text else type(err).__name__


def summary(prog, done, skipped, failed, seconds):
  """The last line of a batch command, on stderr."""
  print(f"{prog}: {done} done, {skipped} skipped, {failed} failed in {seconds:.1f} s",
        file=sys.stderr)


def _tqdm():
  try:
    from tqdm import tqdm
  except ImportError:  # pragma: no cover - tqdm is a dependency
    return None
  return tqdm


def bar(total, desc, unit="it", enabled=True, **kwargs):
  """A tqdm bar on stderr (updated by hand), or None when not ``enabled``."""
  tqdm = _tqdm() if enabled else None
  if tqdm is None:
    return None
  return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
              dynamic_ncols=True, **kwargs)


def wrap(iterable, desc, unit="it", enabled=True, total=None, **kwargs):
  """``iterable`` wrapped in a tqdm bar on stderr, or ``iterable`` itself when not
  ``enabled``."""
  tqdm = _tqdm() if enabled else None
  if tqdm is None:
    return iterable
  return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False,
              dynamic_ncols=True, **kwargs)


def write(message, active_bar=None, file=None):
  """Prints a line without breaking ``active_bar``; to stderr unless ``file`` is given
  (tqdm's own ``write`` would default to stdout)."""
  file = sys.stderr if file is None else file
  if active_bar is not None:
    active_bar.write(message, file=file)
  else:
    print(message, file=file)
