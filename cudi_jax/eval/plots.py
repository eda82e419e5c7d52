"""Training curves drawn with matplotlib (the ``[eval]`` extra: ``pip install
"cudi-jax[eval]"``), through its object API on an Agg canvas (no pyplot state):
one metric against the step (:func:`line_plot`), or a grid of all metrics of a run
(:func:`plot_metrics`, records from :func:`cudi_jax.runlog.read_metrics`)."""
import math


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
