"""VideoEnhancer (cudi_jax.video.enhancer): per-frame API, stability figures of the
issue (constant light with moving content; a fade), scene cuts, per-frame maps."""
import copy

import numpy as np
import pytest

from cudi_jax.runtime import load_student
from cudi_jax.runtime.api import StudentRuntime
from cudi_jax.video import synthetic
from cudi_jax.video import temporal
from cudi_jax.video.enhancer import VideoEnhancer, VideoFrameError


@pytest.fixture(scope="module")
def model():
  return load_student(threads=2)


def _means(enhancer, frames, rate=30):
  return np.array([enhancer.enhance(synthetic.to_uint8(f), time=i / rate).mean() / 255.0
                   for i, f in enumerate(frames)])


@pytest.mark.parametrize("exposure", ["auto", 0.6, "under"])
def test_without_smoothing_frames_are_the_still_photo_path(model, exposure):
  """Frame by frame, exactly the still-photo path (for ``auto``: its balanced rule on
  these dark frames, with the night ceiling on noisy ones)."""
  rng = np.random.default_rng(1)
  frames = [synthetic.to_uint8(f) for f in synthetic.moving_frames(40, 52, 3)]
  frames.append(np.clip(frames[0].astype(int) + rng.poisson(2, frames[0].shape), 0,
                        255).astype(np.uint8))
  enhancer = VideoEnhancer(model, exposure, smoothing=None)
  for f in frames:
    np.testing.assert_array_equal(enhancer.enhance(f), model.enhance(f, exposure=exposure))


def test_over_exposed_frames_are_tempered_as_stills_are(model):
  """An over-exposed frame gets auto's tempering (the still path gives bright photos
  the steady rule, so without smoothing the two are identical)."""
  frames = [synthetic.to_uint8(np.clip(0.7 + 0.5 * f, 0, 1))
            for f in synthetic.moving_frames(40, 52, 3)]
  assert frames[0].mean() / 255 > model.presets.auto_temper_photos[1]
  enhancer = VideoEnhancer(model, "auto", smoothing=None)
  presets = copy.deepcopy(model.metadata["exposure_presets"])
  presets["auto"]["temper"] = {"strength": 1.0}
  untempered = StudentRuntime(model.params, dict(model.metadata, exposure_presets=presets),
                              threads=2)
  for f in frames:
    got = enhancer.enhance(f)
    np.testing.assert_array_equal(got, model.enhance(f))
    assert np.abs(got.astype(int) - untempered.enhance(f)).max() > 3


def test_constant_light_with_moving_content_is_stable(model):
  frames = list(synthetic.moving_frames(96, 128, 60, seed=3))
  means = _means(VideoEnhancer(model, "auto"), frames)
  assert means.std() <= 0.01
  assert 0.3 < means.mean() < 0.8  # and actually brightened (the input is at 0.12)


@pytest.mark.parametrize("exposure", ["auto", 0.6])
def test_a_fade_to_black_stays_a_smooth_monotonic_fade(model, exposure):
  """(At a constant exposure the network alone would hold the output up and drop it
  by 0.045 a frame at the end; the output follows the frame's fade instead.)"""
  bg = synthetic.scene(96, 128, seed=4)
  frames = [bg] * 10 + [bg * (1 - i / 60) for i in range(61)] + [bg * 0] * 30  # 2 s fade
  means = _means(VideoEnhancer(model, exposure), frames)
  steps = np.diff(means)
  assert np.abs(steps).max() <= 0.02
  assert steps.max() <= 1e-3  # never brighter again (beyond rounding)
  assert means[0] > 0.3 and means[-1] < 0.02


def test_a_fade_from_black_rises_in_steps_the_smoothing_allows(model):
  bg = synthetic.scene(96, 128, seed=4)
  frames = [bg * 0] * 10 + [bg * (i / 60) for i in range(61)] + [bg] * 10  # 2 s fade
  means = _means(VideoEnhancer(model, "auto"), frames)
  steps = np.diff(means)
  assert np.abs(steps).max() <= 0.02  # frame by frame it jumps by 0.05 out of black
  assert means[-1] > 0.45  # (auto brings the scene, at 0.12, to about 0.5)
  free = _means(VideoEnhancer(model, "auto", smoothing=temporal.Smoothing(max_rise=None)),
                frames)
  assert np.diff(free).max() > 0.03  # (the premise: unlimited, it jumps)


def test_a_fade_in_does_not_brighten_past_where_it_ends(model):
  """A dimmed copy of this scene comes out brighter than the scene (the premise): met
  frame by frame, a 2 s fade in would brighten past its end and come back. Through a
  fade the output approaches the network's with a time constant instead, and catches
  up at the rise limit once the picture stops brightening -- also when a light is
  switched on after the fade."""
  bg = synthetic.scene(96, 128, seed=4)
  assert _means(VideoEnhancer(model, "auto", smoothing=None), [bg * 0.4, bg]).tolist() \
      == sorted(_means(VideoEnhancer(model, "auto", smoothing=None), [bg * 0.4, bg]),
                reverse=True)  # (the premise: the dimmer copy comes out brighter)
  frames = [bg * 0] * 10 + [bg * (i / 60) for i in range(61)] + [bg] * 30
  means = _means(VideoEnhancer(model, "auto"), frames)
  assert np.diff(means).min() > -1e-4 and means.max() <= means[-1] + 1e-4  # (rounding)
  met = _means(VideoEnhancer(model, "auto", smoothing=temporal.Smoothing(fade_in_s=None)),
               frames)
  assert met.max() > met[-1] + 0.02 and np.diff(met).min() < -0.001  # (before)
  light = frames + [np.clip(bg * 2.5, 0, 1)] * 30
  lit = _means(VideoEnhancer(model, "auto"), light)
  fresh = _means(VideoEnhancer(model, "auto", smoothing=None), [light[-1]])[0]
  assert abs(lit[len(frames) + 15] - fresh) < 0.02  # within half a second


@pytest.mark.parametrize("exposure", ["auto", 0.6])
def test_after_a_noisy_fade_to_black_the_output_stays_black(model, exposure):
  """Sensor noise (2 levels) on every frame: the mean's wobble does not release the
  output (frame by frame, the noisy black frame alone comes out at 0.18 at a constant
  0.6; auto holds its noise down by itself)."""
  rng = np.random.default_rng(0)
  bg = synthetic.scene(96, 128, seed=4)
  frames = [np.clip(np.round(bg * (1 - min(i / 60, 1)) * 255) + rng.poisson(2, bg.shape),
                    0, 255).astype(np.uint8) for i in range(-10, 130)]
  enhancer = VideoEnhancer(model, exposure)
  means = np.array([enhancer.enhance(f, time=i / 30).mean() / 255 for i, f in enumerate(frames)])
  assert np.diff(means).max() <= 1e-3 and means[-1] < 0.05
  alone = VideoEnhancer(model, exposure, smoothing=None).enhance(frames[-1]).mean() / 255
  assert alone > 0.1 if exposure == 0.6 else alone < 0.03


def test_in_place_enhancement_is_limited_as_well(model):
  bg = synthetic.scene(64, 96, seed=4)
  frames = [bg * 0] * 5 + [bg * (i / 30) for i in range(31)]
  separate, in_place = VideoEnhancer(model, "auto"), VideoEnhancer(model, "auto")
  for i, f in enumerate(frames):
    frame = synthetic.to_uint8(f)
    expected = separate.enhance(frame, time=i / 30)
    np.testing.assert_array_equal(in_place.enhance(frame, time=i / 30, out=frame), expected)


def test_scene_cut_resets_and_a_light_switch_is_followed(model):
  a, b = synthetic.scene(64, 96, seed=0), synthetic.scene(64, 96, seed=7, level=0.3)
  b = b[::-1, ::-1]  # another picture
  enhancer = VideoEnhancer(model, "auto")
  cut = _means(enhancer, [a] * 10 + [b] * 5)
  assert enhancer.scene_cuts == 1
  fresh = _means(VideoEnhancer(model, "auto"), [b])
  assert abs(cut[10] - fresh[0]) < 0.01  # at once what a fresh start gives
  enhancer = VideoEnhancer(model, "auto")
  light = _means(enhancer, [a * 0.5] * 10 + [np.clip(a * 2, 0, 1)] * 30)  # 4x brighter
  assert enhancer.scene_cuts == 0
  settled = _means(VideoEnhancer(model, "auto", smoothing=None), [np.clip(a * 2, 0, 1)])[0]
  assert abs(light[10 + 18] - settled) < 0.05  # followed within 0.6 s
  assert np.diff(light).max() <= 0.02  # without a flash: the stale gain would burn it


def test_per_frame_maps_and_bad_frames(model):
  frame = synthetic.to_uint8(synthetic.scene(40, 48))
  enhancer = VideoEnhancer(model, "auto")
  dark = enhancer.enhance(frame, exposure_map=np.full((10, 12), 0.2, np.float32))
  bright = enhancer.enhance(frame, exposure_map=np.full((40, 48), 0.8, np.float32))
  assert bright.mean() > dark.mean() + 40
  with pytest.raises(VideoFrameError, match="size changed"):
    enhancer.enhance(frame[:20])
  with pytest.raises(VideoFrameError, match="uint8"):
    VideoEnhancer(model).enhance(frame.astype(np.float32))


@pytest.mark.parametrize("size", [(37, 53), (64, 96), (5, 3), (1, 1), (130, 21)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_cell_sums_give_the_same_brightness_and_enhancement(model, size, dtype):
  """The video path reads each frame once (engine.cell_sums): the cell brightness and
  the enhanced frame it gives are exactly the still-photo path's."""
  from cudi_jax.exposure import values
  from cudi_jax.runtime.job import Job
  from cudi_jax.video import _runtime_adapter as rt
  rng = np.random.default_rng(size[0])
  frame = rng.integers(0, np.iinfo(dtype).max + 1, size + (3,), dtype=dtype)
  sums = rt.cell_sums(model, frame)
  assert np.array_equal(rt.brightness_of_sums(sums, frame.dtype), rt.cell_brightness(model, frame))
  exposure = values.CellMap(rng.uniform(0, 1, values.cell_shape(*size)).astype(np.float32))
  outs = []
  for given in (None, sums):
    out = np.empty_like(frame)
    model.engine.run(Job(frame, exposure, out=out, cell_sums=given), band_rows=3)
    outs.append(out)
  assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("strength", [0.15, 0.5])  # 0.5 around 0.55: the map needs clipping
def test_adaptive_video_follows_the_still_paths_cell_map(model, strength):
  """adaptive per frame, with and without clipping, gives the still path's cell map
  (from the cells' mean luma) within float rounding."""
  from cudi_jax.runtime.api import StudentRuntime
  clipped = StudentRuntime(model.params, dict(model.metadata, exposure_presets=dict(
      model.presets.to_metadata(), adaptive={"base": 0.55, "strength": strength})))
  frames = [synthetic.to_uint8(f) for f in synthetic.moving_frames(40, 52, 2)]
  enhancer = VideoEnhancer(clipped, "adaptive", smoothing=None)
  for f in frames:
    out = enhancer.enhance(f).astype(int)
    still = clipped.enhance(f, exposure="adaptive").astype(int)
    assert out.shape == f.shape and np.abs(out - still).max() <= 2


def test_the_network_cell_grows_with_the_frame():
  """4x4 cells up to 1440p (the still path's), 8x8 at 4K, 16x16 at 8K: the network's
  grid stays within twice a 1080p frame's."""
  from cudi_jax.video.enhancer import network_cell
  assert [network_cell(h, w) for h, w in ((360, 640), (1080, 1920), (1920, 1080), (1440, 2560),
                                          (2160, 3840), (4320, 7680), (9000, 16000))] == \
      [4, 4, 4, 4, 8, 16, 16]
  with pytest.raises(ValueError, match="cell size"):
    VideoEnhancer(load_student(), cell=6)


@pytest.mark.parametrize("exposure", ["auto", 0.6, "adaptive"])
def test_frames_on_larger_cells_look_like_frames_on_4x4_cells(model, exposure):
  """cell=8 (what 4K frames get) runs every setting on 8x8 cells: the same brightness
  as 4x4 cells within 0.02, pictures close but not identical; the network is fed
  exactly what the enhancer says (run again through the engine at cell 8)."""
  from cudi_jax.exposure import values
  from cudi_jax.runtime.job import Job
  frames = [synthetic.to_uint8(f) for f in synthetic.moving_frames(96, 128, 3, seed=5)]
  coarse = VideoEnhancer(model, exposure, smoothing=None, cell=8)
  fine = VideoEnhancer(model, exposure, smoothing=None, cell=4)
  for f in frames:
    a, b = coarse.enhance(f), fine.enhance(f)
    assert coarse.cell == 8 and fine.cell == 4
    assert abs(a.mean() - b.mean()) / 255 < 0.02
    assert 0 < np.abs(a.astype(int) - b).mean() < 16  # (generated frames: fine detail)
    if exposure == 0.6:
      again = np.empty_like(f)
      model.engine.run(Job(f, values.Constant(coarse.last["fed"]), out=again, cell=8))
      np.testing.assert_array_equal(a, again)


def test_a_map_video_frame_on_larger_cells(model):
  """A per-frame map is reduced to the 8x8 cells: a map darker on the left gives a
  darker left half, as on 4x4 cells."""
  frame = synthetic.to_uint8(synthetic.scene(64, 96, seed=6))
  emap = np.ones((64, 96), np.float32) * 0.7
  emap[:, :48] = 0.3
  for cell in (4, 8):
    out = VideoEnhancer(model, 0.5, cell=cell).enhance(frame, exposure_map=emap)
    assert out[:, :40].mean() + 10 < out[:, 56:].mean()


def _night_frames(count, seed=0):
  """A noisy night street: black sky (Poisson noise of 2 levels), a dim street with
  bright lamps; the lamps move a little from frame to frame."""
  rng = np.random.default_rng(seed)
  h, w = 96, 128
  base = np.zeros((h, w, 3), np.float32)
  base[48:] = synthetic.scene(48, w, seed=3, level=0.06)
  frames = []
  for i in range(count):
    f = base.copy()
    for x in (20 + i, 64 + i, 100 + i):
      f[52:60, x:x + 6] = 0.95
    f = np.round(f * 255) + rng.poisson(2, f.shape)
    frames.append(np.clip(f, 0, 255).astype(np.uint8))
  return frames


def test_a_noisy_night_clip_keeps_its_sky_dark_as_the_still_does(model):
  """auto in video makes each frame's map as stills do: the balanced rule lifts the
  street, the night ceiling holds the noisy sky near its own level (the steady rule,
  which video used before, lifted it to a grey veil of amplified noise)."""
  frames = _night_frames(30)
  enhancer = VideoEnhancer(model, "auto")
  for i, f in enumerate(frames):
    out = enhancer.enhance(f, time=i / 30)
  still = model.enhance(frames[-1])
  sky_in, sky_out, sky_still = (a[:44].mean() for a in (frames[-1], out, still))
  assert sky_out < sky_in + 4 and abs(sky_out - sky_still) < 1.5
  assert out[48:].mean() > 2 * frames[-1][48:].mean()  # the street is lifted
  assert abs(out.mean() - still.mean()) < 3
  from cudi_jax.video import _runtime_adapter as rt
  cells = rt.cell_brightness(model, frames[-1])
  p = model.presets
  from cudi_jax.exposure import rules
  steady = rules.auto_cells(cells, rt.auto_target(model, float(cells.mean())), p.auto_strength,
                            p.auto_gain_cap)
  veiled = rt.run(model, frames[-1], "cells", steady, np.empty_like(frames[-1]))
  assert veiled[:44].mean() > sky_out + 5  # (the premise: the steady rule veils it)


def test_a_backlit_clip_converges_to_the_still_and_holds_still(model):
  """A backlit scene under constant light: the smoothed output lands on the still
  photo's and its mean stays within a fraction of a level from frame to frame."""
  h, w = 96, 128
  room = synthetic.scene(h, w, seed=8, level=0.03)
  room[10:50, 30:90] = 0.9  # a bright window
  frames = [synthetic.to_uint8(room)] * 20
  enhancer = VideoEnhancer(model, "auto")
  means = [enhancer.enhance(f, time=i / 30).mean() / 255 for i, f in enumerate(frames)]
  still = model.enhance(frames[0])
  assert abs(means[-1] - still.mean() / 255) < 0.01
  assert np.abs(np.diff(means[5:])).max() < 0.002
  assert still[60:].mean() > 3 * frames[0][60:].mean()  # the room is lifted


def test_the_dark_noise_is_averaged_over_time_and_reset_at_cuts():
  """Averaged with a one-second time constant over the frames that measure it, by the
  time since the last measurement (bright frames in between do not measure it)."""
  state = temporal.TemporalState()
  cells = np.full((8, 8), 0.05, np.float32)
  t = [0.0]

  def frame(noise=None):
    state.step(cells, t[0])
    t[0] += 1 / 30
    return None if noise is None else state.smooth_noise(noise)

  assert frame(0.004) == 0.004  # the first frame: its own
  assert 0.0035 < frame(0.0) < 0.004
  for _ in range(150):
    last = frame(0.0)
  assert last < 0.0001
  frame(0.004)
  for _ in range(90):  # 3 s without a measurement
    frame()
  assert frame(0.0) < 0.00025  # the old value is 3 s old: almost forgotten
  state.reset()
  assert frame(0.002) == 0.002


@pytest.mark.parametrize("cell", [8, 16])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_odd_sized_frames_on_larger_cells_take_every_setting(model, cell, dtype):
  """Frames whose sides are not multiples of the cell, uint8 and uint16, every kind of
  setting (a map given once, and a map per frame) at cells 8 and 16: the enhancer's
  maps are of the right grid and the frames come out brightened like 4x4 cells do."""
  rng = np.random.default_rng(cell)
  frames = [(f * np.iinfo(dtype).max + 0.5).astype(dtype)
            for f in synthetic.moving_frames(131, 197, 3, seed=2)]
  emap = rng.uniform(0.3, 0.7, (30, 40)).astype(np.float32)
  for exposure in ("auto", 0.6, "adaptive", emap):
    coarse = VideoEnhancer(model, exposure, cell=cell)
    fine = VideoEnhancer(model, exposure, cell=4)
    for i, f in enumerate(frames):
      a = coarse.enhance(f, time=i / 30).astype(np.float64)
      b = fine.enhance(f, time=i / 30).astype(np.float64)
      assert a.shape == f.shape and a.mean() > 2 * f.mean()
      # (0.003-0.004 apart at cell 8, 0.014-0.033 at 16: a 9x13 grid is coarse)
      assert abs(a.mean() - b.mean()) < 0.04 * np.iinfo(dtype).max
  per_frame = VideoEnhancer(model, 0.5, cell=cell).enhance(frames[0], exposure_map=emap)
  assert per_frame.shape == frames[0].shape


def test_a_static_map_gives_the_still_paths_frames(model):
  """A map given once is reduced to the cells as stills reduce it (any size)."""
  rng = np.random.default_rng(4)
  for size, map_size in (((37, 53), (37, 53)), ((40, 52), (9, 7)), ((40, 52), (300, 200))):
    frame = synthetic.to_uint8(synthetic.scene(*size, seed=5))
    emap = rng.uniform(0.2, 0.9, map_size).astype(np.float32)
    got = VideoEnhancer(model, emap, smoothing=None).enhance(frame)
    np.testing.assert_array_equal(got, model.enhance(frame, exposure=emap))


@pytest.mark.parametrize("cell", [8, 16])
def test_dark_noise_on_larger_cells_is_the_photos(model, cell):
  from cudi_jax.video import _runtime_adapter as rt
  rng = np.random.default_rng(0)
  frame = np.clip(rng.poisson(2, (131, 197, 3)), 0, 255).astype(np.uint8)
  frame[:40, :60] = 200
  from cudi_jax.runtime import prepared, stats
  still = stats.Stats(prepared.Prepared(frame), 1).dark_noise()
  assert still > 0.25 / 255  # (the premise: a noisy photo)
  sums = rt.cell_sums(model, frame, cell)
  cells = rt.brightness_of_sums(sums, frame.dtype, cell)
  assert abs(rt.dark_noise(model, frame, cells, cell) - still) < 0.1 * still
