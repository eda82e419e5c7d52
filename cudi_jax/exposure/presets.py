"""What the named settings mean for one set of weights (an export records its own).

``under`` / ``over``: constant targets (the paper's 0.55 and 0.25); ``adaptive``: the
luminance-adaptive map's base S and strength A; ``auto``: its mean target, the balanced
rule's compression, toe and noise limit (:func:`cudi_jax.exposure.rules.balanced_cells`),
the steady rule's strength and gain cap (:func:`cudi_jax.exposure.rules.auto_cells`),
and the photo brightnesses between which the one gives way to the other.
"""
import dataclasses
import math
from typing import Optional

from cudi_jax.exposure.settings import ExposureError


@dataclasses.dataclass(frozen=True)
class Presets:
  under: float = 0.55
  over: float = 0.25
  adaptive_base: float = 0.55
  adaptive_strength: float = 0.15
  auto_target: float = 0.5
  #: How closely auto's map follows the photo's own brightness (1: a plain gain,
  #: 0: a constant map).
  auto_strength: float = 0.5
  #: No cell of auto's map asks for more than this multiple of the photo's global gain
  #: (target / mean brightness), so black skies and shadows are not lifted into grey
  #: noise; None: no cap.
  auto_gain_cap: Optional[float] = 1.5
  #: The balanced rule's tone-curve exponent (1: a plain gain; smaller: dark regions
  #: get more gain than bright ones).
  auto_compression: float = 0.6
  #: Cells darker than about this are asked for less (near-black skies stay black).
  auto_toe: float = 0.03
  #: The most noise (standard deviation, in [0, 1] brightness) the balanced rule may
  #: bring a noisy photo's dark regions to.
  auto_noise_limit: float = 5.0 / 255.0
  #: Photos of mean brightness up to the first value get the balanced rule, from the
  #: second on the steady one, in between a linear blend.
  auto_bright: tuple = (0.3, 0.6)
  #: Over-exposed photos: the strength of the network's correction (1: its own), mixed
  #: with a plain gain (:func:`cudi_jax.exposure.rules.temper_weights`) ...
  auto_temper: float = 0.6
  #: ... on photos of mean brightness from the first value (none) to the second (all) ...
  auto_temper_photos: tuple = (0.55, 0.7)
  #: ... except in cells from the first brightness to the second (blown: the network's).
  auto_temper_keep: tuple = (0.85, 0.97)
  #: In noisy photos (below), no cell comes out brighter than 1 + this times what the balanced
  #: rule asks, and cells within a few times the noise no brighter than themselves:
  #: night skies stay black (None: off; :func:`cudi_jax.exposure.rules.night_ceiling`).
  auto_night: Optional[float] = 0.5
  #: ... in photos whose dark noise is at least this (in [0, 1] brightness).
  auto_night_noise: float = 0.25 / 255.0

  def target(self, name):
    """The mean brightness a named setting promises."""
    targets = {"auto": self.auto_target, "under": self.under, "over": self.over,
               "adaptive": self.adaptive_base}
    return float(targets[name])

  @classmethod
  def from_metadata(cls, metadata):
    """The ``exposure_presets`` of export metadata; a missing entry keeps its default,
    a malformed one raises ExposureError naming it."""
    p = (metadata or {}).get("exposure_presets")
    if p is None:
      return cls()
    if not isinstance(p, dict):
      raise ExposureError(f"exposure_presets must be a mapping, got {type(p).__name__}")
    adaptive = _section(p, "adaptive")
    auto = _section(p, "auto")
    if "response" in p or "calibration" in auto:
      raise ExposureError("exposure_presets hold calibration tables in an old layout: "
                          "calibrate the export again (export.py --calibrate)")
    default = cls()

    def num(section, key, name, fallback, lo, hi):
      if key not in section:
        return fallback
      value = section[key]
      ok = isinstance(value, (int, float)) and not isinstance(value, bool)
      if not ok or not math.isfinite(value) or not lo <= value <= hi:
        raise ExposureError(f"exposure preset {name} must be a number in [{lo:g}, {hi:g}], "
                            f"got {value!r}")
      return float(value)

    def pair(section, key, name, fallback):
      if key not in section:
        return fallback
      value = section[key]
      if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise ExposureError(f"exposure preset {name} must be two numbers, got {value!r}")
      out = (num({"v": value[0]}, "v", name, None, 0.0, 1.0),
             num({"v": value[1]}, "v", name, None, 0.0, 1.0))
      if out[1] < out[0]:
        raise ExposureError(f"exposure preset {name} must not decrease, got {value!r}")
      return out

    bright = pair(auto, "bright", "auto.bright", default.auto_bright)
    temper = auto.get("temper", {})
    if not isinstance(temper, dict):
      raise ExposureError(f"exposure preset auto.temper must be a mapping, got {temper!r}")
    cap = default.auto_gain_cap
    if "gain_cap" in auto and auto["gain_cap"] is None:
      cap = None
    else:
      cap = num(auto, "gain_cap", "auto.gain_cap", cap, 1.0, 100.0)
    return cls(under=num(p, "under", "under", default.under, 0.05, 0.95),
               over=num(p, "over", "over", default.over, 0.05, 0.95),
               adaptive_base=num(adaptive, "base", "adaptive.base", default.adaptive_base,
                                 0.05, 0.95),
               adaptive_strength=num(adaptive, "strength", "adaptive.strength",
                                     default.adaptive_strength, 0.0, 0.5),
               auto_target=num(auto, "target", "auto.target", default.auto_target, 0.05, 0.95),
               auto_strength=num(auto, "strength", "auto.strength", default.auto_strength,
                                 0.0, 1.0),
               auto_gain_cap=cap,
               auto_compression=num(auto, "compression", "auto.compression",
                                    default.auto_compression, 0.0, 1.0),
               auto_toe=num(auto, "toe", "auto.toe", default.auto_toe, 0.0, 1.0),
               auto_noise_limit=num(auto, "noise_limit", "auto.noise_limit",
                                    default.auto_noise_limit, 1e-4, 1.0),
               auto_bright=bright,
               auto_temper=num(temper, "strength", "auto.temper.strength",
                               default.auto_temper, 0.0, 1.0),
               auto_temper_photos=pair(temper, "photos", "auto.temper.photos",
                                       default.auto_temper_photos),
               auto_temper_keep=pair(temper, "keep", "auto.temper.keep",
                                     default.auto_temper_keep),
               auto_night=(None if "night" in auto and auto["night"] is None else
                           num(auto, "night", "auto.night", default.auto_night, 0.0, 10.0)),
               auto_night_noise=num(auto, "night_noise", "auto.night_noise",
                                    default.auto_night_noise, 0.0, 1.0))

  def to_metadata(self):
    """The ``exposure_presets`` entry written into exports."""
    return {"under": self.under, "over": self.over,
            "adaptive": {"base": self.adaptive_base, "strength": self.adaptive_strength},
            "auto": {"target": self.auto_target, "strength": self.auto_strength,
                     "gain_cap": self.auto_gain_cap, "compression": self.auto_compression,
                     "toe": self.auto_toe, "noise_limit": self.auto_noise_limit,
                     "bright": list(self.auto_bright), "night": self.auto_night,
                     "night_noise": self.auto_night_noise,
                     "temper": {"strength": self.auto_temper,
                                "photos": list(self.auto_temper_photos),
                                "keep": list(self.auto_temper_keep)}}}


def _section(presets, key):
  section = presets.get(key, {})
  if not isinstance(section, dict):
    raise ExposureError(f"exposure preset {key} must be a mapping, got {section!r}")
  return section


DEFAULT_PRESETS = Presets()
