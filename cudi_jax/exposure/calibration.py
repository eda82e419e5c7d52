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

A third, per-cell table (:class:`CellResponse`) serves ``auto``'s balanced rule: how
bright a 4x4 cell of a given input brightness comes out when the whole photo is fed
one value. Its inverse turns a per-cell requested brightness into a per-cell fed
value (:func:`cudi_jax.exposure.rules.balanced_cells`).
"""
import functools
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
    (means, requested, fed), fail = _read_lists(entry, name, ("means", "requested"), "fed")
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


#: The per-cell response table's inverse is resampled on this grid: log cell
#: brightness (from the table's first to its last brightness) x requested brightness.
_LUT_BRIGHTNESS, _LUT_REQUESTED = 256, 512


@dataclasses.dataclass(frozen=True)
class CellResponse:
  """``output[i][j]``: the mean output brightness of a 4x4 cell of input brightness
  ``brightness[j]`` (increasing) when the network is fed ``fed[i]`` (increasing)
  everywhere. Near-black cells reach only part of the range however much they are fed:
  the table records that ceiling too."""
  brightness: tuple
  fed: tuple
  output: tuple  # len(fed) rows of len(brightness) values

  @functools.cached_property
  def _lut(self):
    """The inverse, (256 x 512) flattened float32: the fed value that brings a cell of
    (log-spaced) brightness to a requested brightness (0..1); requests beyond a cell's
    ceiling get the largest fed value, below its floor the smallest."""
    fed = np.asarray(self.fed, np.float64)
    out = np.maximum.accumulate(np.asarray(self.output, np.float64), axis=0)
    out = out + np.arange(len(fed))[:, None] * 1e-6  # strictly increasing for interp
    log_b = np.log(np.asarray(self.brightness, np.float64))
    grid_b = np.linspace(log_b[0], log_b[-1], _LUT_BRIGHTNESS)
    requested = np.linspace(0.0, 1.0, _LUT_REQUESTED)
    lut = np.empty((_LUT_BRIGHTNESS, _LUT_REQUESTED), np.float32)
    for k, x in enumerate(grid_b):
      column = np.array([np.interp(x, log_b, row) for row in out])
      lut[k] = np.interp(requested, column, fed)
    return lut.ravel()

  def feed(self, requested, cells):
    """Per-cell fed values (float32, the shape of ``cells``) that bring cells of input
    brightness ``cells`` to the ``requested`` brightnesses (arrays of one shape), by the
    nearest entry of the resampled inverse."""
    log_b = np.log(np.maximum(np.asarray(cells, np.float32), np.float32(MIN_BRIGHTNESS)))
    lo, hi = np.log(self.brightness[0]), np.log(self.brightness[-1])
    scale = np.float32((_LUT_BRIGHTNESS - 1) / (hi - lo))
    row = np.clip((log_b - np.float32(lo)) * scale + np.float32(0.5), 0, _LUT_BRIGHTNESS - 1)
    col = np.clip(np.asarray(requested, np.float32) * np.float32(_LUT_REQUESTED - 1)
                  + np.float32(0.5), 0, _LUT_REQUESTED - 1)
    return self._lut[row.astype(np.int32) * _LUT_REQUESTED + col.astype(np.int32)]

  def to_metadata(self):
    return {"brightness": list(self.brightness), "fed": list(self.fed),
            "output": [list(row) for row in self.output]}

  @classmethod
  def from_metadata(cls, entry):
    """The table from metadata, validated: raises ExposureError naming what is wrong."""
    (brightness, fed, output), fail = _read_lists(entry, "cells", ("brightness", "fed"),
                                                  "output")
    if len(brightness) < 2 or len(fed) < 2:
      fail("needs at least two cell brightnesses and two fed values")
    if not (all(0.0 < b <= 1.0 for b in brightness) and _increasing(brightness)):
      fail("cell brightnesses must increase within (0, 1]")
    if not (all(0.0 <= f <= 1.0 for f in fed) and _increasing(fed)):
      fail("fed values must increase within [0, 1]")
    if len(output) != len(fed) or any(len(row) != len(brightness) for row in output):
      fail(f"output must have {len(fed)} rows of {len(brightness)} values")
    if not all(0.0 <= o <= 1.0 for row in output for o in row):
      fail("output brightnesses must lie in [0, 1]")
    if not all(output[-1][j] > output[0][j] for j in range(len(brightness))):
      fail("every cell brightness must come out brighter at the largest fed value than "
           "at the smallest")
    return cls(brightness, fed, output)


@dataclasses.dataclass(frozen=True)
class Calibration:
  """An export's calibration; a table that is None leaves its settings uncalibrated
  (without ``cells``, ``auto`` uses its steady rule on every photo)."""
  auto: Optional[Table] = None
  maps: Optional[Table] = None
  #: How it was measured (e.g. {"photos": 346, "max_size": 256}), for the record.
  measured_on: tuple = ()
  cells: Optional[CellResponse] = None

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
    cells = (CellResponse.from_metadata(entry["cells"]) if entry.get("cells") is not None
             else None)
    measured = entry.get("measured_on") or {}
    measured = tuple(sorted(measured.items())) if isinstance(measured, dict) else ()
    return cls(auto, maps, measured, cells)

  def to_metadata(self):
    entry = {"auto": None if self.auto is None else self.auto.to_metadata(),
             "maps": None if self.maps is None else self.maps.to_metadata(),
             "cells": None if self.cells is None else self.cells.to_metadata()}
    if self.measured_on:
      entry["measured_on"] = dict(self.measured_on)
    return entry


NO_CALIBRATION = Calibration()


def _read_lists(entry, name, vectors, matrix):
  """The lists of numbers ``vectors`` and the list of lists ``matrix`` of a table's
  metadata entry, as tuples of floats, and the function that raises ExposureError
  naming the table; raises it for an entry that is not such a mapping."""
  def fail(reason):
    raise ExposureError(f"calibration table {name!r}: {reason}")

  if not isinstance(entry, dict):
    fail(f"must be a mapping, got {type(entry).__name__}")
  try:
    lists = [tuple(_number(x) for x in entry[key]) for key in vectors]
    lists.append(tuple(tuple(_number(x) for x in row) for row in entry[matrix]))
  except KeyError as err:
    fail(f"lacks {err}")
  except (TypeError, ValueError):
    fail(f"{', '.join(vectors)} and {matrix} must be lists of numbers")
  return lists, fail


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
