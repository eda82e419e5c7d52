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
"""
import argparse
import html
import json
import math
import os
import pathlib
import re
import sys

import numpy as np

from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax.exposure import values as exposure_values
from cudi_jax import imagemath
from cudi_jax import progress
from cudi_jax.errors import CudiError
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics

DEFAULT_SWEEP = tuple(round(0.2 + 0.1 * i, 1) for i in range(7))
PRESET_SETTINGS = ("under", "over", "auto", "adaptive")


# --------------------------------------------------------------------------- drawing


def _font(size=13):
  from PIL import ImageFont
  try:
    return ImageFont.load_default(size=size)
  except TypeError:  # Pillow < 10.1: the fixed bitmap font
    return ImageFont.load_default()


def _text_size(draw, text, font):
  box = draw.textbbox((0, 0), text, font=font)
  return box[2] - box[0], box[3] - box[1]


def to_pil(array, size=None):
  """A float (H, W, 3) image or (H, W) map in [0, 1] -> RGB PIL image (fit into ``size`` px)."""
  from PIL import Image
  a = eval_common.to_uint8(array)
  if a.ndim == 2:
    a = np.repeat(a[..., None], 3, axis=-1)
  img = Image.fromarray(a, "RGB")
  if size and max(img.size) > size:
    img.thumbnail((size, size), Image.LANCZOS)
  return img


def wrap_caption(text, max_width, draw, font):
  """Caption lines (``\\n`` separated) wrapped at spaces to ``max_width`` pixels; a
  word wider than that is broken between characters. Returns a list of lines."""
  def width(t):
    return draw.textlength(t, font=font) if hasattr(draw, "textlength") else \
        _text_size(draw, t, font)[0]

  out = []
  for line in text.split("\n"):
    if width(line) <= max_width:
      out.append(line)
      continue
    current = ""
    for word in line.split(" "):
      candidate = f"{current} {word}" if current else word
      if width(candidate) <= max_width:
        current = candidate
        continue
      if current:
        out.append(current.rstrip())
      current = word
      while current and width(current) > max_width:  # a word wider than the panel
        cut = 1
        while cut < len(current) and width(current[:cut + 1]) <= max_width:
          cut += 1
        out.append(current[:cut])
        current = current[cut:]
    if current.strip() or not out:
      out.append(current.strip())
  return out


def contact_sheet(rows, tile_size=None, pad=6, font_size=13, background=(255, 255, 255)):
  """A grid of labelled tiles: ``rows`` = [[(array or PIL image, caption), ...], ...].

  Captions (``\\n`` for several lines) are written under each tile with
  PIL's default font, wrapped to the width of the tile's column (never into the next
  panel). Returns an RGB PIL image.
  """
  from PIL import Image, ImageDraw
  font = _font(font_size)
  probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
  line_h = _text_size(probe, "Ag|0", font)[1] + 4
  tiles = [[(t if isinstance(t, Image.Image) else to_pil(t, tile_size), cap or "") for t, cap in row]
           for row in rows]
  n_cols = max(len(r) for r in tiles)
  col_w = [max((r[c][0].size[0] for r in tiles if c < len(r)), default=0) for c in range(n_cols)]
  # Captions start 1 px into the column; keep a pixel of margin on the right.
  tiles = [[(t, wrap_caption(cap, max(col_w[c] - 2, 1), probe, font))
            for c, (t, cap) in enumerate(r)] for r in tiles]
  row_h = []
  for r in tiles:
    lines = max(len(cap) for _, cap in r)
    row_h.append(max(t.size[1] for t, _ in r) + lines * line_h + 2)
  width = sum(col_w) + pad * (n_cols + 1)
  height = sum(row_h) + pad * (len(tiles) + 1)
  sheet = Image.new("RGB", (width, height), background)
  draw = ImageDraw.Draw(sheet)
  y = pad
  for r, h in zip(tiles, row_h):
    x = pad
    for c, (tile, cap) in enumerate(r):
      sheet.paste(tile, (x, y))
      ty = y + tile.size[1] + 2
      for line in cap:
        draw.text((x + 1, ty), line, fill=(20, 20, 20), font=font)
        ty += line_h
      x += col_w[c] + pad
    y += h + pad
  return sheet


def ema(values, alpha):
  out, acc = [], None
  for v in values:
    acc = v if acc is None else alpha * acc + (1 - alpha) * v
    out.append(acc)
  return out


#: The one-line message when curves are asked for without matplotlib.
NO_MATPLOTLIB = ('training-curve plots need matplotlib: pip install "cudi-jax[eval]" '
                 '(or give no metrics)')


class PlottingUnavailable(ImportError):
  """matplotlib is not installed (the message is one line)."""


def _matplotlib():
  """(Figure, FigureCanvasAgg) from matplotlib's object API: no pyplot, no global
  backend; raises :class:`PlottingUnavailable` when matplotlib is missing."""
  try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
  except ImportError:
    raise PlottingUnavailable(NO_MATPLOTLIB) from None
  return Figure, FigureCanvasAgg


def draw_curve(ax, xs, ys, title="", log=None, smooth=None, color="C0"):
  """One metric against the step on a matplotlib ``Axes``: the curve, its EMA, axes,
  labels and the metric name as title.

  log: logarithmic y axis (None: automatically when all values are positive and span
  more than two decades); smooth: EMA factor of a second, darker line (None: 0.9 when
  there are more than 50 points; the raw curve is then drawn faint). With a log axis
  the EMA is taken of log10 values, as a log plot shows them.
  """
  pts = [(float(x), float(y)) for x, y in zip(xs, ys)
         if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]
  ax.set_title(title, fontsize=10, loc="left")
  if not pts:
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
            color="0.5")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
  px, py = zip(*pts)
  if log is None:
    log = min(py) > 0 and max(py) / min(py) > 100
  if log and min(py) <= 0:
    log = False
  if smooth is None:
    smooth = 0.9 if len(pts) > 50 else 0.0
  if smooth:
    ax.plot(px, py, color=color, alpha=0.35, linewidth=1, label="raw")
    if log:
      smoothed = [10 ** v for v in ema([math.log10(v) for v in py], smooth)]
    else:
      smoothed = ema(py, smooth)
    ax.plot(px, smoothed, color=color, linewidth=2, label=f"EMA {smooth:g}")
    ax.legend(fontsize=7, frameon=False, loc="best")
  else:
    ax.plot(px, py, color=color, linewidth=2, marker="o" if len(pts) == 1 else None,
            markersize=4)
  if log:
    ax.set_yscale("log")
  ax.set_xlabel("step", fontsize=8)
  ax.set_ylabel(title.rsplit("/", 1)[-1] + (" (log)" if log else ""), fontsize=8)
  ax.tick_params(labelsize=8)
  ax.grid(True, color="0.92", linewidth=0.8)
  return ax


def line_plot(xs, ys, title="", size=(380, 250), log=None, smooth=None, dpi=100):
  """One curve (see :func:`draw_curve`) as a matplotlib Figure of ``size`` pixels."""
  Figure, FigureCanvasAgg = _matplotlib()
  fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
  FigureCanvasAgg(fig)
  draw_curve(fig.add_subplot(), xs, ys, title, log=log, smooth=smooth)
  return fig


def save_png(fig, path):
  """Writes a matplotlib Figure as PNG at its own size and dpi."""
  fig.savefig(path, format="png", dpi=fig.dpi, facecolor="white")


# --------------------------------------------------------------------------- training curves


def read_metrics(path):
  """Records of a ``metrics.jsonl`` file (malformed lines, e.g. one being written, are skipped)."""
  records = []
  with open(path) as f:
    for line in f:
      line = line.strip()
      if not line:
        continue
      try:
        rec = json.loads(line)
      except json.JSONDecodeError:
        continue
      if isinstance(rec, dict) and "step" in rec:
        records.append(rec)
  records.sort(key=lambda r: r["step"])
  return records


def metric_keys(records, max_panels=12):
  """Numeric keys to plot: loss/total first, then other losses, then the rest."""
  keys = []
  for r in records:
    for k, v in r.items():
      if k != "step" and k not in keys and isinstance(v, (int, float)) and not isinstance(v, bool):
        keys.append(k)

  def rank(k):
    if k in ("loss/total", "loss/distill"):
      return (0, k)
    if k.startswith("loss"):
      return (1, k)
    if k.startswith("eval"):
      return (2, k)
    return (3, k)

  return sorted(keys, key=rank)[:max_panels]


def plot_metrics(records, title="", columns=3, panel=(380, 250), dpi=100):
  """A grid of line plots, one per metric against the step (:func:`draw_curve`) ->
  matplotlib Figure of about (columns x panel) pixels plus a title line, or None if
  there is nothing to plot. Raises :class:`PlottingUnavailable` without matplotlib."""
  keys = metric_keys(records)
  if not keys:
    return None
  Figure, FigureCanvasAgg = _matplotlib()
  columns = min(columns, len(keys))
  rows = -(-len(keys) // columns)
  head = 26 if title else 0
  fig = Figure(figsize=(columns * panel[0] / dpi, (rows * panel[1] + head) / dpi), dpi=dpi,
               layout="constrained")
  FigureCanvasAgg(fig)
  for i, k in enumerate(keys):
    xs = [r["step"] for r in records if isinstance(r.get(k), (int, float))]
    ys = [r[k] for r in records if isinstance(r.get(k), (int, float))]
    draw_curve(fig.add_subplot(rows, columns, i + 1), xs, ys, k)
  if title:
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
  return fig


# --------------------------------------------------------------------------- per photo


def _mean_brightness(out):
  return float(imagemath.brightness(out).mean())


def _setting_caption(setting, image, fed, presets):
  """The setting as requested, and the value fed to the network when a calibration
  changed it (``fed``: what the network is given)."""
  emap = exposure_values.full_map(fed, image)
  if setting == "auto":
    return f"auto (E {emap.min():.2f}-{emap.max():.2f}, mean {emap.mean():.2f})"
  if setting == "adaptive":
    return f"adaptive (E {emap.min():.2f}-{emap.max():.2f})"
  fed = float(emap.mean())
  if isinstance(setting, str) and setting in ("under", "over"):
    requested, label = presets.target(setting), f"{setting} (E={{}})"
  elif isinstance(setting, (int, float)):
    requested, label = float(setting), "E={}"
  else:  # a map file or array
    return f"E={eval_common.exposure_label(setting)}"
  text = f"{requested:.2f}" if abs(fed - requested) < 0.005 else f"{requested:.2f}, fed {fed:.2f}"
  return label.format(text)


def local_example(spec, height, width):
  """(map, regions or None, name) for --local: 'halves', 'ellipse' or a map image file."""
  if spec in eval_common.LOCAL_MAPS:
    emap, regions = eval_common.local_map(spec, height, width)
    return emap, regions, spec
  emap = exposure_settings.map_from_array(exposure_settings.read_map_file(spec), height, width)
  return emap, None, pathlib.Path(spec).name


def photo_sheets(name, image, student, teacher, out_dir, setting="auto", sweep=DEFAULT_SWEEP,
                 local="ellipse", amplify=10.0, thumb=256, teacher_sweep=False,
                 rules=resolve_lib.DEFAULT_RULES):
  """Renders the four sheets of one photo into ``out_dir``; returns (file names, stats).
  rules: what the settings mean for the student (the export's presets and calibration)."""
  out_dir = pathlib.Path(out_dir)
  files, stats = {}, {"name": name, "height": image.shape[0], "width": image.shape[1],
                      "input_mean": _mean_brightness(image)}
  h, w = image.shape[:2]

  # 1. input | teacher | student | |teacher - student|
  fed = eval_common.resolve_exposure(setting, image, rules)
  s_out = student(image, fed)
  caption = _setting_caption(setting, image, fed, rules.presets)
  stats.update(exposure=caption, student_mean=_mean_brightness(s_out))
  row = [(image, f"input\nmean {stats['input_mean']:.3f}")]
  if teacher is not None:
    t_out = teacher(image, fed)
    stats.update(teacher_mean=_mean_brightness(t_out), psnr=metrics.psnr(s_out, t_out),
                 ssim=metrics.ssim(s_out, t_out) if min(h, w) >= 11 else float("nan"),
                 pearson=metrics.pearson(s_out, t_out))
    diff = np.clip(np.abs(t_out - s_out) * amplify, 0.0, 1.0)
    row += [(t_out, f"teacher {caption}\nmean {stats['teacher_mean']:.3f}"),
            (s_out, f"student {caption}\nmean {stats['student_mean']:.3f}"),
            (diff, f"|teacher - student| x{amplify:g}\nPSNR {stats['psnr']:.2f} dB  "
                   f"SSIM {stats['ssim']:.4f}  r {stats['pearson']:.4f}")]
  else:
    row += [(s_out, f"student {caption}\nmean {stats['student_mean']:.3f}")]
  files["compare"] = _save(contact_sheet([row]), out_dir, f"{name}_compare.png")

  # 2. exposure sweep
  rows = [[], []]
  errors = []
  for e in sweep:
    m = np.full((h, w), e, np.float32)
    fed = eval_common.resolve_exposure(m, image, rules)  # the student's calibration, if any
    out = student(image, fed)
    err = metrics.exposure_error(out, m)
    errors.append(err)
    rows[0].append((to_pil(out, thumb), f"student E={e:g}\nmean {_mean_brightness(out):.3f}"))
    if teacher is not None and teacher_sweep:
      tout = teacher(image, fed)
      rows[1].append((to_pil(tout, thumb), f"teacher E={e:g}\nmean {_mean_brightness(tout):.3f}"))
  stats["sweep_error"] = float(np.mean(errors)) if errors else float("nan")
  files["sweep"] = _save(contact_sheet([r for r in rows if r]), out_dir, f"{name}_sweep.png")

  # 3. presets
  row = [(to_pil(image, thumb), "input")]
  adaptive = None
  for p in PRESET_SETTINGS:
    fed = eval_common.resolve_exposure(p, image, rules)
    if p == "adaptive":
      adaptive = exposure_values.full_map(fed, image)
    out = student(image, fed)
    row.append((to_pil(out, thumb),
                f"{_setting_caption(p, image, fed, rules.presets)}\nmean {_mean_brightness(out):.3f}"))
  row.append((to_pil(adaptive, thumb), "adaptive map E"))
  files["presets"] = _save(contact_sheet([row]), out_dir, f"{name}_presets.png")

  # 4. local exposure
  if local:
    m, regions, label = local_example(local, h, w)
    fed = eval_common.resolve_exposure(m, image, rules)
    out = student(image, fed)
    row = [(to_pil(image, thumb), "input"), (to_pil(m, thumb), f"map E ({label})"),
           (to_pil(out, thumb), "student\n" + _region_caption(out, m, regions))]
    if teacher is not None:
      tout = teacher(image, fed)
      row.append((to_pil(tout, thumb), "teacher\n" + _region_caption(tout, m, regions)))
    files["local"] = _save(contact_sheet([row]), out_dir, f"{name}_local.png")
  return files, stats


def _region_caption(out, emap, regions):
  if not regions:
    return f"L_sec error {metrics.exposure_error(out, emap):.3f}"
  parts = []
  for region, mask in regions.items():
    st = metrics.region_exposure(out, emap, mask)
    parts.append(f"{region} {st['target']:.1f}->{st['mean']:.2f}")
  return "  ".join(parts)


def _save(img, out_dir, filename):
  out_dir.mkdir(parents=True, exist_ok=True)
  img.save(out_dir / filename, optimize=True)
  return filename


# --------------------------------------------------------------------------- HTML

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1500px; padding: 0 16px; color: #222; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
.note { color: #666; font-size: 13px; }
"""


def _num(v, digits=4):
  if v is None or (isinstance(v, float) and not math.isfinite(v)):
    return "-"
  return f"{v:.{digits}f}"


def write_html(path, title, settings, photos, curves, notes=()):
  esc = html.escape
  out = ["<!doctype html>", "<html><head><meta charset='utf-8'>",
         f"<title>{esc(title)}</title><style>{CSS}</style></head><body>", f"<h1>{esc(title)}</h1>"]
  out.append("<table>")
  for k, v in settings.items():
    out.append(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>")
  out.append("</table>")
  for n in notes:
    out.append(f"<p class='note'>{esc(n)}</p>")
  if curves:
    out.append("<h2>Training curves</h2>")
    for label, fname in curves:
      out.append(f"<h3>{esc(label)}</h3><img src='{esc(fname)}' alt='{esc(label)} training curves'>")
  if photos:
    has_teacher = any("psnr" in st for _, st in photos)
    out.append("<h2>Summary</h2><table><tr><th>photo</th><th>size</th><th>exposure</th>"
               "<th>input mean</th><th>student mean</th>"
               + ("<th>teacher mean</th><th>PSNR S/T (dB)</th><th>SSIM S/T</th><th>Pearson r</th>"
                  if has_teacher else "")
               + "<th>sweep L_sec error</th></tr>")
    for _, st in photos:
      out.append(
          f"<tr><td><a href='#{esc(st['anchor'])}'>{esc(st['name'])}</a></td>"
          f"<td>{st['width']}x{st['height']}</td><td>{esc(st['exposure'])}</td>"
          f"<td class='num'>{_num(st['input_mean'], 3)}</td><td class='num'>{_num(st['student_mean'], 3)}</td>"
          + (f"<td class='num'>{_num(st.get('teacher_mean'), 3)}</td><td class='num'>{_num(st.get('psnr'), 2)}</td>"
             f"<td class='num'>{_num(st.get('ssim'))}</td><td class='num'>{_num(st.get('pearson'))}</td>"
             if has_teacher else "")
          + f"<td class='num'>{_num(st['sweep_error'])}</td></tr>")
    out.append("</table>")
    titles = {"compare": "Teacher / student", "sweep": "Exposure sweep",
              "presets": "Presets: under / over / auto / adaptive", "local": "Local exposure"}
    for files, st in photos:
      out.append(f"<h2 id='{esc(st['anchor'])}'>{esc(st['name'])}</h2>")
      for key in ("compare", "sweep", "presets", "local"):
        if key in files:
          out.append(f"<h3>{titles[key]}</h3><img src='{esc(files[key])}' alt='{esc(st['name'])} {key}'>")
  out.append("</body></html>")
  pathlib.Path(path).write_text("\n".join(out) + "\n")


# --------------------------------------------------------------------------- CLI


def build_parser():
  p = argparse.ArgumentParser(
      prog="cudi report",
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
  p.add_argument("--max-size", type=int, default=512, metavar="N",
                 help="downscale photos to at most N px per side before processing (default 512)")
  p.add_argument("--thumb-size", type=int, default=256, metavar="N",
                 help="tile size in the sweep/preset/local strips (default 256)")
  p.add_argument("--exposure", default="auto", metavar="E",
                 help="exposure of the teacher/student sheet (number, under, over, auto, adaptive, "
                      "map file; default auto)")
  p.add_argument("--sweep", default=",".join(f"{e:g}" for e in DEFAULT_SWEEP), metavar="LIST",
                 help="exposure values of the sweep strip (default 0.2,...,0.8)")
  p.add_argument("--local", default="ellipse", metavar="MAP",
                 help="local-exposure example: halves, ellipse or a grayscale map image ('' for none)")
  p.add_argument("--amplify", type=float, default=10.0, help="gain of the |teacher - student| image")
  p.add_argument("--teacher-sweep", action="store_true",
                 help="also run the teacher for every sweep value (slow without a GPU)")
  p.add_argument("--tile", type=int, default=512, metavar="N", help="teacher tile size (0: whole image)")
  p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N photos")
  p.add_argument("--title", default="CuDi report")
  progress.add_arguments(p, quiet_help="no progress bar and no closing line")
  return p


def _warn(msg):
  print(f"cudi report: warning: {msg}", file=sys.stderr)


def _unique_names(paths):
  seen, names = {}, []
  for p in paths:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", p.stem) or "photo"
    n = seen.get(base, 0)
    seen[base] = n + 1
    names.append(base if n == 0 else f"{base}_{n + 1}")
  return names


def main(argv=None):
  """``cudi report``; ``argv`` is the argument list after the sub-command name."""
  args = build_parser().parse_args(argv)
  out_dir = pathlib.Path(args.output)
  img_dir = out_dir / "images"
  notes = []
  try:
    paths = eval_common.expand_image_paths(args.inputs) if args.inputs else []
    setting = eval_common.parse_exposure(args.exposure)
    sweep = [exposure_settings.check_value(v) for v in args.sweep.split(",") if v.strip()]
  except (FileNotFoundError, ValueError) as err:
    print(f"cudi report: error: {err}", file=sys.stderr)
    return 2
  if args.local and args.local not in eval_common.LOCAL_MAPS and not os.path.isfile(args.local):
    print(f"cudi report: error: --local must be halves, ellipse or a map image, got {args.local!r}",
          file=sys.stderr)
    return 2
  if args.limit:
    paths = paths[: args.limit]
  metric_files = [(label, pathlib.Path(wd) / "metrics.jsonl")
                  for label, wd in (("teacher", args.teacher_workdir), ("student", args.student_workdir))
                  if wd]
  metric_files += [(pathlib.Path(f).parent.name or pathlib.Path(f).stem, pathlib.Path(f))
                   for f in args.metrics]
  if not paths and not metric_files:
    print("cudi report: error: nothing to report: give photos and/or metrics", file=sys.stderr)
    return 2
  if any(path.exists() for _, path in metric_files):
    try:  # before any photo is processed: a missing extra fails at once
      _matplotlib()
    except PlottingUnavailable as err:
      print(f"cudi report: error: {err}", file=sys.stderr)
      return 1
  out_dir.mkdir(parents=True, exist_ok=True)

  # training curves
  curves, used_plots = [], set()
  for label, path in metric_files:
    if not path.exists():
      _warn(f"{path} not found: no curves for {label}")
      notes.append(f"No metrics for {label}: {path} not found.")
      continue
    records = read_metrics(path)
    sheet = plot_metrics(records, f"{label}: {path}  ({len(records)} records)")
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
    save_png(sheet, out_dir / fname)
    curves.append((label, fname))

  settings = {"photos": len(paths), "max size": args.max_size, "exposure": args.exposure}
  photos = []
  if paths:
    student_src = args.student or args.student_workdir
    try:
      student_model = eval_common.load_student_model(student_src)
    except (CudiError, OSError, ImportError) as err:
      if args.student or not args.student_workdir:
        print(f"cudi report: error: cannot load the student: {err}", file=sys.stderr)
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
          print(f"cudi report: error: cannot load the teacher: {err}", file=sys.stderr)
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
      except (OSError, ValueError) as err:
        progress.write(f"cudi report: warning: skipping {progress.show_name(path)}: {err}",
                       iterator if hasattr(iterator, "write") else None)
        continue
      files, stats = photo_sheets(name, image, student, teacher, img_dir, setting, sweep,
                                  args.local or None, args.amplify, args.thumb_size, args.teacher_sweep,
                                  rules=student_model.rules)
      files = {k: f"images/{v}" for k, v in files.items()}
      stats["anchor"] = f"photo-{name}"
      stats["name"] = path.name
      photos.append((files, stats))
  write_html(out_dir / "index.html", args.title, settings, photos, curves, notes)
  if not args.quiet:
    print(f"wrote {out_dir / 'index.html'} ({len(photos)} photos, {len(curves)} curve sheets)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
