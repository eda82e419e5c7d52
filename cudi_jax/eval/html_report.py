"""The HTML page of ``cudi report``: settings, notes, training curves, a summary
table and each photo's sheets (:func:`write_html`)."""
import html
import math
import pathlib

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
