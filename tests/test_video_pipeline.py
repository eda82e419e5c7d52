"""File to file (cudi_jax.video.pipeline and .io) on clips generated with PyAV."""
import os
from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av")

from cudi_jax.runtime import load_student  # noqa: E402
from cudi_jax.video import VideoError, synthetic  # noqa: E402
from cudi_jax.video.pipeline import enhance_video  # noqa: E402
from cudi_jax.video import io as vio  # noqa: E402


@pytest.fixture(scope="module")
def model():
  return load_student(threads=2)


def _clip(path, count=24, rate=24, **kwargs):
  frames = [synthetic.to_uint8(f) for f in synthetic.moving_frames(64, 96, count)]
  synthetic.write_clip(path, frames, rate=rate, **kwargs)
  return frames


def _read(path):
  with av.open(str(path)) as c:
    v = c.streams.video[0]
    frames = [(f.pts * v.time_base, f.to_ndarray(format="rgb24"), getattr(f, "rotation", 0))
              for f in c.decode(v)]
  with av.open(str(path)) as c:
    audio = [p for p in c.demux(c.streams.audio) if p.size] if c.streams.audio else []
    return frames, audio, v.average_rate


def _leftovers(folder):
  return [n for n in os.listdir(folder) if n.startswith(".cudi-")]


def test_frames_rate_timestamps_rotation_and_audio_are_kept(model, tmp_path):
  src, out = tmp_path / "in.mp4", tmp_path / "out" / "in.mp4"
  times = [i / 24 + (0.01 if i % 3 == 1 else 0.0) for i in range(24)]  # variable rate
  _clip(src, times=times, rotation=90)
  result = enhance_video(model, str(src), str(out))
  frames_in, audio_in, rate_in = _read(src)
  frames_out, audio_out, rate_out = _read(out)
  assert result.frames == len(frames_out) == len(frames_in) == 24
  assert [t for t, _, _ in frames_out] == [t for t, _, _ in frames_in]
  assert frames_out[0][2] == 90
  assert [bytes(p) for p in audio_out] == [bytes(p) for p in audio_in] and audio_in
  assert np.mean([f.mean() for _, f, _ in frames_out]) > 2 * np.mean(
      [f.mean() for _, f, _ in frames_in])
  assert not _leftovers(out.parent)


def test_a_constant_frame_rate_is_kept(model, tmp_path):
  """A constant rate is kept (a variable-rate clip's timestamps are compared above)."""
  src, out = tmp_path / "cfr.mp4", tmp_path / "out" / "cfr.mp4"
  _clip(src, count=12, rate=25)
  enhance_video(model, str(src), str(out))
  frames_in, _, _ = _read(src)
  frames_out, _, _ = _read(out)
  times = [t for t, _, _ in frames_out]
  assert times == [t for t, _, _ in frames_in] and len(times) == 12
  # The rate, from the timestamps (the container's average-rate field is an estimate
  # that FFmpeg does not always fill for a clip this short).
  assert set(b - a for a, b in zip(times, times[1:])) == {Fraction(1, 25)}


def test_map_video_drives_each_frame(model, tmp_path):
  src, maps = tmp_path / "in.mkv", tmp_path / "map.mkv"
  _clip(src, count=12, audio=False)
  levels = [0.15 if i < 6 else 0.85 for i in range(12)]
  synthetic.write_clip(maps, [np.full((64, 96, 3), int(v * 255), np.uint8) for v in levels],
                       rate=24, audio=False)
  enhance_video(model, str(src), str(tmp_path / "out.mkv"), exposure_video=str(maps))
  means = [f.mean() for _, f, _ in _read(tmp_path / "out.mkv")[0]]
  assert min(means[6:]) > max(means[:6]) + 40


def test_corrupt_and_truncated_videos_name_the_file_and_leave_nothing(model, tmp_path):
  src = tmp_path / "in.mkv"
  _clip(src, count=30)
  data = src.read_bytes()
  cases = {"truncated.mkv": data[:len(data) * 6 // 10],
           "header.mp4": data[:2000], "garbage.mp4": os.urandom(5000)}
  for name, content in cases.items():
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "out" / name
    with pytest.raises(VideoError, match=name):
      enhance_video(model, str(bad), str(out))
    assert not out.exists() and not _leftovers(out.parent if out.parent.exists() else tmp_path)


def test_interrupted_run_leaves_no_output(model, tmp_path):
  src, out = tmp_path / "in.mp4", tmp_path / "out.mp4"
  _clip(src, count=24)

  def interrupt(count):
    if count == 5:
      raise KeyboardInterrupt

  with pytest.raises(KeyboardInterrupt):
    enhance_video(model, str(src), str(out), progress=interrupt)
  assert not out.exists() and not _leftovers(tmp_path)
  out.write_bytes(b"keep")
  with pytest.raises(vio.VideoOutputExistsError):
    enhance_video(model, str(src), str(out))
  assert out.read_bytes() == b"keep"
