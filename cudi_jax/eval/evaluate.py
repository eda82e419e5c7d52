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

Student and teacher run through :mod:`cudi_jax.eval.common` (the student with
NumPy; the teacher with JAX, on tiles). The functions :func:`evaluate_paired`,
:func:`evaluate_exposure` and :func:`evaluate_fidelity` take plain model
functions ``fn(image, exposure_map) -> output`` and are usable from Python.
"""
import argparse
import csv
import json
import math
import pathlib
import sys
import time

import numpy as np

from cudi_jax import imagemath
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values as exposure_values
from cudi_jax import progress as progress_lib
from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.eval import common as eval_common
from cudi_jax.eval.common import EvaluationError
from cudi_jax.eval import metrics
from cudi_jax.eval import tangent_fit as tangent_fit_lib
from cudi_jax.jsonutil import json_safe

DEFAULT_TARGETS = tuple(round(0.2 + 0.1 * i, 1) for i in range(7))  # 0.2 ... 0.8


# --------------------------------------------------------------------------- helpers


def _progress(iterable, desc, enabled=True, total=None):
  """A bar on stderr when ``enabled`` (decided by :func:`cudi_jax.progress.enabled`:
  only on a terminal, never with --quiet or --no-progress)."""
  return progress_lib.wrap(iterable, desc, unit="img", enabled=enabled, total=total)


def _mean(values):
  vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
  return float(np.mean(vals)) if vals else float("nan")


class Pair(tuple):
  """(name, input path, reference path) with optional ``kind`` and ``split`` labels."""

  def __new__(cls, name, input_path, reference_path, kind=None, split=None):
    obj = super().__new__(cls, (name, input_path, reference_path))
    obj.kind, obj.split = kind, split
    return obj


def match_pairs(inputs, references, pairs_csv=None, split=None):
  """[Pair(name, input path, reference path)] by file stem, or from a CSV of pairs.

  The CSV has columns input, reference (a header row naming them, or the first two
  columns without a header) and optionally kind (e.g. under / over) and split (e.g.
  train / val), as in ``sice_part1_pairs.csv``; paths are relative to the ``inputs``
  / ``references`` folders (or to the CSV's folder, or absolute). ``split`` keeps
  the rows of that split only (the CSV must then have a split column).
  """
  inputs = pathlib.Path(inputs)
  references = pathlib.Path(references) if references is not None else None
  if pairs_csv is None:
    if split:
      raise EvaluationError("--split needs a --pairs CSV with a split column")
    ins = {p.stem: p for p in eval_common.expand_image_paths(inputs)}
    refs = {p.stem: p for p in eval_common.expand_image_paths(references)}
    common = sorted(set(ins) & set(refs))
    return [Pair(name, ins[name], refs[name]) for name in common]
  pairs_csv = pathlib.Path(pairs_csv)
  with open(pairs_csv, newline="") as f:
    rows = [[c.strip() for c in row] for row in csv.reader(f)]
  rows = [r for r in rows if any(r) and not r[0].startswith("#")]
  header = [c.lower() for c in rows[0]] if rows else []
  if "input" in header and "reference" in header:
    col = {name: header.index(name) for name in ("input", "reference", "kind", "split")
           if name in header}
    rows = rows[1:]
  else:
    col = {"input": 0, "reference": 1}
  if split and "split" not in col:
    raise EvaluationError(f"{pairs_csv}: --split {split} needs a 'split' column")
  out = []
  for row in rows:
    if len(row) <= max(col["input"], col["reference"]) or not row[col["input"]] \
        or not row[col["reference"]]:
      raise EvaluationError(f"{pairs_csv}: each row needs an input and a reference, got {row}")
    get = lambda name: row[col[name]] if name in col and col[name] < len(row) else None  # noqa: E731
    if split and get("split") != split:
      continue
    a = _resolve(get("input"), [inputs, pairs_csv.parent])
    b = _resolve(get("reference"), [references, pairs_csv.parent] if references
                 else [inputs, pairs_csv.parent])
    if a is None or b is None:
      raise EvaluationError(f"{pairs_csv}: cannot find {get('input') if a is None else get('reference')}")
    out.append(Pair(a.stem, a, b, kind=get("kind"), split=get("split")))
  return out


def _resolve(name, folders):
  p = pathlib.Path(name)
  if p.is_absolute():
    return p if p.exists() else None
  for folder in folders:
    if folder is not None and (folder / p).exists():
      return folder / p
  return None


# --------------------------------------------------------------------------- modes


def evaluate_paired(pairs, models, exposures=("auto",), max_size=None, progress=True,
                    rules=resolve_lib.DEFAULT_RULES):
  """PSNR/SSIM of each model's output against the reference, and what the eye sees.

  pairs: [(name, input path, reference path)] (a :class:`Pair` carries a kind);
  models: {name: fn(image, E) -> output}, where the names 'input', 'gain' and
  'reference' may map to None for the baselines that need no exposure setting (the
  unprocessed input; :func:`cudi_jax.eval.common.global_gain`; the reference itself,
  whose black lift and contrast say what the references do); exposures: settings, resolved with ``rules``
  (those of the student export evaluated, ``model.rules``). Outputs are rounded to 8 bits, as a saved photo is.

  Per image and model: psnr, ssim; black_lift (1st percentile of the output's BT.601
  luminance minus the input's: a grey haze); contrast (the output's luminance
  standard deviation over the reference's); mean_error (output mean luminance minus
  the reference's); blue_shift (:func:`metrics.blue_green_shift` against the
  reference: above 1, a blue cast). Returns {'images': rows, 'summary': rows per (kind, model,
  exposure)}.
  """
  rows = []
  for pair in _progress(pairs, "paired", progress):
    name, in_path, ref_path = pair
    kind = getattr(pair, "kind", None)
    image = eval_common.load_image(in_path, max_size)
    ref = eval_common.read_float_image(ref_path)
    h, w = image.shape[:2]
    rh, rw = ref.shape[:2]
    if abs(rh / rw - h / w) > 0.01 * (h / w):
      raise EvaluationError(f"{name}: reference {rw}x{rh} and input {w}x{h} have different "
                            f"aspect ratios")
    ref = eval_common.resize_image(ref, size=(h, w))
    y_in = imagemath.luma(image)
    y_ref = imagemath.luma(ref)
    ref_std = float(y_ref.std())

    def score(model_name, setting, fed, out):
      out = eval_common.to_uint8(out).astype(np.float32) / np.float32(255)
      y = imagemath.luma(out)
      rows.append({
          "name": name, "kind": kind, "model": model_name,
          "exposure": setting, "exposure_mean": None if fed is None else float(exposure_values.full_map(fed, image).mean()),
          "height": h, "width": w,
          "psnr": metrics.psnr(out, ref),
          "ssim": metrics.ssim(out, ref) if min(h, w) >= 11 else float("nan"),
          "black_lift": float(np.percentile(y, 1) - np.percentile(y_in, 1)),
          "contrast": float(y.std() / ref_std) if ref_std > 0 else float("nan"),
          "mean_error": float(y.mean() - y_ref.mean()),
          "blue_shift": metrics.blue_green_shift(out, ref),
      })

    baselines = {"gain": eval_common.global_gain, "input": lambda i: i,
                 "reference": lambda i: ref}
    for model_name, fn in models.items():
      if fn is None:
        score(model_name, "-", None, baselines[model_name](image))
    for setting in exposures:
      fed = eval_common.resolve_exposure(setting, image, rules)
      for model_name, fn in models.items():
        if fn is not None:
          score(model_name, eval_common.exposure_label(setting), fed, fn(image, fed))
  keys = ("kind", "model", "exposure") if any(r["kind"] for r in rows) else ("model", "exposure")
  summary = _summarise(rows, keys, PAIRED_VALUES)
  order = {name: i for i, name in enumerate(models)}
  # Stable: kinds in order of appearance, then models in the order given, exposures as given.
  kinds = {k: i for i, k in enumerate(dict.fromkeys(r["kind"] for r in rows))}
  summary.sort(key=lambda s: (kinds.get(s.get("kind"), 0), order.get(s["model"], len(order))))
  return {"images": rows, "summary": summary}


PAIRED_VALUES = ("psnr", "ssim", "black_lift", "contrast", "mean_error", "blue_shift")
#: The paired baselines that need no model (see :func:`evaluate_paired`).
BASELINES = ("gain", "input", "reference")


def _summarise(rows, keys, values):
  groups = {}
  for r in rows:
    groups.setdefault(tuple(r[k] for k in keys), []).append(r)
  out = []
  for key, group in groups.items():
    s = dict(zip(keys, key))
    s["count"] = len(group)
    for v in values:
      finite = [r[v] for r in group if r.get(v) is not None and math.isfinite(r[v])]
      s[v] = float(np.mean(finite)) if finite else (float("inf") if group and v == "psnr" else float("nan"))
    out.append(s)
  return out


#: The named settings ``cudi evaluate exposure`` scores by default.
NAMED_SETTINGS = ("auto", "under", "over")


def named_target(setting, presets):
  """The mean brightness a named setting promises with these presets."""
  if setting not in NAMED_SETTINGS:
    raise EvaluationError(f"named settings are {sorted(NAMED_SETTINGS)}, got {setting!r}")
  return presets.target(setting)


def evaluate_exposure(images, models, targets=DEFAULT_TARGETS, local_maps=eval_common.LOCAL_MAPS,
                      cell=16, max_size=None, progress=True, floor=False,
                      rules=resolve_lib.DEFAULT_RULES, named=NAMED_SETTINGS):
  """Exposure-control errors.

  images: [(name, path or float image)]; models: {name: fn(image, E) -> output}.
  Rows: ``map='constant'`` per target with ``cell_error`` (L_sec, the headline
  number), ``abs_error`` (|mean brightness - E|), ``mean`` and ``black_lift`` (how
  far the darkest 1% are lifted, :func:`metrics.black_lift`); per local map one
  row per region (``cell_error`` over the 16x16 cells wholly inside the region)
  and one ``region='contrast'`` row comparing the brightness difference between
  the two regions with the targets' difference. With ``floor``, rows of the
  pseudo-model ``floor`` hold, per constant target, the smallest cell error any tone
  curve through 0 and 1 could reach on each photo (:func:`metrics.exposure_floor`).
  The networks are given each requested map as the student's ``rules`` resolve it
  (its calibration, if any); errors are measured against the request.
  ``named``: settings among 'auto', 'under', 'over', one row each (``map`` = the name)
  with the mean brightness against what the name promises (auto: the presets' mean
  target, under / over: their values) and the black lift; no cell error (a map that
  follows the photo is not meant to make every cell alike).
  """
  rows = []
  for name, src in _progress(images, "exposure", progress):
    image = eval_common.load_image(src, max_size) if not isinstance(src, np.ndarray) else src
    h, w = image.shape[:2]
    if floor:
      for e in targets:
        rows.append({"name": name, "model": "floor", "map": "constant", "region": "all",
                     "target": float(e), "mean": float("nan"), "abs_error": float("nan"),
                     "cell_error": metrics.exposure_floor(image, e, cell),
                     "black_lift": float("nan")})
    for model_name, fn in models.items():
      for setting in named:
        out = fn(image, eval_common.resolve_exposure(setting, image, rules))
        mean = float(imagemath.brightness(out).mean())
        target = named_target(setting, rules.presets)
        rows.append({"name": name, "model": model_name, "map": setting, "region": "all",
                     "target": target, "mean": mean, "abs_error": abs(mean - target),
                     "cell_error": float("nan"), "black_lift": metrics.black_lift(out, image),
                     "blue_shift": metrics.blue_green_shift(out, image)})
      for e in targets:
        emap = np.full((h, w), e, np.float32)
        out = fn(image, eval_common.resolve_exposure(emap, image, rules))
        mean = float(imagemath.brightness(out).mean())
        rows.append({"name": name, "model": model_name, "map": "constant", "region": "all",
                     "target": float(e), "mean": mean, "abs_error": abs(mean - e),
                     "cell_error": metrics.exposure_error(out, emap, cell),
                     "black_lift": metrics.black_lift(out, image)})
      for kind in local_maps:
        emap, regions = eval_common.local_map(kind, h, w)
        out = fn(image, eval_common.resolve_exposure(emap, image, rules))
        stats = {}
        for region, mask in regions.items():
          st = metrics.region_exposure(out, emap, mask, cell)
          stats[region] = st
          rows.append({"name": name, "model": model_name, "map": kind, "region": region,
                       "target": st["target"], "mean": st["mean"], "abs_error": st["abs_error"],
                       "cell_error": st["cell_error"], "black_lift": float("nan")})
        (ra, a), (rb, b) = list(stats.items())
        target = a["target"] - b["target"]
        achieved = a["mean"] - b["mean"]
        rows.append({"name": name, "model": model_name, "map": kind, "region": "contrast",
                     "target": target, "mean": achieved, "abs_error": abs(achieved - target),
                     "cell_error": float("nan"), "black_lift": float("nan")})
  summary = _summarise(rows, ("model", "map", "region", "target"),
                       ("mean", "abs_error", "cell_error", "black_lift", "blue_shift"))
  overall = []
  for model_name in list(models) + (["floor"] if floor else []):
    const = [r for r in rows if r["model"] == model_name and r["map"] == "constant"]
    local = [r for r in rows if r["model"] == model_name and r["map"] in eval_common.LOCAL_MAPS
             and r["region"] != "contrast"]
    contrast = [r for r in rows if r["model"] == model_name and r["region"] == "contrast"]
    overall.append({"model": model_name,
                    "constant_cell_error": _mean(r["cell_error"] for r in const),
                    "constant_abs_error": _mean(r["abs_error"] for r in const),
                    "constant_black_lift": _mean(r["black_lift"] for r in const),
                    "local_region_abs_error": _mean(r["abs_error"] for r in local),
                    "local_region_cell_error": _mean(r["cell_error"] for r in local),
                    "local_contrast_ratio": _mean(r["mean"] / r["target"] for r in contrast
                                                  if r["target"])})
  return {"images": rows, "summary": summary, "overall": overall}


def evaluate_fidelity(images, student, teacher, exposures=("auto",), max_size=None, progress=True,
                      tangent_fit=False, rules=resolve_lib.DEFAULT_RULES):
  """Student vs teacher on the same exposure maps: PSNR, SSIM, Pearson r, mean |difference|.

  With ``tangent_fit``, also ``fit_psnr`` / ``fit_ssim``: the teacher output against
  its best tangent-line approximation (:func:`cudi_jax.eval.tangent_fit.tangent_line_fit`), the
  ceiling of any student of this design for that teacher.
  """
  rows = []
  for name, src in _progress(images, "fidelity", progress):
    image = eval_common.load_image(src, max_size) if not isinstance(src, np.ndarray) else src
    h, w = image.shape[:2]
    for setting in exposures:
      fed = eval_common.resolve_exposure(setting, image, rules)
      t = teacher(image, fed)
      s = student(image, fed)
      rows.append({"name": name, "exposure": eval_common.exposure_label(setting),
                   "exposure_mean": float(exposure_values.full_map(fed, image).mean()), "height": h, "width": w,
                   "psnr": metrics.psnr(s, t),
                   "ssim": metrics.ssim(s, t) if min(h, w) >= 11 else float("nan"),
                   "pearson": metrics.pearson(s, t),
                   "mae": float(np.mean(np.abs(s.astype(np.float64) - t)))})
      if tangent_fit:
        f = tangent_fit_lib.tangent_line_fit(image, t)
        rows[-1].update(fit_psnr=metrics.psnr(f, t),
                        fit_ssim=metrics.ssim(f, t) if min(h, w) >= 11 else float("nan"))
  values = ("psnr", "ssim", "pearson", "mae") + (("fit_psnr", "fit_ssim") if tangent_fit else ())
  summary = _summarise(rows, ("exposure",), values)
  if len(summary) > 1:
    summary.append(dict({"exposure": "all", "count": len(rows)},
                        **{v: _mean(r[v] for r in rows if r[v] is not None and math.isfinite(r[v]))
                           for v in values}))
  return {"images": rows, "summary": summary}


# --------------------------------------------------------------------------- output


def write_json(path, result):
  text = json.dumps(json_safe(result, nonfinite=lambda v: None), indent=2)
  if str(path) == "-":
    print(text)
  else:
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(path).write_text(text + "\n")


def write_csv(path, rows):
  """Per-image rows as CSV (the union of all keys, in first-seen order)."""
  fields = []
  for r in rows:
    fields.extend(k for k in r if k not in fields)
  f = sys.stdout if str(path) == "-" else None
  if f is None:
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "w", newline="")
  try:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    for r in rows:
      writer.writerow({k: _fmt_csv(r.get(k)) for k in fields})
  finally:
    if f is not sys.stdout:
      f.close()


def _fmt_csv(v):
  if v is None:
    return ""
  if isinstance(v, float):
    return f"{v:.6g}"
  return v


def format_table(rows, columns):
  """A plain-text table of ``rows`` (dicts) for the terminal."""
  def cell(v):
    if v is None:
      return "-"
    if isinstance(v, float):
      return "nan" if math.isnan(v) else ("inf" if math.isinf(v) else f"{v:.4f}")
    return str(v)
  table = [[c for c in columns]] + [[cell(r.get(c)) for c in columns] for r in rows]
  widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
  lines = ["  ".join(v.rjust(widths[i]) if i else v.ljust(widths[i]) for i, v in enumerate(row))
           for row in table]
  lines.insert(1, "  ".join("-" * w for w in widths))
  return "\n".join(lines)


# --------------------------------------------------------------------------- CLI


def build_parser():
  parser = argparse.ArgumentParser(
      prog="cudi evaluate",
      description="Measure a CuDi student (and teacher): paired PSNR/SSIM, exposure control, "
                  "teacher/student fidelity.")
  sub = parser.add_subparsers(dest="mode", required=True, metavar="MODE")

  def common(p, exposure=True, color_default="natural"):
    p.add_argument("--student", metavar="PATH",
                   help="student weights (.npz export or training workdir; default: packaged weights)")
    p.add_argument("--teacher", metavar="PATH",
                   help="teacher weights (.npz export or training workdir); needs JAX")
    p.add_argument("--max-size", type=int, default=None, metavar="N",
                   help="downscale photos so the longer side is at most N pixels")
    if exposure:
      p.add_argument("--exposure", action="append", metavar="E",
                     help="exposure setting: a number in [0, 1], under, over, auto, adaptive or a "
                          "map image; repeat for several (default: auto)")
    p.add_argument("--color", choices=student_math.COLOR_MODES, default=color_default,
                   help="the student's colour handling: natural (one curve for all channels "
                        "where it brightens, as cudi enhance does) or network (the per-channel "
                        f"maps as predicted, what the teacher does); default {color_default}")
    p.add_argument("--tile", type=int, default=512, metavar="N",
                   help="teacher tile size in pixels (0: whole images; default 512)")
    p.add_argument("--tile-margin", type=int, default=64, metavar="N",
                   help="context pixels around each teacher tile (default 64)")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON ('-': stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the per-image rows as CSV ('-': stdout)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="use the first N images only")
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
  common(p)

  p = sub.add_parser("exposure", help="exposure-control error for targets 0.2..0.8 and local maps",
                     description="For each photo and target E, the mean over 16x16 cells of "
                                 "|mean RGB brightness - E| (the L_sec definition), and the error "
                                 "inside each region of two-region maps.")
  p.add_argument("inputs", nargs="+", help="photos or folders")
  p.add_argument("--targets", default=",".join(f"{t:g}" for t in DEFAULT_TARGETS), metavar="LIST",
                 help="comma-separated constant targets (default 0.2,...,0.8)")
  p.add_argument("--local", default=",".join(eval_common.LOCAL_MAPS), metavar="LIST",
                 help="two-region maps: halves (left 0.3 / right 0.7), ellipse (0.7 in a centred "
                      "ellipse, 0.3 outside); '' for none")
  p.add_argument("--named", default=",".join(NAMED_SETTINGS), metavar="LIST",
                 help="named settings scored by mean brightness against what they promise "
                      "(auto: 0.5, under / over: their values) and black lift "
                      f"(default {','.join(NAMED_SETTINGS)}; '' for none)")
  p.add_argument("--cell", type=int, default=16, help="cell size of the brightness error (default 16)")
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
    if not args.teacher:
      raise SystemExit("cudi evaluate: error: the teacher needs --teacher PATH")
    from cudi_jax.eval import teacher_runner  # JAX, only when a teacher is evaluated.
    models["teacher"] = teacher_runner.load_teacher_runner(
        args.teacher, tile=args.tile or None, margin=args.tile_margin)
  for baseline in BASELINES:
    if baseline in names:
      models[baseline] = None
  return models, rules


def _images(args):
  paths = eval_common.expand_image_paths(args.inputs)
  if args.limit:
    paths = paths[: args.limit]
  if not paths:
    raise SystemExit(f"cudi evaluate: error: no images found in {' '.join(map(str, args.inputs))}")
  return [(p.stem, p) for p in paths]


def main(argv=None):
  """``cudi evaluate``; ``argv`` is the argument list after the sub-command name."""
  argv = list(sys.argv[1:] if argv is None else argv)
  if argv[:1] == ["evaluate"]:
    argv = argv[1:]
  args = build_parser().parse_args(argv)
  progress = progress_lib.enabled(args.quiet, args.no_progress)
  started = time.time()
  settings = {"mode": args.mode, "student": args.student or "packaged", "teacher": args.teacher,
              "max_size": args.max_size, "color": args.color}
  try:
    if args.mode in ("paired", "fidelity"):
      exposures = [eval_common.parse_exposure(e) for e in (args.exposure or ["auto"])]
      settings["exposures"] = [eval_common.exposure_label(e) for e in exposures]
    if args.mode == "paired":
      if args.references is None and args.pairs is None:
        raise SystemExit("cudi evaluate paired: error: give a REFERENCES folder or --pairs CSV")
      names = (args.models.split(",") if args.models
               else ["student"] + (["teacher"] if args.teacher else []) + ["gain"])
      names = [n.strip() for n in names if n.strip()]
      unknown = set(names) - {"student", "teacher", *BASELINES}
      if unknown:
        raise SystemExit(f"cudi evaluate: error: unknown model(s) {sorted(unknown)}")
      pairs = match_pairs(args.inputs, args.references, args.pairs, args.split)
      settings.update(pairs=args.pairs, split=args.split)
      if args.limit:
        pairs = pairs[: args.limit]
      if not pairs:
        raise SystemExit("cudi evaluate paired: error: no input/reference pairs found")
      models, rules = _load_models(args, names)
      result = evaluate_paired(pairs, models, exposures, args.max_size, progress, rules)
      columns = (("kind",) if any(r.get("kind") for r in result["summary"]) else ()) + (
          "model", "exposure", "count") + PAIRED_VALUES
    elif args.mode == "exposure":
      targets = [float(t) for t in args.targets.split(",") if t.strip()]
      local = [k.strip() for k in args.local.split(",") if k.strip()]
      for k in local:
        if k not in eval_common.LOCAL_MAPS:
          raise SystemExit(f"cudi evaluate: error: unknown local map {k!r}")
      named = [k.strip() for k in args.named.split(",") if k.strip()]
      for k in named:
        if k not in NAMED_SETTINGS:
          raise SystemExit(f"cudi evaluate: error: --named takes {','.join(NAMED_SETTINGS)}, "
                           f"got {k!r}")
      names = ["student"] + (["teacher"] if args.teacher else [])
      settings.update(targets=targets, local_maps=local, cell=args.cell, floor=bool(args.floor),
                      named=named)
      models, rules = _load_models(args, names)
      result = evaluate_exposure(_images(args), models, targets, local, args.cell, args.max_size,
                                 progress, floor=args.floor, rules=rules, named=named)
      columns = ("model", "map", "region", "target", "count", "mean", "abs_error", "cell_error",
                 "black_lift", "blue_shift")
    else:
      if not args.teacher:
        raise SystemExit("cudi evaluate fidelity: error: --teacher PATH is required")
      models, rules = _load_models(args, ["student", "teacher"])
      settings["tangent_fit"] = bool(args.tangent_fit)
      result = evaluate_fidelity(_images(args), models["student"], models["teacher"], exposures,
                                 args.max_size, progress, tangent_fit=args.tangent_fit,
                                 rules=rules)
      columns = ("exposure", "count", "psnr", "ssim", "pearson", "mae") + (
          ("fit_psnr", "fit_ssim") if args.tangent_fit else ())
  except (CudiError, OSError) as err:
    print(f"cudi evaluate: error: {err}", file=sys.stderr)
    return 2
  settings["seconds"] = round(time.time() - started, 2)
  result = dict({"settings": settings}, **result)
  if args.json:
    write_json(args.json, result)
  if args.csv:
    write_csv(args.csv, result["images"])
  if not args.quiet and args.json != "-" and args.csv != "-":
    print(format_table(result["summary"], columns))
    if "overall" in result:
      print()
      print(format_table(result["overall"], ("model", "constant_cell_error", "constant_abs_error",
                                             "constant_black_lift", "local_region_abs_error",
                                             "local_contrast_ratio")))
  return 0


if __name__ == "__main__":
  sys.exit(main())
