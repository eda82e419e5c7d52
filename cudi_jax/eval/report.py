"""``cudi report``: a static HTML page of PNG contact sheets and training curves.

For each photo (downscaled to ``--max-size``, 512 px by default):

* input | teacher | student | amplified |teacher - student| (teacher columns only
  when teacher weights are given), at ``--exposure`` (default auto);
* an exposure sweep strip E = 0.2 ... 0.8 with the brightness reached;
* the under / over / auto / adaptive presets, with the adaptive map;
* a local-exposure example (two-region map, shown beside the result).

Training curves come from ``metrics.jsonl`` files (``--teacher-workdir``,
``--student-workdir`` or ``--metrics FILE...``) and are drawn with matplotlib (the
``[eval]`` extra: ``pip install "cudi-jax[eval]"``; its object API on an Agg canvas,
no pyplot state). The photo sheets need only NumPy and Pillow, and so does a report
without curves; JAX is imported only to run a teacher.

This module is the command line; the parts are :mod:`cudi_jax.eval.sheets` (contact
sheets), :mod:`cudi_jax.eval.photo_sheets` (the sheets of one photo),
:mod:`cudi_jax.eval.plots` (curves; records read by :func:`cudi_jax.runlog.read_metrics`)
and :mod:`cudi_jax.eval.html_report` (the page).

Exit status: 0; 1 when a photo could not be used (skipped with a one-line warning;
the report is written without it) or matplotlib is missing for curves; 2 for a
command line that cannot be run (one line, before any work).
"""
import os
import pathlib
import re
import sys

from cudi_jax import progress
from cudi_jax import runlog
from cudi_jax.errors import CudiError
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import html_report
from cudi_jax.eval import options
from cudi_jax.eval import photo_sheets
from cudi_jax.eval import plots
from cudi_jax.eval.options import UsageError
from cudi_jax.exposure import settings as exposure_settings

PROG = "cudi report"


def build_parser():
  p = options.Parser(
      prog=PROG,
      description="Write a static HTML report: teacher/student contact sheets, exposure sweeps, "
                  "presets, local exposure and training curves.")
  p.add_argument("inputs", nargs="*", help="photos or folders of photos")
  p.add_argument("-o", "--output", default="report", metavar="DIR", help="output folder (default report/)")
  p.add_argument("--student", metavar="PATH",
                 help="student weights: .npz export or training workdir (default: the student "
                      "workdir's checkpoint if given, else the packaged weights)")
  p.add_argument("--teacher", metavar="PATH",
                 help="teacher weights: .npz export or training workdir (default: the teacher "
                      "workdir's checkpoint if given); needs JAX")
  p.add_argument("--teacher-workdir", metavar="DIR", help="teacher training workdir (curves, weights)")
  p.add_argument("--student-workdir", metavar="DIR", help="student training workdir (curves, weights)")
  p.add_argument("--metrics", nargs="+", default=[], metavar="FILE", help="more metrics.jsonl files to plot")
  p.add_argument("--max-size", type=options.positive_int, default=512, metavar="N",
                 help="downscale photos to at most N px per side before processing (default 512)")
  p.add_argument("--thumb-size", type=options.positive_int, default=256, metavar="N",
                 help="tile size in the sweep/preset/local strips (default 256)")
  p.add_argument("--exposure", default="auto", metavar="E",
                 help="exposure of the teacher/student sheet (number, under, over, auto, adaptive, "
                      "map file; default auto)")
  p.add_argument("--sweep", type=options.nonempty_exposure_list,
                 default=",".join(f"{e:g}" for e in eval_common.DEFAULT_TARGETS), metavar="LIST",
                 help="exposure values of the sweep strip (default 0.2,...,0.8)")
  p.add_argument("--local", default="ellipse", metavar="MAP",
                 help="local-exposure example: halves, ellipse or a grayscale map image ('' for none)")
  p.add_argument("--amplify", type=float, default=10.0, help="gain of the |teacher - student| image")
  p.add_argument("--teacher-sweep", action="store_true",
                 help="also run the teacher for every sweep value (slow without a GPU)")
  p.add_argument("--tile", type=options.non_negative_int, default=512, metavar="N",
                 help="teacher tile size (0: whole image)")
  p.add_argument("--limit", type=options.positive_int, default=None, metavar="N",
                 help="only the first N photos")
  p.add_argument("--title", default="CuDi report")
  progress.add_arguments(p, quiet_help="no progress bar and no closing line")
  return p


def _warn(msg):
  print(f"{PROG}: warning: {msg}", file=sys.stderr)


def _unique_names(paths):
  seen, names = {}, []
  for p in paths:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", p.stem) or "photo"
    n = seen.get(base, 0)
    seen[base] = n + 1
    names.append(base if n == 0 else f"{base}_{n + 1}")
  return names


def _check_local(spec):
  """--local: halves, ellipse, '' or a readable grayscale map image (read once here)."""
  if not spec or spec in eval_common.LOCAL_MAPS:
    return
  if not os.path.isfile(spec):
    raise UsageError(f"--local must be halves, ellipse or a map image, got {spec!r}")
  try:
    exposure_settings.map_from_array(exposure_settings.read_map_file(spec), 8, 8)
  except (CudiError, ValueError) as err:
    raise UsageError(f"--local {spec}: {options.first_line(err)}") from None


def main(argv=None):
  """``cudi report``; ``argv`` is the argument list after the sub-command name."""
  args = build_parser().parse_args(argv)
  out_dir = pathlib.Path(args.output)
  img_dir = out_dir / "images"
  notes = []
  try:
    options.check_output_dir(out_dir, "-o")
    paths = eval_common.expand_image_paths(args.inputs) if args.inputs else []
    setting = eval_common.parse_exposure(args.exposure)
    sweep = args.sweep
    _check_local(args.local)
  except (CudiError, OSError, ValueError) as err:
    return options.usage_error(PROG, err)
  if args.limit:
    paths = paths[: args.limit]
  metric_files = [(label, pathlib.Path(wd) / "metrics.jsonl")
                  for label, wd in (("teacher", args.teacher_workdir), ("student", args.student_workdir))
                  if wd]
  metric_files += [(pathlib.Path(f).parent.name or pathlib.Path(f).stem, pathlib.Path(f))
                   for f in args.metrics]
  if not paths and not metric_files:
    return options.usage_error(PROG, "nothing to report: give photos and/or metrics")
  if any(path.exists() for _, path in metric_files):
    try:  # before any photo is processed: a missing extra fails at once
      plots._matplotlib()
    except plots.PlottingUnavailable as err:
      print(f"{PROG}: error: {err}", file=sys.stderr)
      return 1
  try:
    out_dir.mkdir(parents=True, exist_ok=True)
  except OSError as err:
    return options.usage_error(PROG, f"-o {out_dir}: cannot create the folder ({err.strerror or err})")

  # training curves
  curves, used_plots = [], set()
  for label, path in metric_files:
    if not path.is_file():
      _warn(f"{path} not found: no curves for {label}")
      notes.append(f"No metrics for {label}: {path} not found.")
      continue
    try:
      records = runlog.read_metrics(path, warn=_warn)
    except OSError as err:
      _warn(f"cannot read {path} ({err.strerror or err}): no curves for {label}")
      notes.append(f"No metrics for {label}: {path} cannot be read.")
      continue
    sheet = plots.plot_metrics(records, f"{label}: {path}  ({len(records)} records)")
    if sheet is None:
      notes.append(f"No numeric metrics in {path}.")
      continue
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", label) or "metrics"
    fname, n = f"plots/{base}_curves.png", 1
    while fname in used_plots:
      n += 1
      fname = f"plots/{base}_{n}_curves.png"
    used_plots.add(fname)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    plots.save_png(sheet, out_dir / fname)
    curves.append((label, fname))

  settings = {"photos": len(paths), "max size": args.max_size, "exposure": args.exposure}
  photos, skipped = [], []
  if paths:
    student_src = args.student or args.student_workdir
    try:
      student_model = eval_common.load_student_model(student_src)
    except (CudiError, OSError, ImportError) as err:
      if args.student or not args.student_workdir:
        print(f"{PROG}: error: cannot load the student: {options.first_line(err)}", file=sys.stderr)
        return 2
      _warn(f"no student checkpoint in {args.student_workdir} ({err}); using the packaged weights")
      student_src = None
      student_model = eval_common.load_student_model(None)
    student = eval_common.student_function(student_model)
    settings["student"] = student_src or "packaged weights"
    teacher = None
    teacher_src = args.teacher or args.teacher_workdir
    if teacher_src:
      try:
        from cudi_jax.eval import teacher_runner  # JAX, only when a teacher is given.
        teacher = teacher_runner.load_teacher_runner(teacher_src, tile=args.tile or None)
      except (CudiError, OSError, ImportError) as err:
        if args.teacher:
          print(f"{PROG}: error: cannot load the teacher: {options.first_line(err)}",
                file=sys.stderr)
          return 2
        _warn(f"no teacher checkpoint in {args.teacher_workdir} ({err}); teacher columns left out")
        notes.append(f"Teacher not shown: {err}")
        teacher_src = None
    settings["teacher"] = teacher_src or "none"
    if teacher is not None:
      settings["teacher tiles"] = (f"{args.tile}px + 64px margin" if args.tile else "whole image")
    iterator = progress.wrap(list(zip(_unique_names(paths), paths)), "report", unit="photo",
                             enabled=progress.enabled(args.quiet, args.no_progress))
    for name, path in iterator:
      try:
        image = eval_common.load_image(path, args.max_size)
      except (CudiError, OSError, ValueError) as err:
        progress.write(f"{PROG}: warning: skipping {progress.show_name(path)}: "
                       f"{options.first_line(err).removeprefix(f'{path}: ')}",
                       iterator if hasattr(iterator, "write") else None)
        skipped.append(path.name)
        continue
      files, stats = photo_sheets.photo_sheets(
          name, image, student, teacher, img_dir, setting, sweep, args.local or None,
          args.amplify, args.thumb_size, args.teacher_sweep, rules=student_model.rules)
      files = {k: f"images/{v}" for k, v in files.items()}
      stats["anchor"] = f"photo-{name}"
      stats["name"] = path.name
      photos.append((files, stats))
  if skipped:
    notes.append(f"Skipped (cannot be read): {', '.join(skipped)}.")
  html_report.write_html(out_dir / "index.html", args.title, settings, photos, curves, notes)
  if not args.quiet:
    print(f"wrote {out_dir / 'index.html'} ({len(photos)} photos, {len(curves)} curve sheets"
          f"{f', {len(skipped)} skipped' if skipped else ''})")
  return 1 if skipped else 0


if __name__ == "__main__":
  sys.exit(main())
