"""The HTML page of cudi report (cudi_jax.eval.html_report)."""
import math

from cudi_jax.eval import html_report


def test_write_html_escapes_and_lists_everything(tmp_path):
  stats = {"name": "a<b>.png", "anchor": "photo-a_b_", "width": 60, "height": 40,
           "exposure": "auto", "input_mean": 0.2, "student_mean": 0.45, "sweep_error": math.nan}
  files = {"compare": "images/a_compare.png", "sweep": "images/a_sweep.png"}
  path = tmp_path / "index.html"
  html_report.write_html(path, "T & U", {"photos": 1}, [(files, stats)],
                         [("teacher", "plots/teacher_curves.png")], notes=["a note"])
  text = path.read_text()
  assert "<title>T &amp; U</title>" in text and "a&lt;b&gt;.png" in text
  assert "src='plots/teacher_curves.png'" in text and "src='images/a_sweep.png'" in text
  assert "Pearson" not in text and "a note" in text
  assert "<td class='num'>-</td>" in text  # NaN shown as -
