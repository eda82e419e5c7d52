"""Exposure control (``cudi evaluate exposure``): for constant targets the L_sec
error (mean over 16x16 cells of |RGB-mean brightness - E|), for two-region maps the
error inside each region and the brightness contrast reached, for the named settings
the mean brightness against what the name promises."""
import numpy as np

from cudi_jax import imagemath
from cudi_jax.eval import common as eval_common
from cudi_jax.eval import metrics
from cudi_jax.eval import results
from cudi_jax.eval.common import EvaluationError
from cudi_jax.exposure import resolve as resolve_lib


#: The named settings ``cudi evaluate exposure`` scores by default.
NAMED_SETTINGS = ("auto", "under", "over")


def named_target(setting, presets):
  """The mean brightness a named setting promises with these presets."""
  if setting not in NAMED_SETTINGS:
    raise EvaluationError(f"named settings are {sorted(NAMED_SETTINGS)}, got {setting!r}")
  return presets.target(setting)


def evaluate_exposure(images, models, targets=eval_common.DEFAULT_TARGETS,
                      local_maps=eval_common.LOCAL_MAPS, cell=16, max_size=None, progress=True,
                      floor=False, rules=resolve_lib.DEFAULT_RULES, named=NAMED_SETTINGS,
                      on_error=None):
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
  on_error: ``fn(name, error)`` for a photo that cannot be read, which is then
  skipped; None: raise.
  """
  rows = []
  for name, image in eval_common.loaded_photos(images, "exposure", progress, max_size, on_error):
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
  summary = results.summarise(rows, ("model", "map", "region", "target"),
                       ("mean", "abs_error", "cell_error", "black_lift", "blue_shift"))
  overall = []
  for model_name in list(models) + (["floor"] if floor else []):
    const = [r for r in rows if r["model"] == model_name and r["map"] == "constant"]
    local = [r for r in rows if r["model"] == model_name and r["map"] in eval_common.LOCAL_MAPS
             and r["region"] != "contrast"]
    contrast = [r for r in rows if r["model"] == model_name and r["region"] == "contrast"]
    overall.append({"model": model_name,
                    "constant_cell_error": results.mean(r["cell_error"] for r in const),
                    "constant_abs_error": results.mean(r["abs_error"] for r in const),
                    "constant_black_lift": results.mean(r["black_lift"] for r in const),
                    "local_region_abs_error": results.mean(r["abs_error"] for r in local),
                    "local_region_cell_error": results.mean(r["cell_error"] for r in local),
                    "local_contrast_ratio": results.mean(r["mean"] / r["target"] for r in contrast
                                                  if r["target"])})
  return {"images": rows, "summary": summary, "overall": overall}
