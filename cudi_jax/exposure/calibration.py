"""Exposure calibration: what to feed a student so that photos come out as requested.

A student reaches the brightness it is asked for only partly: dark photos come out
darker, bright ones brighter than the exposure map says. A calibration measures that
on photos (no references: any photos of the kind to be enhanced) and records it in
the export's metadata under ``calibration``; the runtime applies it when it resolves
a setting (:mod:`cudi_jax.exposure.resolve`). Made by ``export.py --calibrate``.

One table format serves every setting. A :class:`Table` holds, for photos of mean
brightness ``means[i]`` (increasing), the value ``fed[i][j]`` to give the network so
that the output's mean brightness is ``requested[j]``; it is interpolated linearly in
log photo brightness, then in the requested value. Two tables:

* ``auto``: one requested value, the auto preset's target; ``fed`` is the target to
  give auto's map rule (:func:`cudi_jax.exposure.rules.auto_cells`);
* ``maps``: requested 0.1, ..., 0.9; every other setting (constants, presets, the
  adaptive map, user maps) is mapped value by value through it.
"""
import dataclasses
import math
from typing import Optional

import numpy as np

from cudi_jax.exposure.settings import ExposureError

METADATA_KEY = "calibration"
#: The requested brightnesses of the ``maps`` table.
MAP_POINTS = tuple(round(0.1 * i, 1) for i in range(1, 10))
#: Photo brightnesses are floored at this before their logarithm is taken.
MIN_BRIGHTNESS = 1e-4
#: Fed values of the auto table below this would turn photos black.
MIN_AUTO_FED = 0.01


@dataclasses.dataclass(frozen=True)
class Table:
  means: tuple
  requested: tuple
  fed: tuple  # len(means) rows of len(requested) values

  def lookup(self, requested, photo_brightness):
    """The fed value(s) for requested value(s) (a float or an array) on a photo of
    this mean RGB brightness."""
    x = np.log(max(float(photo_brightness), MIN_BRIGHTNESS))
    xs = np.log(np.maximum(self.means, MIN_BRIGHTNESS))
    curve = [np.interp(x, xs, [row[j] for row in self.fed]) for j in range(len(self.requested))]
    fed = np.interp(requested, self.requested, curve)
    return fed.astype(np.float32) if isinstance(fed, np.ndarray) else float(fed)

  def to_metadata(self):
    return {"means": list(self.means), "requested": list(self.requested),
            "fed": [list(row) for row in self.fed]}

  @classmethod
  def from_metadata(cls, entry, name):
    """A table from metadata, validated: raises ExposureError naming what is wrong."""
    def fail(reason):
      raise ExposureError(f"calibration table {name!r}: {reason}")

    if not isinstance(entry, dict):
      fail(f"must be a mapping, got {type(entry).__name__}")
    try:
      means = tuple(_number(m) for m in entry["means"])
      requested = tuple(_number(r) for r in entry["requested"])
      fed = tuple(tuple(_number(f) for f in row) for row in entry["fed"])
    except KeyError as err:
      fail(f"lacks {err}")
    except (TypeError, ValueError):
      fail("means, requested and fed must be lists of numbers")
    if not means or not requested:
      fail("needs at least one photo brightness and one requested value")
    if not (all(0.0 < m <= 1.0 for m in means) and _increasing(means)):
      fail("photo brightnesses must increase within (0, 1]")
    if not (all(0.0 <= r <= 1.0 for r in requested) and _increasing(requested)):
      fail("requested values must increase within [0, 1]")
    if len(fed) != len(means) or any(len(row) != len(requested) for row in fed):
      fail(f"fed must have {len(means)} rows of {len(requested)} values")
    if not all(0.0 <= f <= 1.0 for row in fed for f in row):
      fail("fed values must lie in [0, 1]")
    if len(requested) > 1 and not all(_non_decreasing(row) and row[-1] > row[0] for row in fed):
      fail("each row of fed values must increase with the requested value")
    return cls(means, requested, fed)


@dataclasses.dataclass(frozen=True)
class Calibration:
  """An export's calibration; a table that is None leaves its settings uncalibrated."""
  auto: Optional[Table] = None
  maps: Optional[Table] = None
  #: How it was measured (e.g. {"photos": 346, "max_size": 256}), for the record.
  measured_on: tuple = ()

  def auto_target(self, target, photo_brightness):
    """The target to give auto's map rule for a photo of this brightness."""
    if self.auto is None:
      return target
    return self.auto.lookup(target, photo_brightness)

  def feed(self, requested, photo_brightness):
    """The value(s) to feed the network for requested value(s) on such a photo."""
    if self.maps is None:
      return requested
    return self.maps.lookup(requested, photo_brightness)

  @classmethod
  def from_metadata(cls, metadata):
    """The ``calibration`` entry of export metadata (absent: none); raises
    ExposureError when it is malformed."""
    entry = (metadata or {}).get(METADATA_KEY)
    if entry is None:
      return cls()
    if not isinstance(entry, dict):
      raise ExposureError(f"calibration must be a mapping, got {type(entry).__name__}")
    auto = Table.from_metadata(entry["auto"], "auto") if entry.get("auto") is not None else None
    maps = Table.from_metadata(entry["maps"], "maps") if entry.get("maps") is not None else None
    if auto is not None:
      if len(auto.requested) != 1:
        raise ExposureError("calibration table 'auto' must have one requested value")
      if min(row[0] for row in auto.fed) < MIN_AUTO_FED:
        raise ExposureError(f"calibration table 'auto': fed targets below {MIN_AUTO_FED} "
                            f"would give black photos")
    measured = entry.get("measured_on") or {}
    measured = tuple(sorted(measured.items())) if isinstance(measured, dict) else ()
    return cls(auto, maps, measured)

  def to_metadata(self):
    entry = {"auto": None if self.auto is None else self.auto.to_metadata(),
             "maps": None if self.maps is None else self.maps.to_metadata()}
    if self.measured_on:
      entry["measured_on"] = dict(self.measured_on)
    return entry


NO_CALIBRATION = Calibration()


def _number(value):
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise TypeError(value)
  value = float(value)
  if not math.isfinite(value):
    raise ValueError(value)
  return value


def _increasing(xs):
  return all(a < b for a, b in zip(xs, xs[1:]))


def _non_decreasing(xs):
  return all(a <= b for a, b in zip(xs, xs[1:]))
