"""File to file: decode, enhance and encode overlapped on three threads.

    from cudi_jax.video import enhance_video
    result = enhance_video(model, "clip.mp4", "out/clip.mp4", exposure="auto")

A reader thread decodes frames (and passes the audio and subtitle packets along in
file order), the calling thread enhances them (:class:`VideoEnhancer`, whose network
runs on the model's worker threads) and a writer thread encodes and muxes, with small
bounded queues between them, so the throughput approaches the slowest stage's. The
output is written to a temporary file and given its name only at the end: a failure
or an interruption (KeyboardInterrupt included) leaves nothing behind.
"""
import dataclasses
import os
import queue
import threading
import time

from cudi_jax.video import io as vio
from cudi_jax.video import temporal
from cudi_jax.video.enhancer import VideoEnhancer

#: Frames in flight between two stages.
QUEUE_FRAMES = 4
_END = object()


@dataclasses.dataclass
class VideoResult:
  frames: int
  seconds: float
  scene_cuts: int
  #: Busy time of each stage (s): decoding (+ RGB conversion), enhancing, encoding.
  decode_s: float
  enhance_s: float
  encode_s: float

  @property
  def fps(self):
    return self.frames / self.seconds if self.seconds > 0 else float("inf")


class _Stop(Exception):
  pass


class _Stage(threading.Thread):
  """A daemon thread running ``fn``; its exception is kept for the caller."""

  def __init__(self, fn, name):
    super().__init__(target=self._run, args=(fn,), name=name, daemon=True)
    self.error = None

  def _run(self, fn):
    try:
      fn()
    except BaseException as err:  # pylint: disable=broad-except - handed to the caller
      self.error = err


def _put(q, item, stop):
  while True:
    if stop.is_set():
      raise _Stop()
    try:
      q.put(item, timeout=0.1)
      return
    except queue.Full:
      continue


def _get(q, stop, others=()):
  while True:
    try:
      return q.get(timeout=0.1)
    except queue.Empty:
      if stop.is_set():
        raise _Stop() from None
      for t in others:
        if t.error is not None:
          raise _Stop() from None


def enhance_video(model, source, target, exposure="auto", exposure_video=None,
                  color="natural", smoothing=temporal.Smoothing(), codec=None,
                  crf=vio.DEFAULT_CRF, preset=vio.DEFAULT_PRESET, overwrite=False,
                  progress=None, enhance=True, cell=None):
  """Enhances every frame of ``source`` into ``target``.

  exposure: as for :class:`VideoEnhancer`; exposure_video: the path of a video of the
  same frame count whose frames (their luma, white = 1) are the per-frame exposure
  maps. codec / crf / preset: the encoder (default H.264, CRF 18, preset veryfast;
  VP9 for .webm). overwrite: replace an existing ``target``. progress: called with
  the number of frames written so far. enhance=False: decode and re-encode only (the
  benchmark's baseline). cell: the cell size the network runs at (None: by frame size,
  :func:`cudi_jax.video.enhancer.network_cell`). Returns a :class:`VideoResult`; raises
  :class:`cudi_jax.video.io.VideoError` (one line, naming the file).
  """
  if os.path.exists(target) and not overwrite:
    raise vio.VideoOutputExistsError(f"{target} exists")
  enhancer = (VideoEnhancer(model, exposure, color=color, smoothing=smoothing, cell=cell)
              if enhance else None)
  reader = vio.VideoReader(source)
  maps = None
  try:
    if exposure_video is not None:
      maps = vio.VideoReader(exposure_video, copy_streams=False)
      if reader.frames and maps.frames and maps.frames != reader.frames:
        raise vio.VideoError(f"{exposure_video}: the exposure video has {maps.frames} "
                             f"frames, {source} has {reader.frames}")
    return _run(reader, maps, enhancer, target, codec, crf, preset, overwrite, progress,
                exposure_video)
  finally:
    reader.close()
    if maps is not None:
      maps.close()


def _run(reader, maps, enhancer, target, codec, crf, preset, overwrite, progress,
         exposure_video):
  stop = threading.Event()
  decoded, enhanced = queue.Queue(QUEUE_FRAMES), queue.Queue(QUEUE_FRAMES)
  busy = {"decode": 0.0, "enhance": 0.0, "encode": 0.0}
  state = {"writer": None}

  def read():
    map_iter = None
    if maps is not None:
      map_iter = (item for kind, item in maps.items() if kind == "frame")
    t0 = time.perf_counter()
    for kind, item in reader.items():
      if kind == "frame":
        rgb = vio.to_rgb(item)
        emap = None
        if map_iter is not None:
          m = next(map_iter, None)
          if m is None:
            raise vio.VideoError(f"{exposure_video}: the exposure video has fewer frames "
                                 f"than the video")
          emap = vio.to_gray(m)
        busy["decode"] += time.perf_counter() - t0
        _put(decoded, ("frame", rgb, item.pts, vio.frame_time(item), getattr(item, "rotation", 0), emap),
             stop)
      else:
        busy["decode"] += time.perf_counter() - t0
        _put(decoded, ("packet", item), stop)
      t0 = time.perf_counter()
    _put(decoded, _END, stop)

  def write():
    pending = []  # packets before the first frame (the writer needs its rotation)
    writer = None
    count = 0
    while True:
      item = _get(enhanced, stop)
      if item is _END:
        break
      t0 = time.perf_counter()
      if item[0] == "packet":
        if writer is None:
          pending.append(item[1])
        else:
          writer.write_packet(item[1])
      else:
        _, rgb, pts, rotation = item
        if writer is None:
          writer = state["writer"] = vio.VideoWriter(
              target, reader, codec=codec, crf=crf, preset=preset, overwrite=overwrite,
              rotation=int(rotation or 0))
          for packet in pending:
            writer.write_packet(packet)
          pending = []
        writer.write(rgb, pts)
        count += 1
      busy["encode"] += time.perf_counter() - t0
      if progress is not None and item[0] == "frame":
        progress(count)
    if writer is None:
      raise vio.VideoError(f"{reader.path}: no frame could be decoded")
    t0 = time.perf_counter()
    writer.commit()
    busy["encode"] += time.perf_counter() - t0

  start = time.perf_counter()
  reader_thread = _Stage(read, "cudi-video-read")
  writer_thread = _Stage(write, "cudi-video-write")
  reader_thread.start()
  writer_thread.start()
  frames = 0
  try:
    while True:
      item = _get(decoded, stop, (reader_thread, writer_thread))
      if item is _END:
        break
      if item[0] == "frame":
        _, rgb, pts, t, rotation, emap = item
        if enhancer is not None:
          t0 = time.perf_counter()
          rgb = enhancer.enhance(rgb, time=t, exposure_map=emap)
          busy["enhance"] += time.perf_counter() - t0
        frames += 1
        _put(enhanced, ("frame", rgb, pts, rotation), stop)
      else:
        _put(enhanced, item, stop)
      if writer_thread.error is not None:
        raise _Stop()
    _put(enhanced, _END, stop)
    while writer_thread.is_alive():
      writer_thread.join(0.1)
      if writer_thread.error is not None:
        break
  except BaseException as err:
    stop.set()
    reader_thread.join()
    writer_thread.join()
    if state["writer"] is not None:
      state["writer"].abort()
    for t in (reader_thread, writer_thread):
      if t.error is not None and not isinstance(t.error, _Stop):
        raise t.error from None
    if isinstance(err, _Stop):
      raise RuntimeError("video pipeline stopped without a reason")  # pragma: no cover
    raise
  reader_thread.join()
  for t in (reader_thread, writer_thread):
    if t.error is not None:
      if state["writer"] is not None:
        state["writer"].abort()
      raise t.error
  return VideoResult(frames=frames, seconds=time.perf_counter() - start,
                     scene_cuts=enhancer.scene_cuts if enhancer is not None else 0,
                     decode_s=busy["decode"], enhance_s=busy["enhance"],
                     encode_s=busy["encode"])
