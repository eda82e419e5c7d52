"""Generated clips for the tests and the benchmark: dark scenes with moving content,
fades and cuts, written with PyAV (H.264 + AAC audio by default).
"""
import fractions

import numpy as np

from cudi_jax.video import io as vio


def scene(height, width, seed=0, level=0.12):
  """A dark textured background (float32 (H, W, 3) in [0, 1], mean about ``level``)."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
  fy, fx = rng.uniform(5, 20, 2)
  base = 1.0 + 0.5 * np.sin(xx / fx + rng.uniform(0, 6)) * np.cos(yy / fy) + 0.4 * xx / width
  tint = rng.uniform(0.7, 1.1, 3).astype(np.float32)
  img = base[..., None] * tint
  return (img * (level / img.mean())).astype(np.float32)


def moving_frames(height, width, count, seed=0, level=0.12, noise=0.01, object_gain=3.0):
  """``count`` frames of a static scene under constant light with a bright textured
  disk moving across it (it stays inside the frame) and sensor noise: float32."""
  rng = np.random.default_rng(seed + 1)
  bg = scene(height, width, seed, level)
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
  r = 0.18 * min(height, width)
  for i in range(count):
    t = i / max(count - 1, 1)
    cy = height / 2 + (height / 2 - r - 1) * np.sin(2 * np.pi * t)
    cx = r + 1 + (width - 2 * r - 2) * t
    disk = ((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r
    f = bg.copy()
    f[disk] *= object_gain * (1.0 + 0.3 * np.sin((xx[disk] - cx) / 3.0))[:, None]
    f += rng.normal(0, noise, f.shape).astype(np.float32)
    yield np.clip(f, 0, 1)


def to_uint8(frame):
  return np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8)


def write_clip(path, frames, rate=30, audio=True, times=None, codec="libx264", crf=12,
               rotation=0, subtitle=False):
  """Writes uint8 RGB frames (an iterable) to ``path`` with ``rate`` fps or the
  given ``times`` (s, variable frame rate), and an AAC tone as long as the video.
  Returns the number of frames written."""
  av = vio.import_av()
  frames = list(frames)
  h, w = frames[0].shape[:2]
  tb = fractions.Fraction(1, 90000)
  with av.open(str(path), "w") as out:
    vs = out.add_stream(codec, rate=rate, options={"crf": str(crf), "preset": "ultrafast"}
                        if codec == "libx264" else {})
    vs.width, vs.height = w, h
    vs.pix_fmt = "yuv420p" if w % 2 == 0 and h % 2 == 0 else "yuv444p"
    vs.time_base = tb
    vs.codec_context.time_base = tb
    if rotation:
      vs.set_display_rotation(rotation)
    aus = out.add_stream("aac", rate=16000) if audio else None
    for i, f in enumerate(frames):
      vf = av.VideoFrame.from_ndarray(f, format="rgb24")
      t = times[i] if times is not None else i / rate
      vf.pts = int(round(t * 90000))
      vf.time_base = tb
      for p in vs.encode(vf):
        out.mux(p)
    for p in vs.encode(None):
      out.mux(p)
    if aus is not None:
      duration = (times[-1] if times is not None else len(frames) / rate)
      n = int(duration * 16000)
      t = np.arange(n) / 16000.0
      tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
      size = aus.codec_context.frame_size or 1024
      for s in range(0, n, size):
        chunk = np.zeros((1, size), np.float32)
        part = tone[s:s + size]
        chunk[0, :len(part)] = part
        af = av.AudioFrame.from_ndarray(np.repeat(chunk, 2, axis=0), format="fltp",
                                        layout="stereo")
        af.sample_rate = 16000
        af.pts = s
        for p in aus.encode(af):
          out.mux(p)
      for p in aus.encode(None):
        out.mux(p)
  return len(frames)
