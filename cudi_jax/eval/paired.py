"""Paired evaluation (``cudi evaluate paired``): each model's output against the
reference photo, PSNR / SSIM and what the eye sees, per image, per (kind, model,
exposure), and optionally per stratum of the input's dynamic range."""
import math

import numpy as np

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics
from cudi_jax.eval import results
from cudi_jax.eval.common import EvaluationError
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure import values as exposure_values

PAIRED_VALUES = ("psnr", "ssim", "black_lift", "contrast", "mean_error", "blue_shift")
#: The paired baselines that need no model (see :func:`evaluate_paired`).
BASELINES = ("gain", "input", "reference")

#: Strata of the input's dynamic range r (:func:`dynamic_range`): (label, low, high),
#: low <= r < high.
STRATA = (("r<8", 0.0, 8.0), ("8<=r<16", 8.0, 16.0), ("r>=16", 16.0, math.inf))


def dynamic_range(image):
  """r = p95 / p50 of the BT.709 luma of the gamma-encoded ``image`` (inf when the
  median is 0: a mostly black photo)."""
  y = np.asarray(image, np.float32) @ np.asarray(imagemath.LUMA_BT709, np.float32)
  p50, p95 = np.percentile(y, [50, 95])
  return float(p95 / p50) if p50 > 0 else math.inf


def stratum(r):
  """The label of the :data:`STRATA` stratum holding ``r``."""
  for label, low, high in STRATA:
    if low <= r < high:
      return label
  return STRATA[-1][0]


def evaluate_paired(pairs, models, exposures=("auto",), max_size=None, progress=True,
                    rules=resolve_lib.DEFAULT_RULES, strata=False, on_error=None):
  """PSNR/SSIM of each model's output against the reference, and what the eye sees.

  pairs: [(name, input path, reference path)] (a :class:`~cudi_jax.eval.pairs.Pair`
  carries a kind); models: {name: fn(image, E) -> output}, where the names 'input',
  'gain' and 'reference' may map to None for the baselines that need no exposure
  setting (the unprocessed input; :func:`cudi_jax.eval.common.global_gain`; the
  reference itself, whose black lift and contrast say what the references do);
  exposures: settings, resolved with ``rules`` (those of the student export evaluated,
  ``model.rules``). Outputs are rounded to 8 bits, as a saved photo is.

  Per image and model: psnr, ssim; black_lift (1st percentile of the output's BT.601
  luminance minus the input's: a grey haze); contrast (the output's luminance
  standard deviation over the reference's); mean_error (output mean luminance minus
  the reference's); blue_shift (:func:`metrics.blue_green_shift` against the
  reference: above 1, a blue cast). Returns {'images': rows, 'summary': rows per (kind, model,
  exposure)}; with ``strata`` also ``dynamic_range`` and ``stratum`` per image row and
  'strata': :func:`strata_summary`.

  on_error: ``fn(pair name, error)`` for a pair that cannot be used (a photo that
  cannot be read, references of another shape), which is then skipped; None: raise.
  """
  rows = []
  for pair in eval_common.progress_bar(pairs, "paired", progress):
    name, in_path, ref_path = pair
    kind = getattr(pair, "kind", None)
    try:
      image = eval_common.load_image(in_path, max_size)
      ref = eval_common.read_float_image(ref_path)
      h, w = image.shape[:2]
      rh, rw = ref.shape[:2]
      if abs(rh / rw - h / w) > 0.01 * (h / w):
        raise EvaluationError(f"{name}: reference {rw}x{rh} and input {w}x{h} have different "
                              f"aspect ratios")
    except EvaluationError as err:
      eval_common.skip_or_raise(on_error, name, err)
      continue
    ref = eval_common.resize_image(ref, size=(h, w))
    y_in = imagemath.luma(image)
    y_ref = imagemath.luma(ref)
    ref_std = float(y_ref.std())
    extra = {}
    if strata:
      r = dynamic_range(image)
      extra = {"dynamic_range": r, "stratum": stratum(r)}

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
          **extra,
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
  summary = results.summarise(rows, keys, PAIRED_VALUES)
  order = {name: i for i, name in enumerate(models)}
  # Stable: kinds in order of appearance, then models in the order given, exposures as given.
  kinds = {k: i for i, k in enumerate(dict.fromkeys(r["kind"] for r in rows))}
  summary.sort(key=lambda s: (kinds.get(s.get("kind"), 0), order.get(s["model"], len(order))))
  out = {"images": rows, "summary": summary}
  if strata:
    out["strata"] = strata_summary(rows, models)
  return out


#: The columns of a strata row (:func:`strata_summary`).
STRATA_COLUMNS = ("kind", "stratum", "model", "exposure", "pairs", "psnr", "ssim", "gain_psnr",
                  "gain_ssim")


def strata_summary(rows, models=None):
  """Per kind and stratum of the input's dynamic range, each model's (and exposure's)
  mean PSNR / SSIM over its pairs, with the gain baseline's on the same pairs beside
  it (``gain_psnr``, ``gain_ssim``; NaN without gain rows). ``rows``: the image rows of
  :func:`evaluate_paired` with ``strata``. Rows in order: kinds as they appear, strata
  from low to high r, models as in ``models``."""
  kinds = list(dict.fromkeys(r["kind"] for r in rows))
  order = {name: i for i, name in enumerate(models or ())}
  labels = [label for label, _, _ in STRATA]
  gain = {(s["kind"], s["stratum"]): s for s in results.summarise(
      [r for r in rows if r["model"] == "gain"], ("kind", "stratum"), ("psnr", "ssim"))}
  out = []
  for s in results.summarise([r for r in rows if r["model"] != "gain"],
                             ("kind", "stratum", "model", "exposure"), ("psnr", "ssim")):
    g = gain.get((s["kind"], s["stratum"]), {})
    out.append({"kind": s["kind"], "stratum": s["stratum"], "model": s["model"],
                "exposure": s["exposure"], "pairs": s["count"], "psnr": s["psnr"],
                "ssim": s["ssim"], "gain_psnr": g.get("psnr", math.nan),
                "gain_ssim": g.get("ssim", math.nan)})
  if not out:  # only the baseline was evaluated: its own rows
    out = [{"kind": s["kind"], "stratum": s["stratum"], "model": "gain", "exposure": "-",
            "pairs": s["count"], "psnr": s["psnr"], "ssim": s["ssim"], "gain_psnr": s["psnr"],
            "gain_ssim": s["ssim"]} for s in gain.values()]
  out.sort(key=lambda s: (kinds.index(s["kind"]), labels.index(s["stratum"]),
                          order.get(s["model"], len(order))))
  return out
