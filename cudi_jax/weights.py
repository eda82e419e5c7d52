"""The exported-weights file format (NumPy only: no JAX, no pickle).

An export is a single ``.npz`` (an uncompressed zip of ``.npy`` members) holding

* one float32 array per parameter, named by its '/'-joined Flax path, e.g.
  ``conv3/pw_kernel`` for the student or ``enc1/conv0/kernel`` for the teacher;
* ``__metadata__``: a 1-D uint8 array, the UTF-8 bytes of a JSON object::

    {"format": "cudi-jax-export", "format_version": 1, "kind": "student",
     "architecture": {"name": "student", "width": 16, "in_channels": 4, "out_channels": 6},
     "exposure_presets": {"under": 0.55, "over": 0.25,
                          "adaptive": {"base": 0.55, "strength": 0.15},
                          "auto": {"target": 0.5, "strength": 0.5, "calibration": [...]}},
     "training": {"step": 12000, "config": {...}}, "param_count": 3630,
     "cudi_jax_version": "0.1.0", "created": "2025-01-01T00:00:00Z"}

Loading (:func:`load_export`) never unpickles: it reads the zip directory and every
``.npy`` header first (names, dtypes, shapes, sizes) and only then the data with
``np.load(..., allow_pickle=False)``. Anything that is not a valid export of the
expected kind raises :class:`ExportFormatError` with a one-line message.
"""
import datetime
import io
import json
import os
import zipfile

import numpy as np

from cudi_jax import __version__
from cudi_jax.exposure import presets as presets_lib
from cudi_jax.exposure import resolve as resolve_lib
from cudi_jax.exposure.settings import ExposureError
from cudi_jax import student_math
from cudi_jax import teacher_layout
from cudi_jax.errors import CudiError
from cudi_jax.io.atomic import atomic_write
from cudi_jax.jsonutil import json_safe

FORMAT_NAME = "cudi-jax-export"
FORMAT_VERSION = 1
METADATA_KEY = "__metadata__"
KINDS = ("student", "teacher")
#: Refuse files (or zip members, uncompressed) larger than this.
MAX_FILE_BYTES = 1 << 30
MAX_METADATA_BYTES = 1 << 20
#: Weights larger than this in magnitude cannot be meant (trained ones are below 2;
#: 1e4 would already overflow float32 through the seven student layers).
MAX_ABS_WEIGHT = 1e4
#: What the runtime (and the Flax Student) read: RGB + the exposure map in, and
#: 3 slope + 3 intercept maps out.
STUDENT_IN_CHANNELS = 4
STUDENT_OUT_CHANNELS = 6


class ExportFormatError(CudiError, ValueError):
  """A file that is not a valid CuDi export (the message is one line)."""


# --------------------------------------------------------------------------- shapes


def _student_architecture(flat):
  kernel = flat.get("conv1/pw_kernel")
  last = flat.get("conv7/pw_kernel")
  first = flat.get("conv1/dw_kernel")
  if kernel is None or last is None or first is None:
    raise ExportFormatError("student parameters need conv1..conv7 "
                            "(dw_kernel, dw_bias, pw_kernel, pw_bias)")
  return {"name": "student", "width": int(np.shape(kernel)[-1]),
          "in_channels": int(np.shape(first)[-1]), "out_channels": int(np.shape(last)[-1])}


def _teacher_architecture(flat):
  try:
    width = int(np.shape(flat["enc0/conv0/kernel"])[-1])
    multipliers, level = [], 0
    while f"enc{level}/conv0/kernel" in flat:
      cout = int(np.shape(flat[f"enc{level}/conv0/kernel"])[-1])
      if cout % width:
        raise ExportFormatError(f"teacher level {level} has {cout} channels, "
                                f"not a multiple of {width}")
      multipliers.append(cout // width)
      level += 1
    convs = 0
    while f"enc0/conv{convs}/kernel" in flat:
      convs += 1
    heads = int(np.shape(flat["head/bias"])[0])
    in_channels = int(np.shape(flat["enc0/conv0/kernel"])[2])
  except KeyError as err:
    raise ExportFormatError(f"teacher parameters lack {err.args[0]}") from None
  if heads % 3:
    raise ExportFormatError(f"teacher head has {heads} outputs, not a multiple of 3")
  return {"name": "teacher", "width": width, "multipliers": multipliers,
          "convs_per_block": convs, "num_iterations": heads // 3, "in_channels": in_channels}


def check_student_channels(in_channels, out_channels):
  """Refuses student layouts this version cannot run (one-line ExportFormatError)."""
  if in_channels != STUDENT_IN_CHANNELS:
    raise ExportFormatError(
        f"a student with {in_channels} input channels is not supported (this version "
        f"reads students with {STUDENT_IN_CHANNELS} input channels: RGB + exposure)")
  if out_channels != STUDENT_OUT_CHANNELS:
    raise ExportFormatError(
        f"a student with {out_channels} output channels is not supported (this version "
        f"reads students with {STUDENT_OUT_CHANNELS} output channels: slope and intercept "
        f"per RGB channel)")


def check_magnitude(label, array):
  """Refuses weights whose magnitude cannot be meant (> :data:`MAX_ABS_WEIGHT`);
  ``label`` names the array in the message."""
  if array.size:
    largest = float(np.max(np.abs(array)))
    if largest > MAX_ABS_WEIGHT:
      raise ExportFormatError(f"{label} holds a weight of magnitude {largest:.3g} "
                              f"(above {MAX_ABS_WEIGHT:g}: broken or diverged weights)")


def expected_shapes(kind, architecture):
  """Parameter shapes implied by an export's ``architecture`` metadata."""
  try:
    if kind == "student":
      in_channels = int(architecture.get("in_channels", STUDENT_IN_CHANNELS))
      out_channels = int(architecture.get("out_channels", STUDENT_OUT_CHANNELS))
      check_student_channels(in_channels, out_channels)
      return student_math.student_param_shapes(int(architecture["width"]), in_channels, out_channels)
    if kind == "teacher":
      mult = architecture["multipliers"]
      if not isinstance(mult, (list, tuple)) or len(mult) < 2:
        raise ExportFormatError("teacher 'multipliers' must be a list of at least 2")
      return teacher_layout.param_shapes(int(architecture["width"]), tuple(int(m) for m in mult),
                                  int(architecture["convs_per_block"]),
                                  int(architecture["num_iterations"]),
                                  int(architecture.get("in_channels", 4)))
  except ExportFormatError:
    raise
  except (KeyError, TypeError, ValueError) as err:
    raise ExportFormatError(f"bad {kind} architecture metadata: {err!r}") from None
  raise ExportFormatError(f"unknown export kind {kind!r}")


# --------------------------------------------------------------------------- metadata


def default_exposure_presets():
  """The exposure presets recorded in new exports (what the named settings mean)."""
  return presets_lib.DEFAULT_PRESETS.to_metadata()


def build_metadata(kind, architecture, flat, metadata=None):
  """Fills in the standard fields; ``metadata`` may add or override any of them
  (e.g. ``{"training": {"step": 1000, "config": {...}}, "placeholder": True}``)."""
  meta = {
      "format": FORMAT_NAME,
      "format_version": FORMAT_VERSION,
      "kind": kind,
      "architecture": architecture,
      "exposure_presets": default_exposure_presets(),
      "training": {"step": None, "config": {}},
      "param_count": int(sum(int(np.size(v)) for v in flat.values())),
      "cudi_jax_version": __version__,
      "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
  }
  for key, value in (metadata or {}).items():
    if key in ("format", "format_version", "kind", "architecture", "param_count"):
      continue  # fixed by the file's contents
    meta[key] = json_safe(value)
  return meta


# --------------------------------------------------------------------------- saving


def _check_params(kind, flat, shapes):
  missing = sorted(set(shapes) - set(flat))
  extra = sorted(set(flat) - set(shapes))
  if missing or extra:
    raise ExportFormatError(f"{kind} parameters do not match the architecture "
                            f"(missing {missing[:5]}, unexpected {extra[:5]})")
  arrays = {}
  for name, shape in shapes.items():
    array = np.asarray(flat[name])
    if tuple(array.shape) != tuple(shape):
      raise ExportFormatError(f"{kind} parameter {name} has shape {tuple(array.shape)}, "
                              f"expected {tuple(shape)}")
    if not np.issubdtype(array.dtype, np.floating):
      raise ExportFormatError(f"{kind} parameter {name} has dtype {array.dtype}, not float")
    array = np.ascontiguousarray(array, dtype="<f4")
    if not np.all(np.isfinite(array)):
      raise ExportFormatError(f"{kind} parameter {name} contains NaN or infinite values")
    check_magnitude(f"{kind} parameter {name}", array)
    arrays[name] = array
  return arrays


def _prepare(kind, params, metadata):
  if kind not in KINDS:
    raise ExportFormatError(f"kind must be one of {KINDS}, got {kind!r}")
  flat = student_math.flatten_params(params)
  architecture = (_student_architecture if kind == "student" else _teacher_architecture)(flat)
  arrays = _check_params(kind, flat, expected_shapes(kind, architecture))
  meta = build_metadata(kind, architecture, arrays, metadata)
  blob = json.dumps(meta, sort_keys=True, allow_nan=False).encode("utf-8")
  if len(blob) > MAX_METADATA_BYTES:
    raise ExportFormatError(f"metadata is too large ({len(blob)} bytes)")
  entries = dict(arrays)
  entries[METADATA_KEY] = np.frombuffer(blob, np.uint8)
  return entries, meta


def save_export(path, kind, params, metadata=None):
  """Validates and writes an export atomically; returns the metadata written."""

  entries, meta = _prepare(kind, params, metadata)
  buffer = io.BytesIO()
  np.savez(buffer, **entries)
  atomic_write(path, buffer.getvalue())
  return meta


def export_student(params_nested, metadata, output_path):
  """Writes a student export: ``params_nested`` is the Flax 'params' collection (nested
  or flat), ``metadata`` extra fields (e.g. ``{"training": {"step": ..., "config": ...}}``)."""
  return save_export(output_path, "student", params_nested, metadata)


def export_teacher(params_nested, metadata, output_path):
  """Writes a teacher export (architecture inferred from the parameter shapes)."""
  return save_export(output_path, "teacher", params_nested, metadata)


# --------------------------------------------------------------------------- loading


class Export:
  """A loaded export: ``kind``, ``params`` (flat name -> float32 array), ``metadata``."""

  def __init__(self, kind, params, metadata, path=None):
    self.kind = kind
    self.params = params
    self.metadata = metadata
    self.path = path

  @property
  def architecture(self):
    return self.metadata["architecture"]

  def nested_params(self):
    return student_math.unflatten_params(self.params)

  def __repr__(self):
    return (f"Export(kind={self.kind!r}, params={len(self.params)} arrays, "
            f"step={self.metadata.get('training', {}).get('step')})")


def _fail(path, reason):
  raise ExportFormatError(f"{path}: not a valid CuDi export: {reason}")


def _read_header(zf, member):
  """(shape, fortran_order, dtype) from a member's .npy header, without reading data."""
  with zf.open(member) as f:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
      return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
      return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unsupported .npy version {version}")


def load_export(path, kind=None):
  """Reads and validates an export; ``kind`` ('student'/'teacher') if it must be one."""
  shown = os.fspath(path)
  try:
    size = os.path.getsize(path)
  except OSError as err:
    raise ExportFormatError(f"{shown}: cannot read: {err.strerror or err}") from None
  if size > MAX_FILE_BYTES:
    _fail(shown, f"file too large ({size} bytes)")
  try:
    if not zipfile.is_zipfile(path):
      _fail(shown, "not a .npz (zip) file")
    with zipfile.ZipFile(path) as zf:
      infos = zf.infolist()
      headers = {}
      total = 0
      for info in infos:
        name = info.filename
        if not name.endswith(".npy") or name.startswith("/") or ".." in name.split("/"):
          _fail(shown, f"unexpected member {name!r}")
        key = name[:-4]
        if key in headers:
          _fail(shown, f"duplicate member {name!r}")
        total += info.file_size
        if info.file_size > MAX_FILE_BYTES or total > MAX_FILE_BYTES:
          _fail(shown, "members too large")
        headers[key] = _read_header(zf, name)
    if METADATA_KEY not in headers:
      _fail(shown, f"no {METADATA_KEY} entry")
    shape, _, dtype = headers[METADATA_KEY]
    if dtype != np.uint8 or len(shape) != 1:
      _fail(shown, f"{METADATA_KEY} must be a 1-D uint8 array")
    if shape[0] > MAX_METADATA_BYTES:
      _fail(shown, f"metadata too large ({shape[0]:,} bytes; at most {MAX_METADATA_BYTES:,})")
    with np.load(path, allow_pickle=False) as npz:
      blob = npz[METADATA_KEY].tobytes()
      try:
        meta = json.loads(blob.decode("utf-8"))
      except (UnicodeDecodeError, ValueError):
        _fail(shown, f"{METADATA_KEY} is not UTF-8 JSON")
      if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        _fail(shown, f"metadata 'format' is not {FORMAT_NAME!r}")
      version = meta.get("format_version")
      if not isinstance(version, int) or isinstance(version, bool):
        _fail(shown, "metadata has no integer 'format_version'")
      if version != FORMAT_VERSION:
        _fail(shown, f"format version {version} is not supported (this is version "
                     f"{FORMAT_VERSION}; upgrade cudi-jax)" if version > FORMAT_VERSION
              else f"format version {version} is not supported")
      file_kind = meta.get("kind")
      if file_kind not in KINDS:
        _fail(shown, f"unknown kind {file_kind!r}")
      if kind is not None and file_kind != kind:
        _fail(shown, f"it holds a {file_kind}, a {kind} is needed")
      arch = meta.get("architecture")
      if not isinstance(arch, dict):
        _fail(shown, "metadata has no 'architecture' object")
      try:
        shapes = expected_shapes(file_kind, arch)
      except ExportFormatError as err:
        _fail(shown, str(err))
      names = set(headers) - {METADATA_KEY}
      missing = sorted(set(shapes) - names)
      extra = sorted(names - set(shapes))
      if missing:
        _fail(shown, f"missing arrays {missing[:4]}{' ...' if len(missing) > 4 else ''}")
      if extra:
        _fail(shown, f"unexpected arrays {extra[:4]}{' ...' if len(extra) > 4 else ''}")
      params = {}
      for name, expected in shapes.items():
        shape, fortran, dtype = headers[name]
        if dtype.kind != "f" or dtype.itemsize != 4:
          _fail(shown, f"array {name} has dtype {dtype}, expected float32")
        if tuple(shape) != tuple(expected):
          _fail(shown, f"array {name} has shape {tuple(shape)}, expected {tuple(expected)}")
        array = np.ascontiguousarray(npz[name], dtype=np.float32)
        if not np.all(np.isfinite(array)):
          _fail(shown, f"array {name} contains NaN or infinite values")
        try:
          check_magnitude(f"array {name}", array)
        except ExportFormatError as err:
          _fail(shown, str(err))
        params[name] = array
    if file_kind == "student":
      try:
        resolve_lib.ExposureRules.from_metadata(meta)
      except ExposureError as err:
        _fail(shown, f"bad exposure metadata: {err}")
  except ExportFormatError:
    raise
  except MemoryError:
    _fail(shown, "out of memory while reading")
  except Exception as err:  # zipfile.BadZipFile, zlib.error, EOFError, ValueError, ...
    message = str(err).splitlines()[0] if str(err) else type(err).__name__
    _fail(shown, f"{type(err).__name__}: {message}")
  return Export(file_kind, params, meta, shown)


def describe(export):
  """A short human-readable summary (used by ``export.py`` and ``cudi``)."""
  meta = export.metadata
  training = meta.get("training") if isinstance(meta.get("training"), dict) else {}
  lines = [f"kind: {export.kind}", f"format_version: {meta.get('format_version')}",
           f"architecture: {json.dumps(meta.get('architecture'), sort_keys=True)}",
           f"parameters: {sum(v.size for v in export.params.values()):,}",
           f"training step: {training.get('step')}"]
  if meta.get("placeholder"):
    lines.append("placeholder: yes (untrained weights)")
  if export.kind == "student":
    calibration = resolve_lib.ExposureRules.from_metadata(meta).calibration
    measured = ", ".join(f"{k} {v}" for k, v in calibration.measured_on)
    tables = {"auto": calibration.auto, "maps": calibration.maps, "cells": calibration.cells}
    lines.append("exposure calibration: " + (
        "none" if all(t is None for t in tables.values()) else
        ", ".join(f"{name} {'yes' if t is not None else 'no'}" for name, t in tables.items())
        + (f" (measured on {measured})" if measured else "")))
  return "\n".join(lines)


def check_student_params(params):
  """Flat student parameters -> float32 contiguous arrays, checked against the
  architecture their shapes imply; raises ExportFormatError in one line."""
  params = {k: np.ascontiguousarray(v, np.float32) for k, v in params.items()}
  for name in ("conv1/dw_kernel", "conv1/pw_kernel", "conv7/pw_kernel"):
    if name not in params or params[name].ndim < 1:
      raise ExportFormatError(f"student parameters lack {name}")
  width = params["conv1/pw_kernel"].shape[-1]
  in_channels = int(params["conv1/dw_kernel"].shape[-1])
  try:
    check_student_channels(in_channels, int(params["conv7/pw_kernel"].shape[-1]))
  except ExportFormatError as err:
    name = "conv1/dw_kernel" if in_channels != STUDENT_IN_CHANNELS else "conv7/pw_kernel"
    raise ExportFormatError(f"parameter {name} has shape {params[name].shape}: {err}") from None
  expected = student_math.student_param_shapes(width)
  if set(expected) != set(params):
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    raise ExportFormatError(f"student parameters do not match the architecture "
                            f"(missing {missing}, unexpected {extra})")
  for name, shape in expected.items():
    if params[name].shape != shape:
      raise ExportFormatError(f"parameter {name} has shape {params[name].shape}, "
                              f"expected {shape}")
  return params
