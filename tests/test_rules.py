"""The maps of auto and adaptive."""
import numpy as np
import pytest

from cudi_jax.exposure import calibration
from cudi_jax.exposure import presets
from cudi_jax.exposure import rules
from cudi_jax.exposure import values


def adaptive_full(image, strength=0.15, base=0.55):
  from cudi_jax.exposure import resolve
  stats = resolve.ImageStats(image)
  fed = rules.adaptive(stats.luma_range(), stats.cell_luma, base, strength)
  return values.full_map(fed, image)


def gray_image(levels):
  v = np.asarray(levels, np.float32)
  return np.repeat(v[..., None], 3, axis=-1)


def test_auto_map_follows_the_photo_between_constant_and_gain():
  # Left half dark (0.05), right half brighter (0.2): strength 1 asks both for the same
  # gain (targets in the ratio 1:4), strength 0 for one constant, 0.5 in between (1:2).
  cells = np.full((16, 16), 0.05, np.float32)
  cells[:, 8:] = 0.2
  full = rules.auto_cells(cells, 0.5, 1.0, 1.5)
  np.testing.assert_allclose(full[:, 8:] / full[:, :8], 4.0, rtol=2e-3)  # 1e-4 floor
  assert full.mean() == pytest.approx(0.5, rel=1e-3)
  flat = rules.auto_cells(cells, 0.5, 0.0, None)
  np.testing.assert_allclose(flat, 0.5, atol=1e-6)
  half = rules.auto_cells(cells, 0.5, 0.5, None)
  np.testing.assert_allclose(half[:, 8:] / half[:, :8], 2.0, rtol=1e-3)
  # The gain cap: the dark half (r = 0.05 / 0.125 = 0.4) would be asked for 0.5 * 0.4^0.5
  # = 0.316, i.e. 1.58x the global gain 0.5 / 0.125; capped at 1.5x: 1.5 * 0.5 * 0.4.
  capped = rules.auto_cells(cells, 0.5, 0.5, 1.5)
  np.testing.assert_allclose(capped[:, :8], 0.3, rtol=2e-3)
  np.testing.assert_array_equal(capped[:, 8:], half[:, 8:])  # brighter cells: no change
  assert presets.Presets().auto_gain_cap == 1.5
  # Clipped to the range (a black region is not asked for pure black).
  black = np.zeros((4, 4), np.float32)
  black[0, 0] = 1.0
  assert rules.auto_cells(black, 0.5, 1.0, 1.5).min() == pytest.approx(rules.AUTO_RANGE[0])


def test_adaptive_map_gray_hand_values():
  # Y = [0.1, 0.3, 0.9], mean 13/30; d = mean - Y; min-max to [-1, 1] -> [1, 0.5, -1]
  m = adaptive_full(gray_image([[0.1, 0.3, 0.9]]))
  assert m.dtype == np.float32 and m.shape == (1, 3)
  np.testing.assert_allclose(m, [[0.70, 0.625, 0.40]], atol=1e-6)


def test_adaptive_map_uses_bt601_luma():
  img = np.eye(3, dtype=np.float32)[None]          # red, green, blue pixels: Y = .299, .587, .114
  m = adaptive_full(img)[0]
  assert m[2] == pytest.approx(0.55 + 0.15, abs=1e-6)   # darkest (blue) -> S + A
  assert m[1] == pytest.approx(0.55 - 0.15, abs=1e-6)   # brightest (green) -> S - A
  red = 2 * (0.587 - 0.299) / (0.587 - 0.114) - 1       # 0.21776
  assert m[0] == pytest.approx(0.55 + 0.15 * red, abs=1e-6)


def test_adaptive_forms_and_flat_image():
  img = gray_image([[0.2, 0.4], [0.6, 0.8]])
  np.testing.assert_allclose(adaptive_full(img, strength=0.3, base=0.5),
                             [[0.8, 0.6], [0.4, 0.2]], atol=1e-6)
  # no clipping needed: a per-cell linear form; clipping needed: a full-size map
  assert isinstance(rules.adaptive((0.2, 0.8), None, 0.55, 0.15), values.LumaLinear)
  flat = rules.adaptive((0.42, 0.42), None, 0.55, 0.15)
  assert flat == values.Constant(0.55)
  # Clipping needed: clipped per 4x4 cell, from each cell's mean luma.
  ramp = gray_image(np.repeat(np.linspace(0.1, 0.9, 4)[:, None], 4, axis=0).repeat(8, axis=1))
  fed = rules.adaptive((0.1, 0.9), lambda: np.array([[0.1], [0.3667], [0.6333], [0.9]]),
                       0.5, 0.9)
  assert isinstance(fed, values.CellMap)
  np.testing.assert_allclose(fed.cells[:, 0], [1.0, 0.8, 0.2, 0.0], atol=1e-3)
  m = adaptive_full(ramp, strength=0.9, base=0.5)
  assert m.shape == (16, 8) and m.min() == 0.0 and m.max() == 1.0


#: A network that comes out exactly as fed, whatever the cell: fed = requested.
AS_FED = calibration.CellResponse((1e-4, 1.0), (0.0, 1.0), ((0.0, 0.0), (1.0, 1.0)))


def balanced(cells, noise=0.0, **kw):
  return rules.balanced_cells(np.asarray(cells, np.float32), noise, AS_FED, **kw)


def test_balanced_map_reaches_its_goal_with_a_compressive_curve():
  cells = np.full((32, 32), 0.02, np.float32)
  cells[:, 16:] = 0.2
  fed = balanced(cells, toe=0.0)
  assert fed.dtype == np.float32 and fed.shape == cells.shape
  assert fed.mean() == pytest.approx(0.5, abs=0.003)
  # Exponent 0.6: ten times the brightness is asked for 10^0.6 = 3.98 times the output.
  assert fed[0, 20] / fed[0, 2] == pytest.approx(10 ** 0.6, rel=0.01)
  plain = balanced(cells, toe=0.0, compression=1.0)                # a plain gain
  assert plain[0, 20] / plain[0, 2] == pytest.approx(10.0, rel=0.02)
  assert balanced(cells, toe=0.0, goal=0.3).mean() == pytest.approx(0.3, abs=0.003)


def test_balanced_map_hands_the_share_of_clipped_windows_to_the_room():
  """A backlit room: bright windows cannot go above the range's top, so the gain is
  solved with them clipped and the room gets more than a plain mean would give it."""
  room = np.full((32, 32), 0.01, np.float32)
  backlit = room.copy()
  backlit[:8] = 0.9                                                 # windows, a quarter
  fed = balanced(backlit)
  assert fed[:8].max() == pytest.approx(rules.AUTO_RANGE[1], abs=0.003)
  assert fed.mean() == pytest.approx(0.5, abs=0.003)
  # The room: (0.5 - 0.25 * 0.95) / 0.75 = 0.35, where a room alone would get 0.5.
  assert fed[8:].mean() == pytest.approx(0.35, abs=0.005)


def test_balanced_map_keeps_near_black_cells_down_with_the_toe():
  cells = np.full((16, 16), 0.1, np.float32)
  cells[:4] = 0.01                                                  # a dark sky
  no_toe, toe = balanced(cells, toe=0.0), balanced(cells, toe=0.03)
  ratio = lambda fed: fed[:4].mean() / fed[4:].mean()
  # b / (b + toe) = 0.25 for the sky, 0.77 for the rest (b floored at 1e-4)
  assert ratio(toe) == pytest.approx(ratio(no_toe) * (0.0101 / 0.0401) / (0.1001 / 0.1301),
                                     rel=0.05)
  # The range's bottom (0.02) does not lift black: a cell is asked for at most 4 times
  # its own brightness on its account, so black stays black.
  black = np.full((16, 16), 0.1, np.float32)
  black[:4, :8] = 0.0
  black[:4, 8:] = 0.002
  fed = balanced(black)
  assert fed[:4, :8].max() <= 0.002
  np.testing.assert_allclose(fed[:4, 8:], 0.008, atol=0.002)


def test_balanced_map_limits_the_gain_of_noisy_photos():
  cells = np.full((16, 16), 0.2, np.float32)
  cells[:8] = 0.005
  clean = balanced(cells)
  noisy = balanced(cells, noise=2.0 / 255.0, noise_limit=5.0 / 255.0)
  # The dark half may be amplified at most 2.5x (its noise 2/255 -> 5/255).
  np.testing.assert_allclose(noisy[:8], np.maximum(2.5 * (0.005 + 1e-4), rules.AUTO_RANGE[0]),
                             atol=0.003)
  assert clean[:8].min() > 2 * noisy[:8].max()
  # The limit holds everywhere: the bright half stops at 2.5 x 0.2 = 0.5, below the goal.
  np.testing.assert_allclose(noisy[8:], 0.5, atol=0.003)
  np.testing.assert_array_equal(balanced(cells, noise=0.0), clean)
  # Where it binds only in a dark quarter, the rest makes up the goal.
  cells[4:] = 0.4
  assert balanced(cells, noise=2.0 / 255.0).mean() == pytest.approx(0.5, abs=0.003)


def test_balanced_map_feeds_through_the_response():
  """Requests become fed values by each cell's own response: a network that reaches
  only half of any request is fed twice the request."""
  half = calibration.CellResponse((1e-4, 1.0), (0.0, 1.0), ((0.0, 0.0), (0.5, 0.5)))
  cells = np.full((8, 8), 0.05, np.float32)
  asked = balanced(cells, goal=0.2)
  fed = rules.balanced_cells(cells, 0.0, half, goal=0.2)
  np.testing.assert_allclose(fed, 2 * asked, atol=0.005)


def test_auto_blend():
  assert rules.auto_blend(0.1, (0.3, 0.6)) == 0.0
  assert rules.auto_blend(0.45, (0.3, 0.6)) == pytest.approx(0.5)
  assert rules.auto_blend(0.9, (0.3, 0.6)) == 1.0
  assert rules.auto_blend(0.5, (0.5, 0.5)) == 1.0 and rules.auto_blend(0.4, (0.5, 0.5)) == 0.0


def test_temper_weights_and_gain():
  cells = np.array([[0.5, 0.85, 0.91, 0.97, 1.0]], np.float32)
  assert rules.temper_weights(cells, 0.5, 0.6, (0.55, 0.7), (0.85, 0.97)) is None
  assert rules.temper_weights(cells, 0.8, 1.0, (0.55, 0.7), (0.85, 0.97)) is None
  full = rules.temper_weights(cells, 0.8, 0.6, (0.55, 0.7), (0.85, 0.97))
  np.testing.assert_allclose(full, [[0.6, 0.6, 0.8, 1.0, 1.0]], atol=1e-6)
  half = rules.temper_weights(cells, 0.625, 0.6, (0.55, 0.7), (0.85, 0.97))
  np.testing.assert_allclose(half, [[0.8, 0.8, 0.9, 1.0, 1.0]], atol=1e-6)
  assert full.dtype == np.float32
  assert rules.tempering_gain(0.8, 0.5) == pytest.approx(0.625)
  assert rules.tempering_gain(0.3, 0.5) == 1.0  # never brightens


def test_ramp():
  assert rules.ramp(0.2, (0.3, 0.6)) == 0.0 and rules.ramp(0.45, (0.3, 0.6)) == pytest.approx(0.5)
  np.testing.assert_allclose(rules.ramp(np.array([0.2, 0.45, 0.9]), (0.3, 0.6)), [0, 0.5, 1],
                             atol=1e-6)
  np.testing.assert_array_equal(rules.ramp(np.array([0.4, 0.5]), (0.5, 0.5)), [0, 1])


def test_night_ceiling_holds_noise_only_cells_to_themselves_and_others_near_the_request():
  rng = np.random.default_rng(8)
  cells = np.full((20, 20), 0.002, np.float32) + rng.uniform(0, 0.001, (20, 20)).astype(np.float32)
  cells[10:] = 0.2   # a lit lower half
  requested = np.where(cells < 0.01, 0.02, 0.4).astype(np.float32)
  noise = 0.5 / 255
  assert rules.night_ceiling(cells, requested, 0.0, 0.5) is None      # a clean photo
  assert rules.night_ceiling(cells, requested, 0.1 / 255, 0.5) is None  # quantisation only
  assert rules.night_ceiling(cells, requested, noise, None) is None   # off
  ceiling = rules.night_ceiling(cells, requested, noise, 0.5)
  # The sky, away from the lit half: no brighter than itself (+ a level).
  assert np.all(ceiling[:5] <= cells[:5].max() + 1.5 / 255)
  # The lit half, away from the sky: 1.5 times its request.
  np.testing.assert_allclose(ceiling[15:], 1.5 * 0.4 + 1 / 255, rtol=1e-5)
  # In between it changes gradually (no cell-to-cell jumps).
  assert np.abs(np.diff(ceiling, axis=0)).max() < 0.2


def test_box_mean():
  a = np.random.default_rng(0).random((7, 9))
  padded = np.pad(a, 2, mode="edge")
  ref = [[padded[i:i + 5, j:j + 5].mean() for j in range(9)] for i in range(7)]
  np.testing.assert_allclose(rules.box_mean(a, 2), ref, atol=1e-6)
