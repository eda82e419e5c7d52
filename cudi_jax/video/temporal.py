"""Causal temporal smoothing of what an exposure setting measures on each frame.

What varies from frame to frame with the content (the mean brightness that sets
``auto``'s target and the calibration lookups, the luminance range of 'adaptive', the
per-cell map) is smoothed so that the exposure holds still under constant light,
follows real changes (a light switched on, a pan into a dark room) within about half a
second, and starts afresh at scene cuts. NumPy only; nothing here knows the network.

* :class:`Follower`: a one-pole filter whose time constant depends on how far the
  new value is from the filtered one: ``hold_s`` (slow) for deviations well inside
  ``deadband``, ``follow_s`` (fast) for larger ones. Its output always lies between
  its previous output and the new value (no overshoot), so a monotonic input (a fade)
  gives a monotonic output. Time steps come from the frames' timestamps (variable
  frame rate included).
* :class:`CellFilter`: per-cell smoothing of a map that lets real changes through:
  a cell whose new value differs from its filtered one by more than ``band`` takes
  the new value; smaller differences (noise) are averaged.
* :meth:`TemporalState.ease`: how much of an enhanced frame to keep (blended with the
  frame itself) so that the output's mean brightness rises by at most a set amount a
  second (a fade from black, a light switched on) and falls with the frame's in a fade;
  :func:`mean_brightness` reads a frame's mean for it, :func:`blend_toward` blends.
* :class:`SceneCutDetector`: a cut is a change of the picture's *structure* (its
  brightness relative to its own mean, on a coarse grid), not of its overall level,
  so a light switched on is followed, not cut.
"""
import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class Smoothing:
  """Settings of the temporal smoothing (times in seconds)."""
  #: Time constant for large changes: a step is followed to within 5% in ~3x this.
  follow_s: float = 0.15
  #: Time constant for small wobbles (content moving under constant light).
  hold_s: float = 2.0
  #: Size of a 'small' change of log brightness (~10%).
  deadband: float = 0.1
  #: Per-cell map: differences below this are averaged, above it followed at once.
  cell_band: float = 0.06
  #: Per-cell map: weight of the previous value for unchanged cells.
  cell_keep: float = 0.6
  #: Scene cut: mean absolute change of the coarse relative-brightness grid.
  cut_threshold: float = 0.15
  #: Brightness below which frames count as black (fades): log brightness is
  #: measured against this floor so that a fade to black is not chased.
  black: float = 0.01
  #: A brightness changing faster than this (log brightness per second, measured over
  #: ``motion_window_s``) is still on the move (a fade, a slow pan): it is held with
  #: ``moving_s`` and followed once it settles, so a fade stays a fade.
  motion_rate: float = 0.3
  motion_window_s: float = 0.15
  moving_s: float = 4.0
  #: Frames darker than this are never cut from (their structure is mostly noise), and
  #: a held brightness below it is not held (a fade from black is followed).
  cut_black: float = 0.03
  #: Frame interval assumed when a frame has no timestamp.
  default_dt: float = 1.0 / 30.0
  #: The output's mean brightness rises by at most this per second (0.015 a frame at
  #: 30 frames/s): a fade from black or a light switched on brightens smoothly instead
  #: of jumping (the enhanced frame is blended with the frame itself just enough; it is
  #: never made darker than the frame itself). None: no limit.
  max_rise: float = 0.45
  #: The output does not brighten while the frame darkens, falls at least in
  #: proportion while it darkens faster than ``motion_rate`` (a fade out) and stays
  #: black after a fade to black (see :meth:`TemporalState.ease`).
  fade_follow: bool = True
  #: A fall of the log brightness over ``motion_window_s`` larger than this counts as
  #: darkening (smaller ones are noise).
  fall_margin: float = 0.02
  #: A brightening that goes on for this long is a fade in: the brightness the
  #: calibration is looked up at (:meth:`TemporalState.lookup_mean`) stays where it was
  #: before it, through the fade and after, until the picture darkens or cuts (never
  #: below 1 / ``lock_band`` of the picture's brightness). None: never locked.
  fade_lock_s: float = 0.25
  lock_band: float = 3.0
  #: Through a fade in (a locked lookup, the picture still brightening), the output
  #: approaches what the network makes with this time constant instead of meeting it:
  #: the frames of a fade are made brighter than where it ends (``auto`` lands a dimmed
  #: copy of a scene brighter than the scene), and met at once they would come back
  #: down before the fade ends. Once the picture stops brightening the output catches
  #: up within ``max_rise``. None: met at once.
  fade_in_s: float = 1.0
  #: Otherwise the lookup follows the smoothed mean with this time constant (a change
  #: of the calibration at once steps the output: 0.04 at the start of a fade out
  #: after a fade in).
  lookup_s: float = 1.0
  #: Time constant of the frames' dark noise (``auto``'s noise limit and night ceiling):
  #: a frame's own estimate moves with what its dark rows show.
  noise_s: float = 1.0


#: No smoothing: every frame as the still-photo path would process it.
OFF = None

#: How much a frame's mean brightness moves with noise (a tenth of an 8-bit level, plus
#: 0.5% of it): changes within this are not darkening for :meth:`TemporalState.ease`.
MEAN_NOISE = 0.1 / 255.0
#: After a fade to black, a brightening of the frame's mean by more than this (one
#: 8-bit level) releases the output.
BLACK_RELEASE = 1.0 / 255.0


def mean_brightness(frame, rows=135):
  """Mean RGB brightness in [0, 1] of an (H, W, 3) uint8/uint16 frame, read on about
  ``rows`` evenly spaced rows (an odd spacing: the rows read meet every row of
  :func:`blend_toward`'s dither)."""
  step = max(1, frame.shape[0] // rows) | 1
  return float(frame[::step].mean(dtype=np.float64)) / float(np.iinfo(frame.dtype).max)


def _bayer(n):
  """The n x n ordered-dither (Bayer) matrix of the values 0 .. n*n - 1 (n a power of 2)."""
  m = np.zeros((1, 1), np.int64)
  while m.shape[0] < n:
    m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
  return m


#: Rounding offsets in (0, 1) of an ordered dither: rounded with these, a blend keeps
#: its mean brightness even where it moves pixels by less than half a level.
_DITHER = ((_bayer(16) + 0.5) / 256.0).astype(np.float32)


def blend_toward(out, frame, weight, rows=32):
  """``out = frame + weight * (out - frame)`` in place (uint8/uint16 frames of one
  shape; ``out`` must not share memory with ``frame``), a few rows at a time, rounded
  with an ordered dither (so that the mean is that of the blend however close
  ``weight`` is to 1). uint16 is blended in float64 (float32 cannot hold 65535 plus a
  fraction)."""
  if weight <= 0.0:
    np.copyto(out, frame)
    return out
  dtype = np.float32 if out.dtype == np.uint8 else np.float64
  w = dtype(weight)
  top = dtype(np.iinfo(out.dtype).max)
  width = out.shape[1]
  reps = (-(-rows // 16), -(-width // 16))
  dither = np.tile(_DITHER, reps)[:rows, :width, None].astype(dtype)
  for y in range(0, out.shape[0], rows):
    o, f = out[y:y + rows], frame[y:y + rows]
    t = np.subtract(o, f, dtype=dtype)
    t *= w
    t += f
    t += dither[:o.shape[0]]
    np.minimum(t, top, out=t)  # (a blend lies between two values of the dtype)
    np.copyto(o, t, casting="unsafe")
  return out


class Follower:
  """One-pole smoothing of a scalar with a change-dependent time constant."""

  def __init__(self, follow_s, hold_s, deadband):
    self.follow_s, self.hold_s, self.deadband = follow_s, hold_s, deadband
    self.value = None

  def reset(self, value=None):
    self.value = value

  def update(self, x, dt, moving_s=None):
    """The filtered value after ``x`` arrived ``dt`` seconds after the previous value.
    moving_s: the time constant to use instead while the input is still on the move
    (a fade: it is followed once it has settled)."""
    if self.value is None or not math.isfinite(self.value):
      self.value = float(x)
      return self.value
    d = float(x) - self.value
    near = math.exp(-(d / self.deadband) ** 2)
    tau = self.follow_s + (self.hold_s - self.follow_s) * near
    if moving_s is not None:
      tau = max(tau, moving_s)
    a = 1.0 - math.exp(-max(dt, 0.0) / tau)
    self.value += a * d
    return self.value


class CellFilter:
  """Per-cell smoothing of a map that passes changes larger than ``band``."""

  def __init__(self, band, keep):
    self.band, self.keep = band, keep
    self.value = None

  def reset(self):
    self.value = None

  def update(self, x):
    x = np.asarray(x, np.float32)
    if self.value is None or self.value.shape != x.shape:
      self.value = x.copy()
      return self.value
    d = self.value - x  # previous minus new
    k = np.abs(d)
    k *= np.float32(-1.0 / self.band)
    k += np.float32(1.0)
    np.clip(k, 0.0, 1.0, out=k)
    k *= np.float32(self.keep)
    d *= k
    d += x
    self.value = d
    return d


def coarse_grid(cells, size=16):
  """A (<= size, <= size) grid of block means of a (h, w) map."""
  h, w = cells.shape
  by, bx = max(1, h // size), max(1, w // size)
  ny, nx = h // by, w // bx
  return cells[:ny * by, :nx * bx].reshape(ny, by, nx, bx).mean(axis=(1, 3), dtype=np.float64)


class SceneCutDetector:
  """Flags frames whose structure differs from the previous frame's."""

  def __init__(self, threshold, black=0.01):
    self.threshold, self.black = threshold, black
    self.previous = None
    self.last_change = 0.0

  def reset(self):
    self.previous = None

  def update(self, cells):
    grid = coarse_grid(cells)
    m = grid.mean()
    rel = grid / max(m, self.black)
    prev, self.previous = self.previous, rel
    prev_m, self.previous_mean = getattr(self, "previous_mean", 0.0), m
    if prev is None or prev.shape != rel.shape:
      self.last_change = 0.0
      return prev is not None
    self.last_change = float(np.mean(np.abs(rel - prev)))
    # Near-black frames (the ends of fades) have no reliable structure: never a cut.
    return min(m, prev_m) > self.black and self.last_change > self.threshold


class TemporalState:
  """The smoothed brightness statistics of a stream of frames."""

  def __init__(self, settings=None):
    self.settings = settings or Smoothing()
    s = self.settings
    self.mean = Follower(s.follow_s, s.hold_s, s.deadband)
    self.lo = Follower(s.follow_s, s.hold_s, s.deadband)
    self.hi = Follower(s.follow_s, s.hold_s, s.deadband)
    self.cells = CellFilter(s.cell_band, s.cell_keep)
    self.cuts = SceneCutDetector(s.cut_threshold, s.cut_black)
    self.last_time = None
    self.clock = 0.0
    self.recent = []  # (time, log brightness) over the last motion window
    self.moving = False
    self.darkening = self.falling = self.brightening = False
    self.frames = 0
    self.scene_cuts = 0
    self._forget_output()
    self._forget_lookup()

  def smooth_noise(self, noise):
    """The frames' dark noise averaged over time (``noise_s``), from this frame's
    estimate (after :meth:`step`); the first frame after a reset or a cut takes its
    own. Frames need not all measure it (bright ones do not): the average weighs this
    estimate by the time since the last one."""
    noise = max(float(noise), 0.0)
    if self.noise is None:
      self.noise = noise
    else:
      elapsed = max(self.clock - self.noise_clock, 0.0)
      self.noise += (noise - self.noise) * (1.0 - math.exp(-elapsed / self.settings.noise_s))
    self.noise_clock = self.clock
    return self.noise

  def _forget_lookup(self):
    self.lookup = None    # the brightness the calibration is looked up at
    self.rise_s = 0.0     # how long the picture has been brightening
    self.locked = False   # a fade in locked the lookup
    self.rising = False

  def reset(self):
    for f in (self.mean, self.lo, self.hi):
      f.reset()
    self.cells.reset()
    self.cuts.reset()
    self.last_time = None
    self.recent = []
    self.moving = False
    self.darkening = self.falling = self.brightening = False
    self._forget_output()
    self._forget_lookup()

  def _forget_output(self):
    self.noise = None   # the smoothed dark noise
    self.noise_clock = 0.0  # ... as of this time (self.clock)
    self.output = None  # the last frame's mean output brightness
    self.given = None   # ... and its input's
    self.faded = False  # a fade made the frame nearly black: the output is held
    self.fade_floor = 0.0  # the darkest frame since

  def step(self, cells, time=None):
    """Registers a frame (its cell brightness, its time in seconds or None);
    returns (dt, cut)."""
    if time is None:
      dt = self.settings.default_dt
      self.last_time = None if self.last_time is None else self.last_time + dt
    else:
      dt = self.settings.default_dt if self.last_time is None else time - self.last_time
      if not dt > 0:
        dt = self.settings.default_dt
      self.last_time = time
    cut = self.cuts.update(cells)
    if cut:
      self.scene_cuts += 1
      self.mean.reset()
      self.lo.reset()
      self.hi.reset()
      self.cells.reset()
      self.recent = []
      self._forget_output()
      self._forget_lookup()
    self.frames += 1
    self.clock += dt
    s = self.settings
    x = math.log(max(float(cells.mean(dtype=np.float64)), 0.0) + s.black)
    self.recent.append((self.clock, x))
    while len(self.recent) > 2 and self.clock - self.recent[1][0] >= s.motion_window_s:
      self.recent.pop(0)
    t0, x0 = self.recent[0]
    span = self.clock - t0
    self.moving = span > 0 and abs(x - x0) / max(span, s.motion_window_s) > s.motion_rate
    self.darkening = self.moving and x < x0
    self.falling = x0 - x > s.fall_margin  # over the motion window, at any rate
    self.brightening = x - x0 > s.fall_margin
    self.rising = self.moving and x > x0
    self.rise_s = self.rise_s + dt if self.rising else 0.0
    return dt, cut

  def lookup_mean(self, mean_s, dt):
    """The brightness to look the calibration up at (``auto``'s target, the maps
    table) for this frame, given its smoothed mean ``mean_s``.

    The tables ask dimmer photos for more (they are medians over photos of each
    brightness), so a fade in, looked up frame by frame, brightens past where it ends
    and comes back. Here the lookup holds while the picture brightens; a brightening
    that lasts ``fade_lock_s`` (a fade, not a light switched on) locks it: it stays
    through the fade and after, until the picture darkens or cuts; otherwise it
    follows ``mean_s`` with the time constant ``lookup_s``. A held or locked lookup
    never falls below 1 / ``lock_band`` of the picture's brightness (a fade into a
    bright scene draws it along)."""
    s = self.settings
    if self.lookup is None:
      self.lookup = float(mean_s)
      return self.lookup
    if s.fade_lock_s is not None and self.rising and self.rise_s >= s.fade_lock_s:
      self.locked = True
    if self.locked and (self.falling or mean_s < self.lookup):
      self.locked = False
    if not (self.locked or self.rising):
      self.lookup += (float(mean_s) - self.lookup) * (1.0 - math.exp(-max(dt, 0.0) / s.lookup_s))
    else:
      # Never below 1 / lock_band of the picture's brightness (a fade into a bright
      # scene draws it along, continuously: a jump would show as a step).
      self.lookup = max(self.lookup, float(mean_s) / s.lock_band)
    return self.lookup

  def smooth_mean(self, mean, dt):
    """Smoothed mean brightness (filtered in log brightness above the black floor)."""
    black = self.settings.black
    x = math.log(max(float(mean), 0.0) + black)
    held = self.mean.value
    moving = None
    # Held only while darkening from a real level (a fade out, a pan into the dark):
    # a brightening held at a dark level's gain would burn out.
    if (self.moving and held is not None and x < held
        and math.exp(held) - black > self.settings.cut_black):
      moving = self.settings.moving_s
    # A steady brightening (a fade in, a light switched on) is followed exactly: a
    # lagging dark level's gain would take the output past where it settles, and a
    # lag left at its end would settle back down after it.
    if self.moving and not self.darkening and held is not None and x > held:
      self.mean.reset(x)
      return max(float(mean), 0.0)
    return max(math.exp(self.mean.update(x, dt, moving)) - black, 0.0)

  def ease(self, made, given, dt):
    """How much of the enhanced frame to keep: the weight w in [0, 1] of the blend
    ``given + w * (made - given)`` (``made``, ``given``: the mean brightness of the
    enhanced frame and of the frame itself, read the same way on every frame). As far
    as blending with the frame can (the output is never made darker than the frame
    itself), the blend's mean brightness is kept

    * at most ``max_rise * dt`` above the last output's (a fade from black, a light
      switched on);
    * with ``fade_follow``: no brighter than the last output's while the frame darkens
      (since the last frame by more than noise moves a frame's mean, or over the motion
      window); while it darkens fast (a fade out, see :meth:`step`), no brighter than
      the last output's times the frame's own darkening since the last frame (the
      output fades with it instead of holding up and dropping at the end); and once
      such a fade has made the frame nearly black (below ``black``), no brighter than
      the last output's until the frame brightens by more than a level (after a fade
      to black the output stays black);
    * with ``fade_in_s``: through a fade in (the lookup locked, see
      :meth:`lookup_mean`, and the frame still brightening over the motion window), at
      most ``1 - exp(-dt / fade_in_s)`` of the way from the last output's up to
      ``made`` (the fade's frames come out brighter than its end: met at once, the
      output would come back down before the fade ends).

    1 on the first frame after a reset or a cut."""
    s = self.settings
    ceiling = math.inf
    last, last_given = self.output, self.given
    if last is not None:
      if s.max_rise is not None:
        ceiling = last + s.max_rise * dt
      if s.fade_follow:
        tol = MEAN_NOISE + 0.005 * last_given  # a frame's mean moves this much anyway
        if given < last_given - tol or self.falling:
          fading = self.darkening and given < last_given
          ceiling = min(ceiling, last * given / last_given if fading else last)
          if self.darkening and not self.faded:
            self.faded, self.fade_floor = True, given
        if self.faded:
          self.fade_floor = min(self.fade_floor, given)
          if given >= s.black or given > self.fade_floor + max(tol, BLACK_RELEASE):
            self.faded = False
          else:
            ceiling = min(ceiling, last)
    if (s.fade_in_s is not None and last is not None and self.locked and self.brightening
        and made > last):
      ceiling = min(ceiling, last + (made - last) * (1.0 - math.exp(-dt / s.fade_in_s)))
    w = 1.0
    if made > ceiling and made > given:
      w = min(max((ceiling - given) / (made - given), 0.0), 1.0)
    self.output = given + w * (made - given)
    self.given = given
    return w

  def observe(self, output, given=None):
    """The output's mean brightness as made (after the blend :meth:`ease` asked for,
    which rounding moves a little; or of a frame made without it, whose input's mean
    is then ``given``), read as :meth:`ease`'s ``made`` and ``given`` are."""
    self.output = float(output)
    if given is not None:
      self.given = float(given)

  def smooth_range(self, lo, hi, dt):
    """Smoothed luminance range (each end filtered linearly)."""
    moving = self.settings.moving_s if self.moving else None
    lo_s = self.lo.update(lo, dt, moving)
    hi_s = self.hi.update(hi, dt, moving)
    return lo_s, max(hi_s, lo_s)
