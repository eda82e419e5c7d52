"""A stateful per-frame enhancer: frames from any source, in order, with exposure that
does not flicker (:mod:`cudi_jax.video.temporal`).

    from cudi_jax.runtime import load_student
    from cudi_jax.video import VideoEnhancer
    enhancer = VideoEnhancer(load_student(), exposure="auto")
    for frame, t in frames:                  # (H, W, 3) uint8 RGB, time in seconds
      out = enhancer.enhance(frame, time=t)  # same shape and dtype

NumPy only (no PyAV): file input and output are :mod:`cudi_jax.video.pipeline`'s.
"""
import numpy as np

from cudi_jax import student_math
from cudi_jax.errors import CudiError
from cudi_jax.video import _runtime_adapter as rt
from cudi_jax.video import temporal


class VideoFrameError(CudiError, ValueError):
  """A frame that cannot be enhanced (wrong shape or dtype)."""


#: The network's grid is kept at most this many cells (twice a 1080p frame's 480 x 270
#: 4x4 cells): larger frames run the network on 8x8 cells (4K) or 16x16 (8K).
MAX_GRID_CELLS = 2 * 480 * 270


def network_cell(height, width, max_cells=MAX_GRID_CELLS):
  """The cell size video runs the network at for frames of this size: 4 (the model's
  own, as stills) up to 1440p, 8 for 4K, 16 for 8K -- so that the network sees about
  the same picture, and costs about the same, at any resolution."""
  cell = 4
  while cell < max(student_math.CELLS) and -(-height // cell) * -(-width // cell) > max_cells:
    cell *= 2
  return cell


class VideoEnhancer:
  """Enhances the frames of one video, in order.

  model: a :class:`cudi_jax.runtime.StudentRuntime`.
  exposure: 'auto' (default), 'under', 'over', 'adaptive', a number in [0, 1], an
    exposure-map array (any size, resized to the frames) or the path of a map image;
    each frame's own ``exposure_map`` (e.g. a frame of a map video) overrides it.
  color: 'natural' or 'network' (as for ``model.enhance``).
  cell: the cell size the network runs at: None (the default) picks it by frame size
    (:func:`network_cell`: 4 up to 1440p, 8 for 4K, 16 for 8K), or 4, 8 or 16 (4 is
    what stills use).
  smoothing: a :class:`cudi_jax.video.temporal.Smoothing`, or None to process every
    frame independently (exactly as the still-photo path would, at cell 4). With smoothing, the
    enhanced frame is blended with the frame itself where the output would otherwise
    brighten faster than ``max_rise`` or not darken with a fade out (every setting but
    a per-frame map).

  ``auto`` makes each frame's map as stills do (the balanced rule for dark frames,
  with the night ceiling in noisy ones; the steady rule for bright ones), judged at
  the smoothed brightness, with the frames' dark noise averaged over time and the map
  smoothed per cell; fades stay fades through the blend above.

  :meth:`enhance` takes (H, W, 3) uint8 or uint16 RGB frames and returns the enhanced
  frame (same shape and dtype; ``out=`` to write into a given array). Frames of one
  enhancer must share a size; call :meth:`reset` (or make a new enhancer) between
  unrelated videos. :attr:`last` holds what the last frame used (for inspection).
  """

  def __init__(self, model, exposure="auto", color="natural",
               smoothing=temporal.Smoothing(), cell=None):
    self.model = model
    self.color = color
    self.cell_setting = None if cell is None else student_math.check_cell(cell)
    self.cell = None  # the frames' cell size (set by the first frame)
    self.smoothing = smoothing
    kind, value = rt.parse_setting(exposure)
    if kind == "file":
      kind, value = "array", rt.read_map_file(value)
    if kind == "name" and value in ("under", "over"):
      kind, value = "value", rt.named_value(model, value)
    self.kind, self.value = kind, value
    self._map_cells = {}  # (frame size, cell) -> cells of a static map
    self.state = temporal.TemporalState(smoothing) if smoothing is not None else None
    self.shape = None
    self.last = {}

  def reset(self):
    """Forget the history (the next frame starts afresh, as after a scene cut)."""
    if self.state is not None:
      self.state.reset()
    self.shape = None
    self.cell = None

  @property
  def scene_cuts(self):
    return self.state.scene_cuts if self.state is not None else 0

  def _check(self, frame):
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype not in (np.uint8, np.uint16):
      raise VideoFrameError(f"frames must be (H, W, 3) uint8 or uint16 RGB, got "
                            f"{frame.dtype} {frame.shape}")
    if self.shape is not None and frame.shape != self.shape:
      raise VideoFrameError(f"frame size changed from {self.shape[1]}x{self.shape[0]} to "
                            f"{frame.shape[1]}x{frame.shape[0]} (call reset() between "
                            f"videos)")
    if self.shape is None:
      self.cell = self.cell_setting or network_cell(*frame.shape[:2])
    self.shape = frame.shape
    return frame

  def enhance(self, frame, time=None, exposure_map=None, out=None):
    """The enhanced frame. time: its timestamp in seconds (None: frames are taken as
    1/30 s apart); exposure_map: this frame's own map (overrides the setting)."""
    frame = self._check(frame)
    if out is None:
      out = np.empty_like(frame)
    h, w = frame.shape[:2]
    model, cell = self.model, self.cell
    # The frame's cell sums, read once: its cell brightness, and the network's input.
    sums = rt.cell_sums(model, frame, cell)
    cells = rt.brightness_of_sums(sums, frame.dtype, cell)
    mean = float(cells.mean(dtype=np.float64))
    dt, cut = (self.state.step(cells, time) if self.state is not None else (0.0, False))
    mean_s = self.state.smooth_mean(mean, dt) if self.state is not None else mean
    # (The brightness the calibration is looked up at: held through a fade in.)
    lookup = self.state.lookup_mean(mean_s, dt) if self.state is not None else mean
    kind, value = self.kind, self.value
    if exposure_map is not None:
      kind, value = "frame_map", exposure_map
    self.last = {"mean": mean, "mean_smoothed": mean_s, "cut": cut, "kind": kind}
    calibrated = rt.has_response_calibration(model)
    if kind == "name" and value == "auto":
      target = rt.auto_target(model, lookup)

      def noise():
        n = rt.dark_noise(model, frame, cells, cell)
        return n if self.state is None else self.state.smooth_noise(n)

      e, ceiling = rt.auto_map(model, cells, noise, mean_s, target,
                               smoothed=self.state is not None)
      if self.state is not None:
        e = self.state.cells.update(e)
      self.last["target"] = target
      tempered = rt.auto_steps(model, cells, mean_s, ceiling)
      return self._run(frame, e, dt, out, sums, tempered=tempered)
    if kind == "value":
      fed = rt.feed(model, float(value), lookup) if calibrated else float(value)
      self.last["fed"] = fed
      return self._run(frame, fed, dt, out, sums)
    if kind == "name" and value == "adaptive":
      lo, hi = rt.luminance_range(model, frame)
      if self.state is not None:
        lo, hi = self.state.smooth_range(lo, hi, dt)
      e = rt.adaptive_cells(model, frame, lo, hi, cell, sums)
    elif kind == "frame_map":
      try:
        e = rt.map_cells(value, h, w, cell)
      except rt.ExposureError as err:
        raise VideoFrameError(f"exposure map: {err}") from None
    else:  # a static map
      e = self._map_cells.get((h, w, cell))
      if e is None:
        try:
          e = self._map_cells[(h, w, cell)] = rt.map_cells(value, h, w, cell)
        except rt.ExposureError as err:
          raise VideoFrameError(f"exposure map: {err}") from None
    if calibrated:
      e = rt.feed(model, e, lookup)
    # A per-frame map is the user's own exposure for this very frame: used as given.
    return self._run(frame, e, dt, out, sums, ease=kind != "frame_map")

  def _run(self, frame, fed, dt, out, sums, ease=True, tempered=None):
    """Runs the network with ``fed`` (a number or a per-cell map); with ``ease``, where
    the output would brighten faster than the smoothing allows, or not darken with a
    fade out, blends it back towards the frame just enough
    (:meth:`cudi_jax.video.temporal.TemporalState.ease`)."""
    kind = "const" if np.ndim(fed) == 0 else "cells"
    if self.state is None:
      return rt.run(self.model, frame, kind, fed, out, self.color, sums, tempered, self.cell)
    given = temporal.mean_brightness(frame)
    if ease and np.shares_memory(out, frame):  # in place: keep the frame for a blend
      frame = frame.copy()
    rt.run(self.model, frame, kind, fed, out, self.color, sums, tempered, self.cell)
    made = temporal.mean_brightness(out)
    if not ease:
      self.state.observe(made, given)
      return out
    weight = self.state.ease(made, given, dt)
    self.last["weight"] = weight
    if weight < 1.0:
      temporal.blend_toward(out, frame, weight)
      self.state.observe(temporal.mean_brightness(out))
    return out
