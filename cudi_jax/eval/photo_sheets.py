"""The four sheets ``cudi report`` draws for each photo: teacher / student comparison,
exposure sweep, presets, local exposure (:func:`photo_sheets`)."""
import pathlib

import numpy as np

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics
from cudi_jax.eval.sheets import contact_sheet, to_pil
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import settings as exposure_settings
from cudi_jax.exposure import values as exposure_values

PRESET_SETTINGS = ("under", "over", "auto", "adaptive")


def _mean_brightness(out):
  return float(imagemath.brightness(out).mean())


def setting_caption(setting, image, fed, presets):
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


def photo_sheets(name, image, student, teacher, out_dir, setting="auto",
                 sweep=eval_common.DEFAULT_TARGETS, local="ellipse", amplify=10.0, thumb=256,
                 teacher_sweep=False, rules=resolve_lib.DEFAULT_RULES):
  """Renders the four sheets of one photo into ``out_dir``; returns (file names, stats).
  rules: what the settings mean for the student (the export's presets and calibration)."""
  out_dir = pathlib.Path(out_dir)
  files, stats = {}, {"name": name, "height": image.shape[0], "width": image.shape[1],
                      "input_mean": _mean_brightness(image)}
  h, w = image.shape[:2]

  # 1. input | teacher | student | |teacher - student|
  fed = eval_common.resolve_exposure(setting, image, rules)
  s_out = student(image, fed)
  caption = setting_caption(setting, image, fed, rules.presets)
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
                f"{setting_caption(p, image, fed, rules.presets)}\nmean {_mean_brightness(out):.3f}"))
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
