"""Teacher/student fidelity (``cudi evaluate fidelity``): the student against the
teacher on the same exposure maps, and optionally the ceiling of any student of this
design (the best tangent-line fit of the teacher's output)."""
import math

import numpy as np

from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics
from cudi_jax.eval import results
from cudi_jax.eval import tangent_fit as tangent_fit_lib
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values as exposure_values


def evaluate_fidelity(images, student, teacher, exposures=("auto",), max_size=None, progress=True,
                      tangent_fit=False, rules=resolve_lib.DEFAULT_RULES, on_error=None):
  """Student vs teacher on the same exposure maps: PSNR, SSIM, Pearson r, mean |difference|.

  With ``tangent_fit``, also ``fit_psnr`` / ``fit_ssim``: the teacher output against
  its best tangent-line approximation (:func:`cudi_jax.eval.tangent_fit.tangent_line_fit`), the
  ceiling of any student of this design for that teacher. on_error: as for
  :func:`cudi_jax.eval.common.load_photo`.
  """
  rows = []
  for name, image in eval_common.loaded_photos(images, "fidelity", progress, max_size, on_error):
    h, w = image.shape[:2]
    for setting in exposures:
      fed = eval_common.resolve_exposure(setting, image, rules)
      if isinstance(fed, exposure_values.Tempered):
        # The networks' fidelity: auto's steps after the student (tempering, the night
        # ceiling) are not the teacher's to follow.
        fed = fed.fed
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
  summary = results.summarise(rows, ("exposure",), values)
  if len(summary) > 1:
    summary.append(dict({"exposure": "all", "count": len(rows)},
                        **{v: results.mean(r[v] for r in rows if r[v] is not None and math.isfinite(r[v]))
                           for v in values}))
  return {"images": rows, "summary": summary}
