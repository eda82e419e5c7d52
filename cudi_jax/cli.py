"""The ``cudi`` command.

    cudi enhance INPUT... -o OUTPUT [options]   enhance files, folders (recursive), globs
    cudi enhance --demo -o cudi-demo            the built-in sample photo, several settings
    cudi evaluate ...                           cudi_jax.eval.evaluate (needs the [train] extra)
    cudi report ...                             cudi_jax.eval.report
    cudi edit PHOTO                             cudi_jax.edit.command (needs the [edit] extra)

``cudi enhance`` needs only NumPy, Pillow and tqdm. Every failure is one line naming the
file and the reason; the batch goes on and the exit status is 1 if anything failed
(2 for a bad command line). Outputs are written atomically and never replace an input.

Streams: every diagnostic (errors, skipped files, warnings, the summary) goes to
stderr; stdout carries only the ``INPUT -> OUTPUT`` list of written files, printed
when stdout is not a terminal (or with --verbose; --quiet suppresses it). Progress
bars follow :mod:`cudi_jax.progress` (stderr, only on a terminal).
"""
import argparse
import errno
import glob
import os
import sys
import time
import warnings


from cudi_jax import __version__
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax import progress
from cudi_jax import student_math

PROG = "cudi"
#: The commands: name, one-line help, the module whose main(argv) runs it (imported only
#: when the command runs, so that `cudi enhance` imports neither JAX nor the editor's
#: server), and the extra it needs.
COMMANDS = (
    ("enhance", "enhance photos and videos (files, folders, globs) or run the built-in demo",
     "cudi_jax.cli", None),
    ("evaluate", "evaluate models on image folders and paired photos (the teacher needs the "
                 "[train] extra)", "cudi_jax.eval.evaluate", "train"),
    ("report", "an HTML report from photos (contact sheets) and training curves",
     "cudi_jax.eval.report", "eval"),
    ("edit", "paint exposure on a photo in the browser, with a live preview",
     "cudi_jax.edit.command", "edit"),
)
#: Images larger than this get a per-image progress bar (rows).
LARGE_IMAGE_PIXELS = 16_000_000


def _err(message):
  print(f"{PROG}: error: {message}", file=sys.stderr)


#: A file name for a one-line message (quoted when it holds control characters).
_show = progress.show_name


def command_parser():
  """The top-level parser: one sub-parser per command. Each command parses its own
  options (``cudi COMMAND --help``), so its sub-parser passes them on unparsed."""
  parser = argparse.ArgumentParser(
      prog=PROG, description="CuDi exposure adjustment.",
      epilog=f"Run '{PROG} <command> --help' for a command's options.")
  parser.add_argument("-V", "--version", action="version", version=f"{PROG} (cudi-jax) {__version__}")
  commands = parser.add_subparsers(dest="command", metavar="<command>", required=True)
  for name, help_text, _, _ in COMMANDS:
    commands.add_parser(name, help=help_text, description=help_text, add_help=False)
  return parser


def main(argv=None):
  argv = list(sys.argv[1:] if argv is None else argv)
  try:
    try:
      args, rest = command_parser().parse_known_args(argv[:1])
    except SystemExit as exit_:  # --help, --version, or a bad command: argparse's status
      return int(exit_.code or 0)
    return _run(args.command, rest + argv[1:])
  except KeyboardInterrupt:
    print(f"\n{PROG}: interrupted", file=sys.stderr)
    return 130


def _run(command, argv):
  import importlib
  _, _, module_name, extra = next(c for c in COMMANDS if c[0] == command)
  if command == "enhance":
    return enhance_main(argv)
  try:
    module = importlib.import_module(module_name)
  except ImportError as err:
    missing = getattr(err, "name", None) or str(err)
    _err(f"'{PROG} {command}' is unavailable: cannot import {missing} "
         f"(install the extra: pip install 'cudi-jax[{extra}]')")
    return 1
  return int(module.main(argv) or 0)


# --------------------------------------------------------------------------- enhance


def _parser():
  p = argparse.ArgumentParser(
      prog=f"{PROG} enhance",
      description="Enhance the exposure of photos with the CuDi student (NumPy only).",
      epilog="Exposure: a number in [0, 1] is the target mean brightness of the result; "
             "'under' and 'over' are fixed targets (the weights' calibration says what "
             "they mean), 'auto' follows the photo's own brightness and brings it to a "
             "mean of about 0.5, dark or bright, 'adaptive' brightens dark regions more "
             "than bright ones. "
             "--exposure-map (or --exposure FILE) takes a grayscale image (white = 1) "
             "resized to each photo. "
             "Outputs keep the input's name, format, bit depth, grayscale/colour layout, "
             "alpha, ICC profile and EXIF (orientation applied and reset); formats Pillow "
             "cannot write (GIF, PPM, ...) are saved as PNG.")
  p.add_argument("inputs", nargs="*", metavar="INPUT",
                 help="image files, folders (searched recursively) or quoted glob patterns")
  p.add_argument("-o", "--output", metavar="OUTPUT",
                 help="output folder (created if needed), or an output file name when a "
                      "single input file is given")
  p.add_argument("-e", "--exposure", default="auto", metavar="VALUE",
                 help="a number in [0, 1], under, over, auto (default), adaptive, or a map "
                      "file (as --exposure-map)")
  p.add_argument("--exposure-map", metavar="FILE",
                 help="a grayscale image used as the exposure map (overrides --exposure)")
  p.add_argument("--color", choices=student_math.COLOR_MODES, default="natural",
                 help="natural (default): brightening keeps the photo's white balance (one "
                      "curve for all channels), darkening restores washed-out colour; "
                      "network: the network's per-channel curves as predicted")
  p.add_argument("-w", "--weights", metavar="FILE",
                 help="student weights exported by export.py (default: the shipped ones)")
  p.add_argument("--suffix", default="", help="appended to output file names, e.g. _cudi")
  p.add_argument("--overwrite", action="store_true",
                 help="replace existing outputs (inputs are never replaced)")
  p.add_argument("-f", "--format", metavar="FMT",
                 help="output format: png, jpeg, tiff, webp or bmp (default: the input's)")
  p.add_argument("--quality", type=int, metavar="Q",
                 help="JPEG/WebP quality 1-100 (default 95)")
  p.add_argument("--png-compression", choices=("fast", "small"), default="fast",
                 help="PNG output: fast (default: zlib level 1, several times faster) or "
                      "small (the smallest files, slower); the pixels are the same")
  p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                 help="refuse images above N pixels (default 200000000; 0 = no limit)")
  p.add_argument("--threads", type=int, metavar="N", help="worker threads (default: all CPUs)")
  # Videos (mp4, mov, mkv, webm, avi, ...: the [video] extra) -> cudi_jax.video.cli.
  p.add_argument("--crf", type=int, metavar="N",
                 help="video quality for H.264/H.265/VP9/AV1 (lower is better; default 18)")
  p.add_argument("--codec", metavar="NAME",
                 help="video encoder: h264 (default; vp9 for .webm), h265, vp9, av1 or any "
                      "FFmpeg encoder name")
  p.add_argument("--cells", choices=("auto", "4", "8", "16"), default="auto",
                 help="videos: the cell size the network runs at: auto (default: 4 up to "
                      "1440p, 8 for 4K, 16 for 8K -- about the same look and speed at any "
                      "size) or 4, 8, 16 (4 is what photos get; 4K at 4 is about 2.5x slower)")
  p.add_argument("--demo", action="store_true",
                 help="enhance the built-in sample photo with several settings "
                      "(default output folder: cudi-demo)")
  progress.add_arguments(p, quiet_help="print errors and the summary only (no file list)")
  p.add_argument("-v", "--verbose", action="store_true",
                 help="list each file written (INPUT -> OUTPUT, stdout) even on a terminal; "
                      "the list is printed anyway when stdout is not a terminal")
  return p


def _parse_exposure(text):
  """--exposure -> a :mod:`cudi_jax.exposure.settings` value (a MapFile is read as
  --exposure-map reads it); raises ValueError."""
  try:
    return exposure_settings.parse_setting(text)
  except exposure_settings.ExposureError as err:
    raise ValueError(f"invalid --exposure {text!r}: {err}") from None


class _Task:
  def __init__(self, source, target, label):
    self.source, self.target, self.label = source, target, label
    self.error = None


def _output_name(source, suffix, fmt):
  from cudi_jax.io import encode
  stem, ext = os.path.splitext(os.path.basename(source))
  if fmt:
    new_ext = encode.FORMAT_EXTENSIONS[encode.format_for("x", fmt)]
    if ext.lower() in encode.EXTENSIONS and encode.EXTENSIONS[ext.lower()] == \
        encode.format_for("x", fmt):
      new_ext = ext
  elif ext.lower() in encode.EXTENSIONS:
    new_ext = ext
  else:
    new_ext = ".png"  # inputs we read but do not write (GIF, PPM, ...)
  return stem + suffix + new_ext


def _earlier_outputs(files, out, suffix):
  """The files of a folder input that an earlier run wrote: inside the output folder
  (which lies in the input folder) and named with this run's suffix."""
  if not suffix:
    return set()
  out = os.path.realpath(out)
  return {f for f in files
          if os.path.commonpath([os.path.realpath(os.path.dirname(f)), out]) == out
          and os.path.splitext(os.path.basename(f))[0].endswith(suffix)}


def _plan(args, failures, notes):
  """Input arguments -> tasks (source, target); bad arguments go to ``failures``,
  messages about skipped files to ``notes``."""
  from cudi_jax.io import encode, listing
  out = args.output
  tasks = []
  single_file = (len(args.inputs) == 1 and os.path.isfile(args.inputs[0]) and
                 not os.path.isdir(out) and
                 os.path.splitext(out)[1].lower() in encode.EXTENSIONS)
  for arg in args.inputs:
    if single_file:
      tasks.append(_Task(arg, out, arg))
    elif os.path.isdir(arg):
      files = listing.list_images(arg, exclude=out)
      earlier = _earlier_outputs(files, out, args.suffix)
      if earlier:
        notes.append(f"{_show(arg)}: skipped {len(earlier)} "
                     f"{'file' if len(earlier) == 1 else 'files'} named *{args.suffix}.* in the "
                     f"output folder (outputs of an earlier run, not inputs)")
        files = [f for f in files if f not in earlier]
      if not files:
        failures.append((arg, "no image files in this folder"))
      for path in files:
        rel = os.path.relpath(os.path.dirname(path), arg)
        name = _output_name(path, args.suffix, args.format)
        tasks.append(_Task(path, os.path.normpath(os.path.join(out, rel, name)), path))
    elif os.path.isfile(arg):
      tasks.append(_Task(arg, os.path.join(out, _output_name(arg, args.suffix, args.format)),
                         arg))
    elif glob.has_magic(arg):
      matches = [m for m in sorted(glob.glob(arg, recursive=True)) if os.path.isfile(m)]
      if not matches:
        failures.append((arg, "no files match this pattern"))
      for path in matches:
        tasks.append(_Task(path, os.path.join(out, _output_name(path, args.suffix,
                                                                args.format)), path))
    elif os.path.exists(arg):
      failures.append((arg, "not a regular file or folder"))
    else:
      failures.append((arg, _missing_reason(arg)))
  # Never replace an input; never write two inputs to the same output.
  inputs = {os.path.realpath(t.source) for t in tasks}
  seen = {}
  for t in tasks:
    real = os.path.realpath(t.target)
    if real in inputs or _same_file(t.target, t.source):
      t.error = "output would overwrite an input (choose another -o or a --suffix)"
    elif real in seen:
      t.error = f"output {_show(t.target)} is also the output of {_show(seen[real])}"
    else:
      seen[real] = t.source
  return tasks


def _missing_reason(path):
  """Why an input that does not exist as a file or folder cannot be read."""
  try:
    os.stat(path)
  except OSError as err:
    if err.errno == errno.ELOOP:
      return "symbolic link loop"
    if os.path.islink(path):
      return "broken symbolic link (its target does not exist)"
    if err.errno == errno.ENAMETOOLONG:
      return "file name too long"
    if err.errno == errno.EACCES:
      return "permission denied"
    if err.errno == errno.ENOTDIR:
      return "no such file or folder (a part of the path is not a folder)"
  return "no such file or folder"


def _same_file(a, b):
  try:
    return os.path.samefile(a, b)
  except OSError:
    return False


def _load_model(args):
  from cudi_jax import weights
  from cudi_jax.runtime import api as runtime
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
      model = runtime.load_student(args.weights, threads=args.threads)
    except runtime.WeightsNotFoundError as err:
      _err(str(err))
      return None
    except weights.ExportFormatError as err:
      _err(str(err))
      return None
  if not args.quiet:
    for w in caught:
      print(f"{PROG}: warning: {w.message}", file=sys.stderr)
  return model


def _progress_bar(total, desc, unit, enabled):
  """A bar on stderr when ``enabled`` (already decided by :func:`progress.enabled`)."""
  return progress.bar(total, desc, unit, enabled=enabled)


def _remove_stale_temporaries(folders, started, quiet):
  """Removes what killed runs left in the output folders (see io.atomic.STALE_TEMPORARY_AGE)."""
  from cudi_jax.io import atomic
  removed = 0
  for folder in sorted(folders):
    removed += atomic.remove_stale_temporaries(folder, started - atomic.STALE_TEMPORARY_AGE)
  if removed and not quiet:
    print(f"{PROG}: removed {removed} stale temporary "
          f"{'file' if removed == 1 else 'files'} (.cudi-*.part) left by an interrupted run",
          file=sys.stderr)
  return removed


def enhance_main(argv):
  parser = _parser()
  args = parser.parse_args(argv)
  if args.demo and args.inputs:
    parser.error("--demo takes no INPUT (it uses the built-in sample photo)")
  if not args.demo and not args.inputs:
    parser.error("give at least one INPUT (file, folder or glob), or --demo")
  if args.output is None:
    if not args.demo:
      parser.error("the output folder -o/--output is required")
    args.output = "cudi-demo"
  from cudi_jax.io import listing
  if (not args.demo and listing.is_image_name(args.output) and not os.path.isdir(args.output)
      and not (len(args.inputs) == 1 and os.path.isfile(args.inputs[0]))
      and (len(args.inputs) > 1 or os.path.isdir(args.inputs[0])
           or glob.has_magic(args.inputs[0]))):
    _err(f"-o {_show(args.output)} names an image file, but there are several inputs (or "
         f"a folder or glob): give an output folder")
    return 2
  try:
    exposure = _parse_exposure(args.exposure)
  except ValueError as err:
    parser.error(str(err))
  if isinstance(exposure, exposure_settings.MapFile):
    # --exposure FILE means --exposure-map FILE (which wins if both)
    args.exposure_map = args.exposure_map or exposure.path
    exposure = exposure_settings.Named("auto")
  if args.quality is not None and not 1 <= args.quality <= 100:
    parser.error("--quality must be between 1 and 100")
  if args.threads is not None and args.threads < 1:
    parser.error("--threads must be at least 1")
  if args.max_pixels is not None and args.max_pixels < 0:
    parser.error("--max-pixels must be >= 0 (0 = no limit)")
  from cudi_jax.io import decode, encode
  from cudi_jax.io.errors import ImageIOError, OutputExistsError
  if args.format:
    try:
      encode.format_for("x", args.format)
    except ImageIOError as err:
      parser.error(str(err))
  max_pixels = decode.DEFAULT_MAX_PIXELS if args.max_pixels is None else (
      args.max_pixels or None)
  from cudi_jax.video import io as video_io  # NumPy only; PyAV when a video is run
  videos = [a for a in args.inputs if video_io.is_video_path(a)]
  if videos and len(videos) < len(args.inputs):
    parser.error("give videos and photos in separate runs")
  if args.crf is not None and not 0 <= args.crf <= 63:
    parser.error("--crf must be between 0 and 63")
  if args.cells != "auto" and not videos:
    parser.error("--cells applies to videos only (photos always use 4x4 cells)")
  exposure_map = None
  if args.exposure_map and not (videos and video_io.is_video_path(args.exposure_map)):
    exposure_map = _read_exposure_map(args.exposure_map)
    if exposure_map is None:
      return 1
  model = _load_model(args)
  if model is None:
    return 1
  if args.demo:
    from cudi_jax import demo
    return demo.run(args, model)
  if videos:
    from cudi_jax.video import cli as video_cli
    return video_cli.enhance_main(args, model, exposure, exposure_map)
  start = time.perf_counter()
  started = time.time()
  failures, notes = [], []
  tasks = _plan(args, failures, notes)
  for arg, reason in failures:
    _err(f"{_show(arg)}: {reason}")
  if not args.quiet:
    for note in notes:
      print(f"{PROG}: {note}", file=sys.stderr)
  _remove_stale_temporaries({os.path.dirname(os.path.abspath(t.target)) for t in tasks
                             if not t.error}, started, args.quiet)
  done = skipped = 0
  failed = len(failures)
  show = progress.enabled(args.quiet, args.no_progress)
  bar = _progress_bar(len(tasks), "enhance", "img", show and len(tasks) > 1)
  # Diagnostics to stderr (around the bar); the file list to stdout, for scripts.
  say = lambda message: progress.write(message, bar)  # noqa: E731
  listing = not args.quiet and (args.verbose or bar is None or
                                not progress.on_terminal(sys.stdout))
  for task in tasks:
    try:
      if task.error:
        raise _TaskError(task.error)
      if os.path.exists(task.target) and not args.overwrite:
        raise OutputExistsError(f"{task.target} exists")
      _enhance_file(task, model, exposure, exposure_map, args, max_pixels, show and bar is None)
      done += 1
      if listing:
        progress.write(f"{_show(task.label)} -> {_show(task.target)}", bar, file=sys.stdout)
    except OutputExistsError:
      # Checked first, and again when the output is put in place: a file that appeared
      # at the target during the run is never replaced without --overwrite.
      skipped += 1
      if not args.quiet:
        say(f"{PROG}: skipped {_show(task.label)}: {_show(task.target)} exists "
            f"(use --overwrite)")
    except (_TaskError, ImageIOError, ValueError, TypeError, OSError,
            MemoryError) as err:
      failed += 1
      reason = progress.failure_reason(err)
      say(f"{PROG}: error: {_show(task.label)}: {reason}")
    finally:
      if bar is not None:
        bar.update(1)
  if bar is not None:
    bar.close()
  progress.summary(PROG, done, skipped, failed, time.perf_counter() - start)
  return 1 if failed else 0


class _TaskError(Exception):
  pass


def _read_exposure_map(path):
  """The map file, decoded once for the whole run (large maps kept as block means)."""
  try:
    return exposure_settings.shrink_map(exposure_settings.read_map_file(path))
  except exposure_settings.ExposureError as err:
    _err(f"--exposure-map: {err}")
    return None


def _enhance_file(task, model, exposure, exposure_map, args, max_pixels, per_image_bar):
  from cudi_jax.io import decode, encode
  pic = decode.read_image(task.source, max_pixels)
  h, w = pic.array.shape[:2]
  setting = exposure
  if exposure_map is not None:  # decoded once per run, reduced to each photo's cells
    setting = exposure_settings.MapArray(exposure_map)
  bar = _progress_bar(h, os.path.basename(task.source), "row",
                      per_image_bar and h * w >= LARGE_IMAGE_PIXELS)
  try:
    out = model.enhance(pic.array, setting, progress=bar.update if bar is not None else None,
                        color=args.color)
  except exposure_settings.ExposureError as err:
    raise _TaskError(f"exposure map: {err}" if exposure_map is not None else str(err)) from None
  finally:
    if bar is not None:
      bar.close()
  fmt = encode.format_for(task.target, args.format)
  encode.write_image(task.target, out, fmt, pic.icc_profile, pic.exif, args.quality,
                     pic.info, png_compression=args.png_compression,
                     overwrite=args.overwrite)


if __name__ == "__main__":
  sys.exit(main())
