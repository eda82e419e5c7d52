"""One photo being edited: its preview, the painted exposure map, undo and redo, saving.

The requested exposure map (the target brightness of each pixel, what a map file
holds) is ``clip(base + offset, 0, 1)``: ``base`` is the map of the global setting
(auto, a value, a preset, or the map file the editor was opened with) and ``offset``
what the brush painted on top of it, so the global setting can change under the
painting. Both are held at preview resolution (the photo downscaled to
``preview_size`` pixels on its long side), where the preview is computed; saving
computes the base at the photo's full size, adds the offset resized bilinearly,
writes that map as a 16-bit PNG and then the photo enhanced with it, through the code
of ``cudi enhance --exposure-map``.

Not thread-safe by itself: the server holds :attr:`lock` around every call.
"""
import io
import os
import threading
import time

import numpy as np
from PIL import Image

from cudi_jax.edit import adapter
from cudi_jax.edit import brush
from cudi_jax.io import decode, encode, errors as io_errors

#: Long side of the preview, in pixels.
DEFAULT_PREVIEW_SIZE = 1280
#: JPEG quality of the preview images sent to the browser.
PREVIEW_QUALITY = 88
#: Undo history bounds: steps, and bytes of stored map patches.
HISTORY_STEPS = 200
HISTORY_BYTES = 256 << 20


class SaveExistsError(Exception):
  """Saving would replace files that exist (the browser asks before replacing)."""

  def __init__(self, paths):
    super().__init__("exists: " + ", ".join(paths))
    self.paths = list(paths)


def default_outputs(photo_path):
  """Default output and map names beside the photo: PHOTO_edited.EXT (PNG for formats
  Pillow cannot write) and PHOTO_edited_map.png."""
  folder, name = os.path.split(os.path.abspath(photo_path))
  stem, ext = os.path.splitext(name)
  if ext.lower() not in encode.EXTENSIONS:
    ext = ".png"
  output = os.path.join(folder, f"{stem}_edited{ext}")
  return output, map_name_for(output)


def map_name_for(output_path):
  """The map saved with an output: OUTPUT_STEM_map.png."""
  stem = os.path.splitext(os.path.abspath(output_path))[0]
  return f"{stem}_map.png"


def preview_shape(height, width, preview_size):
  scale = min(1.0, float(preview_size) / max(height, width))
  return max(1, int(round(height * scale))), max(1, int(round(width * scale)))


def _resize_channel(channel, height, width):
  img = Image.fromarray(np.ascontiguousarray(channel, np.float32), mode="F")
  return np.asarray(img.resize((width, height), Image.LANCZOS, reducing_gap=3.0), np.float32)


def downscale(array, height, width):
  """A photo (any layout the runtime takes) as RGB of (height, width): uint8 photos stay
  uint8, others become uint16 (float photos: scaled by 65535)."""
  rgb = decode.rgb_channels(array)
  if rgb.dtype == np.uint8:
    if rgb.shape[:2] == (height, width):
      return np.ascontiguousarray(rgb)
    img = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    return np.asarray(img.resize((width, height), Image.LANCZOS, reducing_gap=3.0))
  scale = 1.0 if rgb.dtype == np.uint16 else 65535.0
  out = np.empty((height, width, 3), np.uint16)
  for c in range(3):
    channel = rgb[..., c].astype(np.float32) * np.float32(scale)
    if rgb.shape[:2] != (height, width):
      channel = _resize_channel(channel, height, width)
    out[..., c] = np.clip(np.floor(channel + 0.5), 0, 65535)
  return out


def encode_jpeg(array):
  """(h, w, 3) uint8 / uint16 -> JPEG bytes."""
  buf = io.BytesIO()
  Image.fromarray(encode.to_8bit(array), mode="RGB").save(
      buf, format="JPEG", quality=PREVIEW_QUALITY)
  return buf.getvalue()


def encode_png_gray(array):
  """(h, w) float in [0, 1] -> an 8-bit grayscale PNG (fast compression)."""
  buf = io.BytesIO()
  Image.fromarray(encode.to_8bit(array), mode="L").save(buf, format="PNG",
                                                           compress_level=1)
  return buf.getvalue()


def parse_setting(value, has_file_map=False):
  """A global setting from the browser: a number in [0, 1], one of
  adapter.NAMED_SETTINGS, or 'file' (the map the editor was opened with)."""
  if isinstance(value, bool):
    raise ValueError("setting must be a number in [0, 1] or a name")
  if isinstance(value, (int, float)):
    value = float(value)
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
      raise ValueError(f"setting value must be in [0, 1], got {value}")
    return value
  if value == "file" and has_file_map:
    return value
  if isinstance(value, str) and value in adapter.NAMED_SETTINGS:
    return value
  names = list(adapter.NAMED_SETTINGS) + (["file"] if has_file_map else [])
  raise ValueError(f"setting must be a number in [0, 1] or one of {', '.join(names)}")


class EditSession:
  """The state of one editing run.

  model: the student runtime (:func:`adapter.load_model`); photo_path: the photo,
  read once here; output_path / map_path: where Save writes (named by the user or
  :func:`default_outputs`); exposure_map: an optional map (array at any size) to
  start from; preview_size: long side of the preview; color: as ``cudi enhance``.
  """

  def __init__(self, model, photo_path, output_path, map_path, exposure_map=None,
               preview_size=DEFAULT_PREVIEW_SIZE, color="natural"):
    self.model = model
    self.photo_path = os.fspath(photo_path)
    self.output_path = os.fspath(output_path)
    self.map_path = os.fspath(map_path)
    self.color = color
    self.lock = threading.RLock()
    picture = decode.read_image(self.photo_path)
    self.photo = picture.array
    self.full_shape = self.photo.shape[:2]
    self.shape = preview_shape(*self.full_shape, preview_size)
    self.small = downscale(self.photo, *self.shape)
    self.file_map = None
    if exposure_map is not None:
      adapter.fit_map(exposure_map, 1, 1)  # checks values and shape
      self.file_map = np.asarray(exposure_map)
    self.setting = "file" if self.file_map is not None else "auto"
    self.offset = np.zeros(self.shape, np.float32)
    self._bases = {}
    self._stroke = None
    self._stroke_id = None
    self._undo, self._redo = [], []
    self.version = 0
    self._preview = None  # (version, JPEG bytes)
    self._original = None
    self.last_compute_ms = 0.0

  # ---------------------------------------------------------------- maps

  def base(self, setting=None):
    """The requested map of a global setting at preview size (cached)."""
    setting = self.setting if setting is None else setting
    key = setting if isinstance(setting, str) else round(float(setting), 6)
    if key not in self._bases:
      if len(self._bases) > 8:
        self._bases.clear()
      if setting == "file":
        self._bases[key] = adapter.fit_map(self.file_map, *self.shape)
      else:
        self._bases[key] = adapter.setting_map(self.model, self.small, setting)
    return self._bases[key]

  def requested_map(self):
    """The current requested map at preview size, a pending stroke included."""
    base = self.base()
    offset = self.offset
    if self._stroke is not None and self._stroke.box is not None:
      offset = offset.copy()
      y0, y1, x0, x1 = self._stroke.box
      offset[y0:y1, x0:x1] = self._stroke.apply(self.offset[y0:y1, x0:x1],
                                                base[y0:y1, x0:x1])
    return np.clip(base + offset, 0.0, 1.0)

  def full_map(self):
    """The requested map at the photo's full size, as uint16 (what Save writes)."""
    h, w = self.full_shape
    if self.setting == "file":
      base = adapter.fit_map(self.file_map, h, w)
    else:
      base = adapter.setting_map(self.model, self.photo, self.setting)
    if np.any(self.offset):
      base = base + adapter.resize_map(self.offset, h, w)
    return np.floor(np.clip(base, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)

  # ---------------------------------------------------------------- images

  def original_jpeg(self):
    if self._original is None:
      self._original = encode_jpeg(self.small)
    return self._original

  def preview_jpeg(self):
    """The enhanced preview of the current state (cached per version)."""
    if self._preview is None or self._preview[0] != self.version:
      start = time.perf_counter()
      out = adapter.enhance(self.model, self.small, self.requested_map(), self.color)
      data = encode_jpeg(out)
      self.last_compute_ms = (time.perf_counter() - start) * 1000.0
      self._preview = (self.version, data)
    return self._preview[1]

  def map_png(self):
    return encode_png_gray(self.requested_map())

  def state(self):
    return {"version": self.version, "setting": self.setting,
            "can_undo": bool(self._undo), "can_redo": bool(self._redo),
            "painted": bool(np.any(self.offset)), "compute_ms": round(self.last_compute_ms, 1)}

  def info(self):
    return {"name": os.path.basename(self.photo_path),
            "width": int(self.full_shape[1]), "height": int(self.full_shape[0]),
            "preview_width": int(self.shape[1]), "preview_height": int(self.shape[0]),
            "output": os.path.basename(self.output_path),
            "map_output": os.path.basename(self.map_path),
            "has_file_map": self.file_map is not None,
            "presets": {"under": float(self.model.presets.under),
                        "over": float(self.model.presets.over)},
            "brush_step": brush.MAX_STEP, **self.state()}

  # ---------------------------------------------------------------- edits

  def paint(self, stroke_id, points, radius, strength, hardness, mode, done):
    """Continues (or starts) stroke ``stroke_id`` with more points; ``done`` ends it
    (one undo step). A new id ends any stroke left open."""
    if self._stroke is not None and stroke_id != self._stroke_id:
      self._commit_stroke()
    if self._stroke is None:
      self._stroke = brush.Stroke(self.shape, radius, hardness, strength, mode)
      self._stroke_id = stroke_id
    self._stroke.extend(points)
    self.version += 1
    if done:
      self._commit_stroke()

  def _commit_stroke(self):
    stroke, self._stroke, self._stroke_id = self._stroke, None, None
    if stroke is None or stroke.box is None:
      return
    y0, y1, x0, x1 = stroke.box
    old = self.offset[y0:y1, x0:x1].copy()
    new = stroke.apply(old, self.base()[y0:y1, x0:x1])
    if np.array_equal(old, new):
      return
    self.offset[y0:y1, x0:x1] = new
    self._push(("paint", stroke.box, old, new))

  def set_setting(self, setting):
    self._commit_stroke()
    if setting == self.setting:
      return
    self._push(("setting", self.setting, setting))
    self.setting = setting
    self.version += 1

  def clear(self):
    """Removes all painting (one undo step)."""
    self._commit_stroke()
    if not np.any(self.offset):
      return
    self._push(("clear", self.offset.copy(), None))
    self.offset[...] = 0.0
    self.version += 1

  def _push(self, entry):
    self._undo.append(entry)
    self._redo.clear()
    while len(self._undo) > HISTORY_STEPS or (
        len(self._undo) > 1 and sum(_entry_bytes(e) for e in self._undo) > HISTORY_BYTES):
      self._undo.pop(0)

  def undo(self):
    self._commit_stroke()
    if not self._undo:
      return False
    entry = self._undo.pop()
    self._apply(entry, backwards=True)
    self._redo.append(entry)
    self.version += 1
    return True

  def redo(self):
    self._commit_stroke()
    if not self._redo:
      return False
    entry = self._redo.pop()
    self._apply(entry, backwards=False)
    self._undo.append(entry)
    self.version += 1
    return True

  def _apply(self, entry, backwards):
    kind = entry[0]
    if kind == "paint":
      (y0, y1, x0, x1), old, new = entry[1:]
      self.offset[y0:y1, x0:x1] = old if backwards else new
    elif kind == "setting":
      self.setting = entry[1] if backwards else entry[2]
    elif kind == "clear":
      self.offset[...] = entry[1] if backwards else 0.0

  # ---------------------------------------------------------------- saving

  def save(self, overwrite=False):
    """Writes the map (16-bit grayscale PNG, the photo's size) and then the photo
    enhanced with it, as ``cudi enhance PHOTO --exposure-map MAP`` writes it.
    Raises SaveExistsError (nothing written) when either file exists and not
    ``overwrite``; io_errors.ImageIOError / adapter.MapError when writing fails."""
    self._commit_stroke()
    if not overwrite:
      existing = [p for p in (self.output_path, self.map_path) if os.path.lexists(p)]
      if existing:
        raise SaveExistsError([os.path.basename(p) for p in existing])
    start = time.perf_counter()
    try:
      encode.write_image(self.map_path, self.full_map(), "PNG", overwrite=overwrite)
      adapter.enhance_file(self.model, self.photo_path, self.output_path, self.map_path,
                           color=self.color, overwrite=overwrite)
    except io_errors.OutputExistsError:  # appeared since the check above
      raise SaveExistsError([os.path.basename(p) for p in (self.output_path, self.map_path)
                             if os.path.lexists(p)]) from None
    return {"output": os.path.basename(self.output_path),
            "map_output": os.path.basename(self.map_path),
            "seconds": round(time.perf_counter() - start, 2)}


def _entry_bytes(entry):
  return sum(a.nbytes for a in entry[1:] if isinstance(a, np.ndarray))
