"""Exposure calibration tables: lookup and validated metadata."""
import numpy as np
import pytest

from cudi_jax.exposure.calibration import CellResponse, Calibration, NO_CALIBRATION, Table
from cudi_jax.exposure.settings import ExposureError

MAPS = Table((0.1, 0.5), (0.0, 0.5, 1.0), ((0.0, 0.7, 1.0), (0.0, 0.4, 1.0)))
AUTO = Table((0.05, 0.5), (0.5,), ((0.7,), (0.45,)))
# Dark cells (0.002) reach at most 0.2; bright ones (0.5) come out as fed, from 0.4.
CELLS = CellResponse((0.002, 0.5), (0.0, 0.5, 1.0), ((0.0, 0.4), (0.1, 0.7), (0.2, 1.0)))


def test_maps_table_lookup():
  assert MAPS.lookup(0.5, 0.1) == pytest.approx(0.7)
  assert MAPS.lookup(0.5, 0.02) == pytest.approx(0.7)           # clamped to the darkest bin
  assert MAPS.lookup(0.5, 0.5) == pytest.approx(0.4)
  assert MAPS.lookup(0.5, np.sqrt(0.05)) == pytest.approx(0.55)  # log-brightness midpoint
  assert MAPS.lookup(0.25, 0.1) == pytest.approx(0.35)
  got = MAPS.lookup(np.array([0.0, 0.5, 1.0]), 0.5)
  assert got.dtype == np.float32
  np.testing.assert_allclose(got, [0.0, 0.4, 1.0])


def test_auto_table_lookup():
  c = Calibration(auto=AUTO)
  assert c.auto_target(0.5, 0.05) == pytest.approx(0.7)
  assert c.auto_target(0.5, 0.01) == pytest.approx(0.7)
  assert c.auto_target(0.5, 0.9) == pytest.approx(0.45)
  assert c.auto_target(0.5, np.sqrt(0.05 * 0.5)) == pytest.approx(0.575)
  assert NO_CALIBRATION.auto_target(0.5, 0.2) == 0.5 and NO_CALIBRATION.feed(0.3, 0.2) == 0.3


def test_metadata_round_trip():
  c = Calibration(AUTO, MAPS, (("photos", 12),))
  meta = {"calibration": c.to_metadata()}
  assert Calibration.from_metadata(meta) == c
  assert Calibration.from_metadata({}) == NO_CALIBRATION
  assert Calibration.from_metadata({"calibration": {"auto": None, "maps": None}}) == NO_CALIBRATION


def _with(table, **changes):
  entry = dict(table.to_metadata(), **changes)
  return {"calibration": {"maps": entry}}


@pytest.mark.parametrize("meta", [
    _with(MAPS, means=[0.5, 0.1]),                               # not increasing
    _with(MAPS, means=[0.0, 0.5]),                               # brightness 0
    _with(MAPS, fed=[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),         # zeros
    _with(MAPS, fed=[[1.0, 0.7, 0.0], [1.0, 0.4, 0.0]]),         # reversed
    _with(MAPS, fed=[[0.0, 0.7, 2.0], [0.0, 0.4, 1.0]]),         # out of range
    _with(MAPS, fed=[[0.0, 0.7, 1.0]]),                          # a row missing
    _with(MAPS, fed=[[0.0, 0.7], [0.0, 0.4]]),                   # a column missing
    _with(MAPS, fed=[[0.0, float("nan"), 1.0], [0.0, 0.4, 1.0]]),
    _with(MAPS, requested=[1.0, 0.5, 0.0]),
    _with(MAPS, means="x"),
    {"calibration": {"maps": {"means": [0.1]}}},
    {"calibration": {"auto": dict(AUTO.to_metadata(), fed=[[0.0], [0.45]])}},  # zero target
    {"calibration": {"auto": MAPS.to_metadata()}},               # several requested values
    {"calibration": "x"},
])
def test_malformed_tables_are_refused(meta):
  with pytest.raises(ExposureError, match="calibration"):
    Calibration.from_metadata(meta)


def test_cell_response_feeds_each_cell_by_its_own_brightness():
  cells = np.array([[0.002, 0.5]], np.float32)
  fed = CELLS.feed(np.array([[0.1, 0.7]], np.float32), cells)
  assert fed.dtype == np.float32 and fed.shape == (1, 2)
  np.testing.assert_allclose(fed, [[0.5, 0.5]], atol=0.003)   # 512-step requested grid
  # Beyond a cell's ceiling: the largest fed value; below its floor: the smallest.
  np.testing.assert_allclose(CELLS.feed(np.array([0.9, 0.1], np.float32),
                                        np.array([0.002, 0.5], np.float32)), [1.0, 0.0],
                             atol=1e-6)
  # Between the two brightnesses, interpolated in log brightness: at their geometric
  # mean the outputs are the rows' means (0.2, 0.4, 0.6), so requesting 0.4 feeds 0.5.
  mid = np.float32(np.sqrt(0.002 * 0.5))
  assert float(CELLS.feed(np.float32(0.4), mid)) == pytest.approx(0.5, abs=0.01)
  # Cells darker or brighter than the table use its first or last column.
  np.testing.assert_allclose(CELLS.feed(np.float32(0.1), np.float32(1e-5)), 0.5, atol=0.003)


def test_cell_response_metadata_round_trip_and_validation():
  c = Calibration(AUTO, MAPS, (("photos", 3),), CELLS)
  meta = {"calibration": c.to_metadata()}
  assert Calibration.from_metadata(meta) == c
  assert Calibration.from_metadata({"calibration": {"cells": None}}).cells is None
  good = CELLS.to_metadata()
  for bad in (dict(good, brightness=[0.5, 0.002]),            # not increasing
              dict(good, fed=[0.0, 1.0]),                       # rows do not match
              dict(good, output=[[0.0, 0.4], [0.1, 0.7], [0.0, 0.3]]),  # never brighter
              dict(good, output=[[0.0, 0.4], [0.1, 0.7], [0.2, 1.5]]),  # beyond 1
              {"brightness": [0.1, 0.2]}, "x"):
    with pytest.raises(ExposureError, match="calibration table 'cells'"):
      Calibration.from_metadata({"calibration": {"cells": bad}})
