"""Reading and writing video files with PyAV (the ``[video]`` extra).

:class:`VideoReader` decodes the first video stream to (H, W, 3) uint8 RGB frames
with their timestamps and hands the packets of the audio and subtitle streams over
untouched; :class:`VideoWriter` encodes frames with the same timestamps (variable
frame rate included) and rotation, and muxes those packets as they came. Writers
write to a temporary file in the target folder (``.cudi-XXXXXXXX.part``, the name the
still-photo path uses, so killed runs' leftovers are cleaned up the same way) that is
given its final name only when everything succeeded (:meth:`VideoWriter.commit`).

Every failure is a :class:`VideoError` with a one-line message naming the file.
"""
import fractions
import os
import tempfile

import numpy as np

from cudi_jax.errors import CudiError

#: Inputs taken as videos by ``cudi enhance`` (by extension).
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts",
    ".m2ts", ".wmv", ".flv", ".3gp", ".ogv", ".y4m"})
#: Container format by output extension (what FFmpeg would guess, made explicit
#: because the temporary file has no extension).
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska",
            ".webm": "webm", ".avi": "avi", ".mpg": "mpeg", ".mpeg": "mpeg", ".ts": "mpegts",
            ".mts": "mpegts", ".m2ts": "mpegts", ".wmv": "asf", ".flv": "flv", ".3gp": "3gp",
            ".ogv": "ogg", ".y4m": "matroska"}
#: Default video codec, and the one used where a container cannot hold it.
DEFAULT_CODEC = "libx264"
DEFAULT_CRF = 18
DEFAULT_PRESET = "veryfast"
_CODEC_ALIASES = {"h264": "libx264", "x264": "libx264", "avc": "libx264", "h265": "libx265",
                  "hevc": "libx265", "x265": "libx265", "vp9": "libvpx-vp9", "av1": "libaom-av1"}
_WEBM_CODEC = "libvpx-vp9"
TEMP_PREFIX = ".cudi-"
TEMP_SUFFIX = ".part"


class VideoError(CudiError):
  """A video that cannot be read or written (the message is one line)."""


class VideoOutputExistsError(VideoError):
  """The output name exists and replacing it was not allowed."""


def is_video_path(path):
  return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_EXTENSIONS


def import_av():
  try:
    import av  # pylint: disable=import-outside-toplevel
  except ImportError:
    raise VideoError("video needs PyAV: pip install 'cudi-jax[video]'") from None
  return av


def _reason(err):
  text = getattr(err, "strerror", None) or str(err).strip()
  return text.splitlines()[0] if text else type(err).__name__


class VideoReader:
  """The first video stream of a file, decoded in order.

  Attributes: width, height, rate (average frame rate, a Fraction or None),
  time_base, frames (the container's frame count, 0 when unknown), duration (s or
  None), codec, copy_streams (the audio and subtitle streams to carry over).
  """

  def __init__(self, path, copy_streams=True):
    av = import_av()
    self.path = os.fspath(path)
    try:
      self.container = av.open(self.path, "r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as err:
      raise VideoError(f"{self.path}: cannot open as a video: {_reason(err)}") from None
    if not self.container.streams.video:
      self.container.close()
      raise VideoError(f"{self.path}: no video stream")
    self.stream = self.container.streams.video[0]
    self.stream.thread_type = "AUTO"
    ctx = self.stream.codec_context
    self.width, self.height = ctx.width, ctx.height
    if not (self.width and self.height):
      self.container.close()
      raise VideoError(f"{self.path}: the video stream has no frame size (corrupt file)")
    self.rate = self.stream.average_rate or self.stream.guessed_rate or None
    self.time_base = self.stream.time_base or fractions.Fraction(1, 90000)
    self.frames = int(self.stream.frames or 0)
    self.duration = (float(self.stream.duration * self.time_base)
                     if self.stream.duration else None)
    self.codec = ctx.name
    self.copy_streams = ([s for s in self.container.streams
                          if s.type in ("audio", "subtitle")] if copy_streams else [])
    self.decoded = 0

  def close(self):
    self.container.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()
    return False

  def items(self):
    """Yields ('frame', av.VideoFrame) and ('packet', av.Packet) in file order;
    the frames of the video stream, the packets of :attr:`copy_streams`."""
    av = import_av()
    streams = [self.stream] + list(self.copy_streams)
    self.end_time = 0.0  # latest packet end seen in any stream (s)
    try:
      for packet in self.container.demux(streams):
        if packet.pts is not None and packet.time_base is not None:
          end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
          self.end_time = max(self.end_time, end)
        if packet.stream.index == self.stream.index:
          for frame in packet.decode():
            self.decoded += 1
            yield "frame", frame
        elif packet.dts is not None and packet.size:
          yield "packet", packet
    except av.FFmpegError as err:
      raise VideoError(f"{self.path}: corrupt or truncated video after "
                       f"{self.decoded} frames: {_reason(err)}") from None
    if self.decoded == 0:
      raise VideoError(f"{self.path}: no frame could be decoded (corrupt or truncated video)")
    if self.frames and self.decoded < self.frames:
      raise VideoError(f"{self.path}: truncated video: {self.decoded} of {self.frames} "
                       f"frames could be decoded")
    # A file cut short ends every stream before the duration its header announces.
    if self.container.duration and not self.frames:
      start = float(self.container.start_time or 0) / 1e6
      announced = float(self.container.duration) / 1e6
      slack = max(0.25, 3.0 / float(self.rate)) if self.rate else 0.25
      if self.end_time - start < announced - slack:
        raise VideoError(f"{self.path}: truncated video: it ends at {self.end_time - start:.2f}"
                         f" s of the {announced:.2f} s its header announces "
                         f"({self.decoded} frames decoded)")

  def frames_rgb(self):
    """Yields (rgb uint8 (H, W, 3), time in seconds or None) of every frame."""
    for kind, item in self.items():
      if kind == "frame":
        yield to_rgb(item), frame_time(item)


def to_rgb(frame):
  return frame.to_ndarray(format="rgb24")


def to_gray(frame):
  """A frame as a float32 (H, W) map in [0, 1] (its luma, full range)."""
  return frame.to_ndarray(format="gray").astype(np.float32) * np.float32(1.0 / 255.0)


def frame_time(frame):
  return float(frame.time) if frame.time is not None else None


def container_format(path):
  ext = os.path.splitext(os.fspath(path))[1].lower()
  if ext not in _FORMATS:
    raise VideoError(f"{path}: unsupported video output extension {ext or '(none)'} "
                     f"(use one of {', '.join(sorted(_FORMATS))})")
  return _FORMATS[ext]


def codec_name(codec, fmt):
  """The encoder for a requested codec name (aliases like 'h264' resolved; None:
  H.264, or VP9 in WebM, which cannot hold H.264)."""
  if codec is None:
    return _WEBM_CODEC if fmt == "webm" else DEFAULT_CODEC
  return _CODEC_ALIASES.get(codec.lower(), codec)


class VideoWriter:
  """Encodes frames into a temporary file; :meth:`commit` gives it its name.

  reader: the :class:`VideoReader` whose frame size, rate, timestamps' time base and
  copy streams the output takes; codec / crf / preset: the encoder (crf and preset
  where the encoder knows them); overwrite: whether :meth:`commit` may replace an
  existing file.
  """

  def __init__(self, path, reader, codec=None, crf=DEFAULT_CRF, preset=DEFAULT_PRESET,
               overwrite=False, rotation=0, threads=0):
    av = import_av()
    self.path = os.fspath(path)
    self.overwrite = overwrite
    fmt = container_format(self.path)
    directory = os.path.dirname(os.path.abspath(self.path))
    try:
      os.makedirs(directory, exist_ok=True)
      fd, self.tmp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
      os.close(fd)
    except OSError as err:
      raise VideoError(f"cannot write in {directory}: {err.strerror or err}") from None
    self.container = None
    try:
      self.container = av.open(self.tmp, "w", format=fmt)
      name = codec_name(codec, fmt)
      options = {}
      if crf is not None and name in ("libx264", "libx265", "libvpx-vp9", "libaom-av1",
                                      "libsvtav1"):
        options["crf"] = str(crf)
        if name == "libvpx-vp9":
          options["b"] = "0"
      if preset and name in ("libx264", "libx265"):
        options["preset"] = preset
      try:
        stream = self.container.add_stream(name, rate=reader.rate or 30, options=options)
      except (av.FFmpegError, ValueError) as err:
        raise VideoError(f"{self.path}: unknown or unavailable video codec {name!r}: "
                         f"{_reason(err)}") from None
      stream.width, stream.height = reader.width, reader.height
      even = reader.width % 2 == 0 and reader.height % 2 == 0
      formats = [f.name for f in (stream.codec_context.codec.video_formats or [])]
      stream.pix_fmt = ("yuv420p" if even and (not formats or "yuv420p" in formats)
                        else "yuv444p" if "yuv444p" in formats else formats[0])
      if threads:
        stream.codec_context.thread_count = threads
      self.time_base = reader.time_base
      stream.time_base = self.time_base
      stream.codec_context.time_base = self.time_base
      if rotation and hasattr(stream, "set_display_rotation"):  # PyAV >= 16 or so
        stream.set_display_rotation(rotation)
      self.stream = stream
      self.copied = {}
      for s in reader.copy_streams:
        try:
          self.copied[s.index] = self.container.add_stream_from_template(s)
        except (av.FFmpegError, ValueError) as err:
          raise VideoError(f"{self.path}: cannot carry {s.type} stream {s.index} "
                           f"({s.codec_context.name}) into this container: "
                           f"{_reason(err)}") from None
      self.frames = 0
      self.next_pts = 0
      self.last_pts = None
      self.rate = reader.rate
    except BaseException:
      self.abort()
      raise

  def write(self, rgb, pts=None):
    """Encodes one (H, W, 3) uint8 RGB frame at ``pts`` (in the input's time base;
    None: one frame interval after the previous)."""
    av = import_av()
    if pts is None or (self.last_pts is not None and pts <= self.last_pts):
      pts = self.next_pts if self.last_pts is None else max(self.next_pts, self.last_pts + 1)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.pts = pts
    frame.time_base = self.time_base
    self.last_pts = pts
    step = (int(round(1 / (self.rate * self.time_base))) if self.rate else 1) or 1
    self.next_pts = pts + step
    try:
      for packet in self.stream.encode(frame):
        self.container.mux(packet)
    except av.FFmpegError as err:
      raise VideoError(f"{self.path}: encoding failed: {_reason(err)}") from None
    self.frames += 1

  def write_packet(self, packet):
    """Muxes a packet of one of the reader's copy streams unchanged."""
    av = import_av()
    out = self.copied.get(packet.stream.index)
    if out is None:
      return
    packet.stream = out
    try:
      self.container.mux(packet)
    except av.FFmpegError as err:
      raise VideoError(f"{self.path}: cannot write {out.type} packet: {_reason(err)}") from None

  def commit(self):
    """Flushes the encoder, closes the file and gives it its final name."""
    av = import_av()
    try:
      for packet in self.stream.encode(None):
        self.container.mux(packet)
      self.container.close()
      self.container = None
      os.chmod(self.tmp, 0o666 & ~_umask())
      if self.overwrite:
        os.replace(self.tmp, self.path)
      else:
        from cudi_jax.io import atomic  # the still path's exclusive rename
        from cudi_jax.io.errors import OutputExistsError
        try:
          atomic.create_exclusively(self.tmp, self.path)
        except OutputExistsError:
          raise VideoOutputExistsError(f"{self.path} exists") from None
    except av.FFmpegError as err:
      self.abort()
      raise VideoError(f"{self.path}: encoding failed: {_reason(err)}") from None
    except OSError as err:
      self.abort()
      raise VideoError(f"{self.path}: cannot write: {err.strerror or err}") from None
    except BaseException:
      self.abort()
      raise
    self._remove_tmp()

  def abort(self):
    """Closes and removes the temporary file (nothing is left under any name)."""
    if self.container is not None:
      try:
        self.container.close()
      except Exception:  # pylint: disable=broad-except - removing it anyway
        pass
      self.container = None
    self._remove_tmp()

  def _remove_tmp(self):
    try:
      os.unlink(self.tmp)
    except OSError:
      pass


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask
