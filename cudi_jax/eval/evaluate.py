"""``cudi evaluate``: paired quality, exposure control and teacher/student fidelity.

Three modes (sub-commands):

* ``paired INPUTS REFERENCES`` — enhance each input, compare with its reference
  (matched by file stem, or listed in a CSV of pairs): PSNR and SSIM per image
  and on average, for each exposure setting.
* ``exposure INPUTS`` — exposure control: for constant targets E = 0.2 ... 0.8,
  the L_sec error (mean over 16x16 cells of |RGB-mean brightness - E|); for
  two-region maps (left/right halves at 0.3/0.7, a centred ellipse at 0.7 in 0.3),
  the error inside each region and the achieved brightness contrast.
* ``fidelity INPUTS --teacher T`` — student vs teacher on the same exposure
  map: PSNR, SSIM (teacher as reference), Pearson correlation, mean |difference|;
  with ``--tangent-fit`` also the PSNR/SSIM of the best tangent-line approximation
  of the teacher output (the ceiling of any student of this design).

This module is the command line. The modes are in :mod:`cudi_jax.eval.paired`
(with :mod:`cudi_jax.eval.pairs` for the pairs), :mod:`cudi_jax.eval.control` and
:mod:`cudi_jax.eval.fidelity`; their functions take plain model functions
``fn(image, exposure_map) -> output`` and are usable from Python. The writers are in
:mod:`cudi_jax.eval.results`. Student and teacher run through
:mod:`cudi_jax.eval.common` (the student with NumPy; the teacher with JAX, on tiles).

Exit status: 0; 1 when a photo could not be used (it is skipped with a one-line
message, the others are evaluated and written) or the results could not be written;
2 for a command line that cannot be run (one line, before any work).
"""
import pathlib
import sys
import time

from cudi_jax import progress as progress_lib
from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import control
from cudi_jax.eval import fidelity
from cudi_jax.eval import options
from cudi_jax.eval import paired
from cudi_jax.eval import pairs as pairs_lib
from cudi_jax.eval import results
from cudi_jax.eval.options import UsageError
from cudi_jax.exposure import resolve as resolve_lib

PROG = "cudi evaluate"


# --------------------------------------------------------------------------- CLI


def build_parser():
  parser = options.Parser(
      prog=PROG,
      description="Measure a CuDi student (and teacher): paired PSNR/SSIM, exposure control, "
                  "teacher/student fidelity.")
  sub = parser.add_subparsers(dest="mode", required=True, metavar="MODE")

  def common(p, exposure=True, color_default="natural"):
    p.add_argument("--student", metavar="PATH",
                   help="student weights (.npz export or training workdir; default: packaged weights)")
    p.add_argument("--teacher", metavar="PATH",
                   help="teacher weights (.npz export or training workdir); needs JAX")
    p.add_argument("--max-size", type=options.positive_int, default=None, metavar="N",
                   help="downscale photos so the longer side is at most N pixels")
    if exposure:
      p.add_argument("--exposure", action="append", metavar="E",
                     help="exposure setting: a number in [0, 1], under, over, auto, adaptive or a "
                          "map image; repeat for several (default: auto)")
    p.add_argument("--color", choices=student_math.COLOR_MODES, default=color_default,
                   help="the student's colour handling: natural (one curve for all channels "
                        "where it brightens, as cudi enhance does) or network (the per-channel "
                        f"maps as predicted, what the teacher does); default {color_default}")
    p.add_argument("--tile", type=options.non_negative_int, default=512, metavar="N",
                   help="teacher tile size in pixels (0: whole images; default 512)")
    p.add_argument("--tile-margin", type=options.non_negative_int, default=64, metavar="N",
                   help="context pixels around each teacher tile (default 64)")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON ('-': stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the per-image rows as CSV ('-': stdout)")
    p.add_argument("--limit", type=options.positive_int, default=None, metavar="N",
                   help="use the first N images only")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or table")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars (they are drawn only when stderr is a terminal)")

  p = sub.add_parser("paired", help="PSNR/SSIM against reference images",
                     description="Enhance INPUTS and compare with REFERENCES (matched by file name "
                                 "without extension, or listed in --pairs).")
  p.add_argument("inputs", help="folder of input photos")
  p.add_argument("references", nargs="?", help="folder of reference photos")
  p.add_argument("--pairs", metavar="CSV",
                 help="CSV of pairs instead of name matching: columns input, reference and "
                      "optionally kind and split (as sice_part1_pairs.csv), paths relative to "
                      "INPUTS / REFERENCES")
  p.add_argument("--split", metavar="NAME", help="only the CSV rows of this split (e.g. val)")
  p.add_argument("--models", default=None, metavar="LIST",
                 help="comma-separated: student, teacher, gain (one global gain to mean BT.709 "
                      "luminance 0.5), input (the unprocessed input), reference (the reference "
                      "itself: how far it lifts blacks, its contrast); default: student, gain, "
                      "plus teacher when --teacher is given")
  p.add_argument("--strata", action="store_true",
                 help="also PSNR/SSIM per kind and per stratum of the input's dynamic range "
                      "r = p95/p50 of its BT.709 luma (r<8, 8<=r<16, r>=16), the gain baseline "
                      "beside every row (gain is evaluated too)")
  common(p)

  p = sub.add_parser("exposure", help="exposure-control error for targets 0.2..0.8 and local maps",
                     description="For each photo and target E, the mean over 16x16 cells of "
                                 "|mean RGB brightness - E| (the L_sec definition), and the error "
                                 "inside each region of two-region maps.")
  p.add_argument("inputs", nargs="+", help="photos or folders")
  p.add_argument("--targets", type=options.exposure_list,
                 default=",".join(f"{t:g}" for t in eval_common.DEFAULT_TARGETS), metavar="LIST",
                 help="comma-separated constant targets in [0, 1] (default 0.2,...,0.8; '' for none)")
  p.add_argument("--local", type=options.choice_list(eval_common.LOCAL_MAPS, "--local"),
                 default=",".join(eval_common.LOCAL_MAPS), metavar="LIST",
                 help="two-region maps: halves (left 0.3 / right 0.7), ellipse (0.7 in a centred "
                      "ellipse, 0.3 outside); '' for none")
  p.add_argument("--named", type=options.choice_list(control.NAMED_SETTINGS, "--named"),
                 default=",".join(control.NAMED_SETTINGS), metavar="LIST",
                 help="named settings scored by mean brightness against what they promise "
                      "(auto: 0.5, under / over: their values) and black lift "
                      f"(default {','.join(control.NAMED_SETTINGS)}; '' for none)")
  p.add_argument("--cell", type=options.positive_int, default=16,
                 help="cell size of the brightness error (default 16)")
  p.add_argument("--floor", action="store_true",
                 help="also report, per target, the smallest cell error any tone curve through 0 "
                      "and 1 could reach on these photos (black stays black, white stays white)")
  common(p, exposure=False)

  p = sub.add_parser("fidelity", help="student vs teacher PSNR/SSIM/Pearson (needs --teacher)",
                     description="Run teacher and student on the same exposure maps and compare.")
  p.add_argument("inputs", nargs="+", help="photos or folders")
  p.add_argument("--tangent-fit", action="store_true",
                 help="also fit the best quarter-resolution tangent line (K, B) to each teacher "
                      "output by least squares and report its PSNR/SSIM: what any student of "
                      "this design could reach (a few seconds per photo)")
  common(p, color_default="network")
  return parser


def _load_models(args, names):
  """({name: model function}, the exposure rules of the student export)."""
  models = {}
  rules = resolve_lib.DEFAULT_RULES
  if "student" in names:
    student = eval_common.load_student_model(args.student)
    rules = student.rules
    models["student"] = eval_common.student_function(student, args.color)
  if "teacher" in names:
    from cudi_jax.eval import teacher_runner  # JAX, only when a teacher is evaluated.
    models["teacher"] = teacher_runner.load_teacher_runner(
        args.teacher, tile=args.tile or None, margin=args.tile_margin)
  for baseline in paired.BASELINES:
    if baseline in names:
      models[baseline] = None
  return models, rules


def _images(args):
  paths = eval_common.expand_image_paths(args.inputs)
  if args.limit:
    paths = paths[: args.limit]
  if not paths:
    raise UsageError(f"no images found in {' '.join(map(str, args.inputs))}")
  return [(p.stem, p) for p in paths]


def _model_names(args):
  if args.mode == "exposure":
    return ["student"] + (["teacher"] if args.teacher else [])
  if args.mode == "fidelity":
    if not args.teacher:
      raise UsageError("fidelity needs --teacher PATH")
    return ["student", "teacher"]
  names = (args.models.split(",") if args.models
           else ["student"] + (["teacher"] if args.teacher else []) + ["gain"])
  names = [n.strip() for n in names if n.strip()]
  unknown = set(names) - {"student", "teacher", *paired.BASELINES}
  if unknown:
    raise UsageError(f"unknown model(s) {sorted(unknown)} (choose student, teacher, "
                     f"{', '.join(paired.BASELINES)})")
  if "teacher" in names and not args.teacher:
    raise UsageError("the teacher needs --teacher PATH")
  if args.strata and "gain" not in names:
    names.append("gain")  # the baseline beside every stratum
  return names


def _check(args):
  """The command line's checks that need no photo: outputs first (before any work)."""
  options.check_output_file(args.json, "--json")
  options.check_output_file(args.csv, "--csv")
  if args.json and args.csv and str(args.json) != "-" and \
      pathlib.Path(args.json).resolve() == pathlib.Path(args.csv).resolve():
    raise UsageError("--json and --csv name the same file")
  if args.mode == "paired" and args.references is None and args.pairs is None:
    raise UsageError("give a REFERENCES folder or --pairs CSV")
  return _model_names(args)


def main(argv=None):
  """``cudi evaluate``; ``argv`` is the argument list after the sub-command name."""
  argv = list(sys.argv[1:] if argv is None else argv)
  if argv[:1] == ["evaluate"]:
    argv = argv[1:]
  args = build_parser().parse_args(argv)
  prog = f"{PROG} {args.mode}"
  progress = progress_lib.enabled(args.quiet, args.no_progress)
  started = time.time()
  settings = {"mode": args.mode, "student": args.student or "packaged", "teacher": args.teacher,
              "max_size": args.max_size, "color": args.color}
  skipped = []

  def on_error(name, err):
    skipped.append({"name": str(name), "error": options.first_line(err)})
    progress_lib.write(f"{prog}: warning: skipping {options.first_line(err)}")

  try:
    names = _check(args)
    if args.mode in ("paired", "fidelity"):
      exposures = [eval_common.parse_exposure(e) for e in (args.exposure or ["auto"])]
      settings["exposures"] = [eval_common.exposure_label(e) for e in exposures]
    if args.mode == "paired":
      pairs = pairs_lib.match_pairs(args.inputs, args.references, args.pairs, args.split)
      settings.update(pairs=args.pairs, split=args.split)
      if args.strata:
        settings["strata"] = [label for label, _, _ in paired.STRATA]
      if args.limit:
        pairs = pairs[: args.limit]
      if not pairs:
        raise UsageError("no input/reference pairs found")
      models, rules = _load_models(args, names)
      result = paired.evaluate_paired(pairs, models, exposures, args.max_size, progress, rules,
                                      strata=args.strata, on_error=on_error)
      columns = (("kind",) if any(r.get("kind") for r in result["summary"]) else ()) + (
          "model", "exposure", "count") + paired.PAIRED_VALUES
    elif args.mode == "exposure":
      settings.update(targets=args.targets, local_maps=args.local, cell=args.cell,
                      floor=bool(args.floor), named=args.named)
      images = _images(args)
      models, rules = _load_models(args, names)
      result = control.evaluate_exposure(images, models, args.targets, args.local, args.cell,
                                         args.max_size, progress, floor=args.floor, rules=rules,
                                         named=args.named, on_error=on_error)
      columns = ("model", "map", "region", "target", "count", "mean", "abs_error", "cell_error",
                 "black_lift", "blue_shift")
    else:
      images = _images(args)
      models, rules = _load_models(args, names)
      settings["tangent_fit"] = bool(args.tangent_fit)
      result = fidelity.evaluate_fidelity(images, models["student"], models["teacher"], exposures,
                                          args.max_size, progress, tangent_fit=args.tangent_fit,
                                          rules=rules, on_error=on_error)
      columns = ("exposure", "count", "psnr", "ssim", "pearson", "mae") + (
          ("fit_psnr", "fit_ssim") if args.tangent_fit else ())
  except (CudiError, OSError) as err:
    return options.usage_error(prog, err)
  settings["seconds"] = round(time.time() - started, 2)
  result = dict({"settings": settings}, **result)
  if skipped:
    result["skipped"] = skipped
  try:
    if args.json:
      results.write_json(args.json, result)
    if args.csv:
      results.write_csv(args.csv, result["images"])
  except CudiError as err:
    print(f"{prog}: error: {options.first_line(err)}", file=sys.stderr)
    return 1
  if not args.quiet and args.json != "-" and args.csv != "-":
    print(results.format_table(result["summary"], columns))
    if "overall" in result:
      print()
      print(results.format_table(result["overall"], (
          "model", "constant_cell_error", "constant_abs_error", "constant_black_lift",
          "local_region_abs_error", "local_contrast_ratio")))
    if "strata" in result:
      print()
      print("By the input's dynamic range r = p95/p50 of its BT.709 luma (gain: the global-gain "
            "baseline on the same pairs)")
      print(results.format_table(result["strata"], paired.STRATA_COLUMNS))
  if skipped:
    print(f"{prog}: {len(skipped)} skipped: "
          f"{', '.join(s['name'] for s in skipped[:5])}{' ...' if len(skipped) > 5 else ''}",
          file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
