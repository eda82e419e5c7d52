"""Temporal smoothing (cudi_jax.video.temporal): NumPy only."""
import math

import numpy as np
import pytest

from cudi_jax.video import temporal


def test_follower_follows_a_step_within_half_a_second_without_overshoot():
  s = temporal.Smoothing()
  f = temporal.Follower(s.follow_s, s.hold_s, s.deadband)
  f.update(0.0, 1 / 30)
  values = [f.update(1.0, 1 / 30) for _ in range(15)]  # 0.5 s after a jump of 1
  assert all(0.0 <= v <= 1.0 for v in values)
  assert all(b >= a for a, b in zip(values, values[1:]))
  assert values[-1] > 0.85  # about 90% of the way after half a second


def test_follower_holds_small_wobbles():
  s = temporal.Smoothing()
  f = temporal.Follower(s.follow_s, s.hold_s, s.deadband)
  rng = np.random.default_rng(0)
  out = [f.update(0.03 * rng.standard_normal(), 1 / 30) for _ in range(90)]
  assert np.std(out[10:]) < 0.01  # the input's is 0.03


def test_cell_filter_averages_noise_and_passes_changes():
  cf = temporal.CellFilter(band=0.06, keep=0.6)
  base = np.full((4, 4), 0.5, np.float32)
  cf.update(base)
  noisy = base + 0.01
  assert np.all(cf.update(noisy) < noisy)       # noise averaged
  jump = base + 0.3
  np.testing.assert_array_equal(cf.update(jump), jump)  # a real change passes at once


def test_scene_cut_is_a_change_of_structure_not_of_level():
  yy, xx = np.mgrid[0:64, 0:64] / 64.0
  a = (0.05 + 0.3 * xx).astype(np.float32)          # bright on the right
  b = (0.05 + 0.3 * (1 - yy)).astype(np.float32)    # bright at the top
  d = temporal.SceneCutDetector(threshold=0.15, black=0.03)
  assert not d.update(a)
  assert not d.update(a * 1.01)
  assert not d.update(a * 3.0)  # a light switched on
  assert d.update(b)            # another scene


def test_state_holds_a_darkening_fade_and_follows_a_settled_jump():
  st = temporal.TemporalState()
  cells = np.full((8, 8), 0.12, np.float32)
  for i in range(10):
    dt, _ = st.step(cells, i / 30)
    st.smooth_mean(0.12, dt)
  held = []
  for i in range(10, 40):  # a 1 s fade towards black: the gain is held
    level = 0.12 * (1 - (i - 10) / 30)
    dt, _ = st.step(cells * (level / 0.12), i / 30)
    held.append(st.smooth_mean(level, dt))
  assert min(held[:20]) > 0.09
  st2 = temporal.TemporalState()
  out = []
  for i in range(30):  # a light switched on at frame 5
    level = 0.05 if i < 5 else 0.2
    dt, _ = st2.step(cells * (level / 0.12), i / 30)
    out.append(st2.smooth_mean(level, dt))
  assert math.isclose(out[-1], 0.2, rel_tol=0.1)  # followed within 25 frames (0.83 s)
  assert all(b >= a - 1e-12 for a, b in zip(out, out[1:]))


def test_ease_keeps_the_output_from_brightening_faster_than_allowed():
  st = temporal.TemporalState()
  dt = 1 / 30
  limit = st.settings.max_rise * dt
  assert st.ease(0.02, 0.0, dt) == 1.0   # the first frame: as made
  outputs = [st.output]
  for made, given in [(0.30, 0.01), (0.50, 0.02), (0.70, 0.05)]:  # out of black
    w = st.ease(made, given, dt)
    assert 0.0 <= w < 1.0
    assert math.isclose(given + w * (made - given), outputs[-1] + limit)
    outputs.append(st.output)
  assert st.ease(outputs[-1] + 0.5 * limit, 0.05, dt) == 1.0  # slow enough: as made
  assert st.ease(0.04, 0.05, dt) == 1.0  # darker: never held up
  assert st.ease(0.9, 0.8, dt) == 0.0    # the frame itself brighter: left as it is
  st.reset()
  assert st.ease(0.9, 0.0, dt) == 1.0    # afresh after a reset (and a cut)
  off = temporal.TemporalState(temporal.Smoothing(max_rise=None))
  off.ease(0.0, 0.0, dt)
  assert off.ease(0.9, 0.0, dt) == 1.0


def test_ease_fades_the_output_with_a_darkening_frame_and_keeps_black_black():
  st = temporal.TemporalState()
  cells = np.full((8, 8), 0.12, np.float32)
  outputs = []
  for i in range(40):  # steady, then a 1 s fade to black, then black
    level = 0.12 * min(max(1 - (i - 5) / 30, 0.0), 1.0)
    dt, _ = st.step(cells * (level / 0.12), i / 30)
    made = 0.6 if level > 0 else 0.03  # the network lifts black a little
    w = st.ease(made, level, dt)
    outputs.append(level + w * (made - level))
  steps = np.diff(outputs)
  assert steps.max() <= 1e-9                       # never brighter again
  assert outputs[20] < 0.45 and outputs[-1] == 0.0  # faded with the frame, black kept black
  assert st.faded
  dt, _ = st.step(cells * 0.1, 40 / 30)             # the frame brightens: released
  assert st.ease(0.5, 0.012, dt) > 0.0 and not st.faded


def test_a_steady_brightening_is_followed_exactly():
  """A fade in (brightening faster than motion_rate, each frame within the deadband)
  is followed exactly, not held with hold_s: a lagging dark level would push the
  output past where it settles, and a lag left at its end would settle back down."""
  st = temporal.TemporalState()
  cells = np.full((8, 8), 0.02, np.float32)
  for i in range(60):  # 2% brighter a frame for 2 s
    level = 0.02 * 1.02 ** i
    dt, _ = st.step(cells * (level / 0.02), i / 30)
    smoothed = st.smooth_mean(level, dt)
    if i > 5:
      assert st.rising and smoothed == pytest.approx(level, rel=1e-4)


def test_a_fade_in_locks_the_calibration_lookup_and_a_light_switch_does_not():
  """lookup_mean: held while the picture brightens; a brightening that lasts
  fade_lock_s locks it through the fade and after (until the picture darkens); a
  light switched on (one step) is followed once it has settled; a locked lookup stays
  at or above 1 / lock_band of the picture's brightness, continuously."""
  def run(levels):
    st = temporal.TemporalState()
    out = []
    for i, level in enumerate(levels):
      dt, _ = st.step(np.full((8, 8), level, np.float32), i / 30)
      out.append(st.lookup_mean(st.smooth_mean(level, dt), dt))
    return np.array(out), st
  fade = [0.0] * 5 + [0.12 * i / 30 for i in range(31)] + [0.12] * 30
  lookup, st = run(fade)
  assert st.locked and np.all(lookup[5:] <= 0.12 / 3 + 1e-9)  # before the fade, or 1/3
  lookup, st = run(fade + [0.06] * 150)                  # then the light halves: follows,
  assert not st.locked and 0.06 <= lookup[-1] < 0.066    # gradually (lookup_s)
  assert np.abs(np.diff(lookup)).max() < 0.003
  lookup, st = run([0.05] * 10 + [0.1] * 150)             # a light switched on
  assert not st.locked and lookup[-1] == pytest.approx(0.1, rel=0.02)
  np.testing.assert_allclose(lookup[10:14], lookup[9])   # held while it moves
  bright = [0.0] * 5 + [0.5 * i / 30 for i in range(31)] + [0.5] * 10
  lookup, st = run(bright)
  assert st.locked and lookup[-1] == pytest.approx(0.5 / 3, rel=1e-3)
  assert np.all(np.diff(lookup) >= 0) and np.max(np.diff(lookup)) < 0.01


def test_blend_keeps_uint16_in_range_and_the_mean():
  top = np.full((48, 40, 3), 65535, np.uint16)
  out = top.copy()
  temporal.blend_toward(out, top, 0.5)
  np.testing.assert_array_equal(out, top)  # no wrap to 0, no drift
  frame = np.full((48, 40, 3), 100, np.uint8)
  out = np.full_like(frame, 101)
  temporal.blend_toward(out, frame, 0.7)
  assert abs(out.mean() - 100.7) < 0.01  # dithered: the blend's mean, not 100 or 101
  assert abs(temporal.mean_brightness(out) * 255 - 100.7) < 0.05
  out = np.full_like(frame, 200)
  temporal.blend_toward(out, frame, 0.0)
  np.testing.assert_array_equal(out, frame)
