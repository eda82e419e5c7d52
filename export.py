"""Exports a trained student (or teacher) checkpoint to a single ``.npz`` file.

    python export.py --workdir runs/student --output student.npz [--verify]
    python export.py --checkpoint runs/student/checkpoints/12000 --output student.npz
    python export.py --workdir runs/teacher --output teacher.npz      # a teacher
    python export.py --describe student.npz                           # check a file
    python export.py --calibrate PHOTOS/ --weights student.npz --output calibrated.npz

The file holds flat float32 arrays named by their Flax paths plus a JSON metadata
entry (format version, architecture, exposure presets, training step and config);
see :mod:`cudi_jax.weights`. The file is written atomically and read back and
compared with the checkpoint. ``--verify`` also runs the JAX student and the NumPy
runtime on sample inputs (random images and the package's sample photo) and fails if
K, B or the image differ by more than 1e-5 (for a teacher: the JAX teacher with the
exported weights must reproduce the checkpoint's output exactly).
``--calibrate PHOTOS...`` measures how far a student falls short of the brightness it
is asked for, on photos of the kind to be enhanced (no references needed), and writes
the export again with that calibration (:mod:`cudi_jax.exposure.calibration`), which
the runtime then applies to every setting.
Exit status: 0 on success, 1 on any error (one line on stderr).
"""
import argparse
import dataclasses
import os
import sys

import numpy as np

from cudi_jax import student_math
from cudi_jax import weights
from cudi_jax.jsonutil import json_safe
from cudi_jax.errors import CudiError
from cudi_jax.exposure import calibration as calibration_lib
from cudi_jax.exposure import measure


def _config_summary(config):
  return json_safe(config)


def export_trained(trained, output, kind=None):
  """Writes ``trained`` (an object with .kind, .params, .config, .step) to ``output``
  and checks the written file against it; returns the loaded Export."""
  if kind is not None and trained.kind != kind:
    raise weights.ExportFormatError(f"the checkpoint holds a {trained.kind}, "
                                          f"not a {kind}")
  metadata = {"training": {"step": int(trained.step),
                           "config": _config_summary(trained.config)}}
  if trained.kind == "student":
    weights.export_student(trained.params, metadata, output)
  elif trained.kind == "teacher":
    weights.export_teacher(trained.params, metadata, output)
  else:
    raise weights.ExportFormatError(f"unknown model kind {trained.kind!r}")
  loaded = weights.load_export(output, kind=trained.kind)
  flat = student_math.flatten_params(trained.params)
  for name, value in flat.items():
    if not np.array_equal(np.asarray(value, np.float32), loaded.params[name]):
      raise weights.ExportFormatError(f"{output}: array {name} differs from the "
                                            f"checkpoint after writing")
  return loaded


def verify(export, trained=None):
  """The --verify checks; returns printable lines, raises on failure."""
  if export.kind == "student":
    from cudi_jax.train import jax_enhance
    rows = jax_enhance.verify_export(export)
    return [f"  {name:28s} max|dK|/max(1,|K|) {dk:.1e}  max|dB|/max(1,|B|) {db:.1e}  "
            f"max|d image| {do:.1e}  "
            f"max|uint8 - 255*image| {d8:.2f}" for name, dk, db, do, d8 in rows]
  import jax
  import jax.numpy as jnp
  from cudi_jax.train import models
  model = models.build("teacher", export.architecture)
  rng = np.random.default_rng(0)
  image = jnp.asarray(rng.uniform(0, 1, (1, 37, 29, 3)), jnp.float32)
  emap = jnp.full((1, 37, 29, 1), 0.55, jnp.float32)
  apply = jax.jit(model.apply)
  got = apply({"params": jax.tree.map(jnp.asarray, export.nested_params())}, image, emap)
  lines = [f"  teacher output on a 37x29 input: finite={bool(jnp.all(jnp.isfinite(got)))}"]
  if trained is not None:
    want = apply({"params": jax.tree.map(jnp.asarray, trained.params)}, image, emap)
    diff = float(jnp.max(jnp.abs(got - want)))
    if diff != 0.0:
      from cudi_jax.train import jax_enhance
      raise jax_enhance.VerificationError(f"teacher with exported weights differs by {diff:.2e}")
    lines.append("  identical to the checkpoint's teacher")
  return lines


def calibrate(weights_path, photos, output, max_size=256, limit=300, bins=8, map_bins=4,
              tables=None):
  """Measures the calibration of a student export on photos and writes the export again
  with it; returns printable lines. ``tables``: the tables to measure (default all);
  the others are kept from the export."""
  from cudi_jax.eval import common as eval_common
  from cudi_jax.runtime import api as runtime
  export = weights.load_export(weights_path, kind="student")
  model = runtime.StudentRuntime(export.params, export.metadata)
  paths = eval_common.expand_image_paths(photos)
  if not paths:
    raise eval_common.EvaluationError(f"no photos found in {' '.join(map(str, photos))}")
  if limit and len(paths) > limit:
    paths = paths[::-(-len(paths) // limit)]
  images = [eval_common.load_image(p, max_size) for p in paths]
  tables = tuple(tables or measure.TABLES)
  found = measure.measure(model, images, model.presets, bins=bins, map_bins=map_bins,
                          tables=tables, start=model.rules.calibration)
  notes = []
  if "cells" in tables:
    try:
      found = dataclasses.replace(found, cells=measure.measure_cells(model, images))
    except calibration_lib.ExposureError as err:
      if tables == ("cells",):
        raise
      tables = tuple(t for t in tables if t != "cells")
      notes.append(f"cells: not measured ({err}); "
                   + ("the export's table is kept" if found.cells is not None else
                      "auto uses its steady rule on every photo"))
  if set(tables) == set(measure.TABLES):
    measured_on = {"max_size": max_size, "photos": len(paths)}
  else:
    measured_on = dict(found.measured_on)
    for name in tables:
      measured_on.update({f"{name}_max_size": max_size, f"{name}_photos": len(paths)})
  found = dataclasses.replace(found, measured_on=tuple(sorted(measured_on.items())))
  metadata = dict(export.metadata)
  metadata[calibration_lib.METADATA_KEY] = found.to_metadata()
  weights.export_student(export.nested_params(), metadata, output)
  lines = [f"calibrated {', '.join(tables)} on {len(paths)} photos ({max_size} px)"]
  lines += notes + calibration_lines(found)
  return lines


def calibration_lines(found):
  """Printable lines describing a calibration's tables."""
  lines = []
  if found.auto is not None:
    lines.append("auto (steady rule's target for goal "
                 f"{found.auto.requested[0]:g}):")
    lines += [f"  photo brightness {m:.3f} -> target {row[0]:.3f}"
              for m, row in zip(found.auto.means, found.auto.fed)]
  if found.maps is not None:
    lines.append("maps (fed for requested "
                 + " ".join(f"{r:.1f}" for r in found.maps.requested) + "):")
    lines += [f"  photo brightness {m:.3f}: " + " ".join(f"{f:.2f}" for f in row)
              for m, row in zip(found.maps.means, found.maps.fed)]
  if found.cells is not None:
    cells = found.cells
    lines.append(f"cells (output brightness at fed {cells.fed[0]:g} .. {cells.fed[-1]:g}, "
                 f"{len(cells.brightness)} cell brightnesses):")
    lines += [f"  cell brightness {b:.4f}: {cells.output[0][j]:.3f} .. {cells.output[-1][j]:.3f}"
              for j, b in enumerate(cells.brightness)]
  return lines


def main(argv=None):
  parser = argparse.ArgumentParser(prog="export.py", description=__doc__.split("\n\n")[0])
  source = parser.add_mutually_exclusive_group()
  source.add_argument("--workdir", help="training workdir (its latest checkpoint)")
  source.add_argument("--checkpoint", help="a checkpoint folder (or a workdir)")
  source.add_argument("--describe", metavar="FILE", help="validate and describe an export")
  source.add_argument("--calibrate", metavar="PHOTOS", nargs="+",
                      help="photos or folders to calibrate --weights on (writes --output)")
  parser.add_argument("--weights", help="with --calibrate: the student export to calibrate")
  parser.add_argument("--max-size", type=int, default=256,
                      help="with --calibrate: downscale photos to this (default 256)")
  parser.add_argument("--limit", type=int, default=300,
                      help="with --calibrate: use at most N photos, evenly spaced (default 300)")
  parser.add_argument("--bins", type=int, default=8,
                      help="with --calibrate: photo-brightness bins of auto's table (default 8)")
  parser.add_argument("--map-bins", type=int, default=4,
                      help="with --calibrate: photo-brightness bins of the maps table (default 4)")
  parser.add_argument("--tables", default=",".join(measure.TABLES),
                      help="with --calibrate: the tables to measure, comma-separated, of "
                           "auto, maps, cells (default all; the others are kept)")
  parser.add_argument("--output", help="the .npz to write")
  parser.add_argument("--kind", choices=("student", "teacher"),
                      help="fail unless the checkpoint holds this kind")
  parser.add_argument("--verify", action="store_true",
                      help="compare the JAX model and the NumPy runtime on sample inputs")
  args = parser.parse_args(argv)
  try:
    if args.describe:
      export = weights.load_export(args.describe)
      print(weights.describe(export))
      if args.verify:
        print("\n".join(verify(export)))
        print("verify: OK")
      return 0
    if args.calibrate:
      if not args.weights or not args.output:
        parser.error("--calibrate needs --weights STUDENT.npz and --output")
      if args.max_size < 16 or min(args.limit, args.bins, args.map_bins) < 1:
        parser.error("--max-size must be at least 16, and --limit, --bins and --map-bins "
                     "at least 1")
      tables = [t.strip() for t in args.tables.split(",") if t.strip()]
      unknown = sorted(set(tables) - set(measure.TABLES))
      if unknown or not tables:
        parser.error(f"--tables takes auto, maps and cells, got {args.tables!r}")
      print("\n".join(calibrate(args.weights, args.calibrate, args.output, args.max_size,
                                args.limit, args.bins, args.map_bins, tables)))
      return 0
    path = args.workdir or args.checkpoint
    if not path or not args.output:
      parser.error("give --workdir or --checkpoint, and --output")
    try:
      from cudi_jax.train.checkpoints import load_trained
    except ImportError as err:
      print(f"export.py: error: cannot load checkpoints ({err}); install the [train] extra",
            file=sys.stderr)
      return 1
    trained = load_trained(path)
    export = export_trained(trained, args.output, args.kind)
    print(f"wrote {args.output} ({os.path.getsize(args.output):,} bytes)")
    print(weights.describe(export))
    if args.verify:
      print("\n".join(verify(export, trained)))
      print("verify: OK")
    return 0
  except KeyboardInterrupt:
    print("export.py: interrupted", file=sys.stderr)
    return 130
  except (CudiError, OSError) as err:  # Expected failures: one line; bugs keep their traceback.
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    print(f"export.py: error: {text}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  sys.exit(main())
