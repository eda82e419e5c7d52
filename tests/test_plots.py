"""Training-curve plots (cudi_jax.eval.plots, matplotlib)."""
import sys

import numpy as np
import pytest
from PIL import Image

from cudi_jax import runlog
from cudi_jax.eval import plots
from tests import helpers


def test_plot_metrics_grid(tmp_path):
  pytest.importorskip("matplotlib")
  records = runlog.read_metrics(helpers.write_metrics_jsonl(tmp_path / "metrics.jsonl"))
  assert len(records) == 30
  assert plots.metric_keys(records)[0] == "loss/total"
  fig = plots.plot_metrics(records, "teacher")
  assert [ax.get_title(loc="left") for ax in fig.axes] == [
      "loss/total", "loss/exposure", "images_per_sec", "lr"]
  assert fig.axes[0].get_xlabel() == "step"
  assert fig.axes[0].get_yscale() == "log"  # 2 ... 0.0069: more than two decades
  path = tmp_path / "curves.png"
  plots.save_png(fig, path)
  with Image.open(path) as img:
    assert img.format == "PNG"
    assert abs(img.size[0] - 3 * 380) <= 2 and abs(img.size[1] - (2 * 250 + 26)) <= 2
    pixels = np.asarray(img.convert("RGB"))
  assert (pixels == 255).all(-1).mean() > 0.5 and (pixels < 128).any()  # ink on white
  assert plots.plot_metrics([], "x") is None


def test_line_plot_curve_ema_and_axes(tmp_path):
  pytest.importorskip("matplotlib")
  ys = np.exp(-np.arange(100) / 10.0) * (1 + 0.3 * np.sin(np.arange(100)))
  fig = plots.line_plot(range(100), ys, "loss/total", size=(300, 200))
  ax = fig.axes[0]
  raw, smooth = ax.get_lines()
  assert raw.get_label() == "raw" and smooth.get_label() == "EMA 0.9"
  np.testing.assert_allclose(raw.get_ydata(), ys)
  assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
  assert ax.get_ylabel() == "total (log)" and ax.get_title(loc="left") == "loss/total"
  assert np.all(np.diff(np.log(smooth.get_ydata()))[5:] < 0)  # the EMA is smooth
  plots.save_png(fig, tmp_path / "one.png")
  with Image.open(tmp_path / "one.png") as img:
    assert img.format == "PNG" and abs(img.size[0] - 300) <= 2 and abs(img.size[1] - 200) <= 2
  linear = plots.line_plot([0, 1, 2], [1.0, 2.0, 3.0], "lr").axes[0]
  assert linear.get_yscale() == "linear" and len(linear.get_lines()) == 1  # no EMA
  assert plots.line_plot([], [], "empty").axes[0].texts[0].get_text() == "no data"
  assert len(plots.line_plot([1], [2.0], "one point").axes[0].get_lines()) == 1


def test_plotting_without_matplotlib_is_one_line(tmp_path, monkeypatch):
  for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
               "matplotlib.backends.backend_agg"):
    monkeypatch.setitem(sys.modules, name, None)  # import fails
  records = runlog.read_metrics(helpers.write_metrics_jsonl(tmp_path / "metrics.jsonl"))
  with pytest.raises(plots.PlottingUnavailable, match=r'pip install "cudi-jax\[eval\]"'):
    plots.plot_metrics(records, "x")


def test_metric_keys_order_and_ema():
  records = [{"step": 1, "lr": 1.0, "eval/psnr": 20.0, "loss/exposure": 0.2, "loss/total": 1.0,
              "note": "text", "flag": True}]
  assert plots.metric_keys(records) == ["loss/total", "loss/exposure", "eval/psnr", "lr"]
  assert plots.ema([1.0, 0.0, 0.0], 0.5) == [1.0, 0.5, 0.25]
