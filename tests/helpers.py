"""Plain helper functions shared by test modules (``from tests import helpers``):
seeded random parameters built without JAX's slow ``init`` (filled from
``jax.eval_shape`` structures with seeded NumPy draws), and image files."""
import numpy as np


def random_student_flat(seed=0, std=0.3, width=16):
  """Flat student params (the export format) drawn from N(0, std), float32.

  std=0.3 gives slope/intercept maps far from the identity (K deviates from 1 and
  B from 0 by O(0.1..1)), unlike the N(0, 0.02) training init.
  """
  from cudi_jax import student_math
  rng = np.random.default_rng(seed)
  return {name: rng.normal(0.0, std, shape).astype(np.float32)
          for name, shape in sorted(student_math.student_param_shapes(width).items())}


def flax_student_variables(flat):
  """Flat student params -> Flax variables {'params': {'conv{i}': {...}}}."""
  import jax.numpy as jnp
  from cudi_jax import student_math
  tree = student_math.unflatten_params({k: jnp.asarray(v) for k, v in flat.items()})
  return {"params": tree}


def random_teacher_variables(width=4, multipliers=(1, 2, 2, 2, 2), convs_per_block=1, seed=0,
                             std=0.02):
  """(Teacher module, variables) of a small teacher with N(0, std) weights, built from
  the shapes only (no init pass)."""
  import jax
  import jax.numpy as jnp
  from cudi_jax.train import models
  module = models.build("teacher", {"width": width, "multipliers": multipliers,
                                    "convs_per_block": convs_per_block})
  shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)),
                          jnp.zeros((1, 16, 16, 1)))
  rng = np.random.default_rng(seed)
  variables = jax.tree.map(lambda s: rng.normal(0.0, std, s.shape).astype(np.float32), shapes)
  return module, variables



# --------------------------------------------------------------------------- image files


def srgb_icc():
  """An sRGB ICC profile (bytes)."""
  from PIL import ImageCms
  return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation=None, make="CuDiTest"):
  """EXIF bytes with the camera make and, if given, an orientation."""
  from PIL import Image
  from cudi_jax.io import decode
  exif = Image.Exif()
  if orientation is not None:
    exif[decode.ORIENTATION] = orientation
  exif[0x010F] = make
  return exif.tobytes()


def read_exif(raw):
  """EXIF bytes -> a Pillow ``Image.Exif``."""
  from PIL import Image
  exif = Image.Exif()
  exif.load(raw)
  return exif


def tifffile_bytes(array, **kw):
  """An array written as TIFF by tifffile (``kw``: tifffile's options), as bytes."""
  import io
  import tifffile
  buf = io.BytesIO()
  tifffile.imwrite(buf, array, metadata=None, **kw)
  return buf.getvalue()


def write_pillow(path, array, mode=None, **kw):
  """An array written by Pillow (``kw``: Pillow's save options)."""
  from PIL import Image
  Image.fromarray(array, mode=mode).save(path, **kw)

# --------------------------------------------------------------------------- training


def photo_like(rng, h, w, brightness):
  """A smooth, textured colour image with the given mean brightness (uint8)."""
  yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
  base = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in (0.0, 1.0, 2.0)], -1)
  img = brightness + 0.15 * base + 0.05 * rng.standard_normal((h, w, 3))
  return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def training_config(module, image_dir, **overrides):
  """A config module's config reading ``image_dir``, with dotted ``overrides``."""
  config = module.get_config()
  config.data.path = str(image_dir)
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
      node = node[part]
    node[leaf] = value
  return config


def read_metrics(workdir):
  """The records of a run's metrics.jsonl."""
  import json
  from pathlib import Path
  with open(Path(workdir) / "metrics.jsonl") as f:
    return [json.loads(line) for line in f]


# --------------------------------------------------------------------------- exports


def small_teacher_params(seed=0):
  """Random parameters with the shapes of a small Teacher (fast: no Flax init)."""
  from cudi_jax import teacher_layout
  shapes = teacher_layout.param_shapes(width=4, multipliers=(1, 2, 2), convs_per_block=1,
                                   num_iterations=2)
  rng = np.random.default_rng(seed)
  return {k: rng.normal(0, 0.1, s).astype(np.float32) for k, s in shapes.items()}


def npz_bytes(entries):
  """Arrays saved as .npz bytes, as they are (no validation)."""
  import io
  buf = io.BytesIO()
  np.savez(buf, **entries)
  return buf.getvalue()


def export_with_metadata(path, flat, **entries):
  """An export whose metadata carries ``entries`` as written (no validation on saving)."""
  import json
  from cudi_jax import weights as ef
  arrays = dict(flat)
  meta = ef.build_metadata("student", {"name": "student", "width": 16, "in_channels": 4,
                                       "out_channels": 6}, arrays)
  meta.update(entries)
  arrays[ef.METADATA_KEY] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
  path.write_bytes(npz_bytes(arrays))
  return path



# --------------------------------------------------------------------------- evaluation


def grey_model(image, fed):
  """A fake model function whose output is exactly the exposure map, in grey."""
  from cudi_jax.exposure import values as exposure_values
  return np.repeat(exposure_values.full_map(fed, image)[..., None], 3, axis=-1)


def save_float_image(path, array):
  """A float image in [0, 1] saved as 8 bits (the format from the file name)."""
  from PIL import Image
  Image.fromarray((np.clip(array, 0, 1) * 255).round().astype(np.uint8)).save(path)


def write_pair_photos(root):
  """Folders root/in (p0..p2.png and unmatched.png) and root/ref (p0.png, p1.jpg,
  p2.jpg: the inputs x 1.8) of small generated photos; returns (in, ref)."""
  rng = np.random.default_rng(0)
  ins, refs = root / "in", root / "ref"
  ins.mkdir()
  refs.mkdir()
  yy, xx = np.mgrid[0:36, 0:52] / 52.0
  for i in range(3):
    img = np.clip(np.stack([xx, yy, 0.5 * xx], -1) * 0.4 + 0.05 * rng.random((36, 52, 3)), 0, 1)
    save_float_image(ins / f"p{i}.png", img)
    save_float_image(refs / f"p{i}.jpg" if i else refs / f"p{i}.png", np.clip(img * 1.8, 0, 1))
  save_float_image(ins / "unmatched.png", np.zeros((20, 20, 3)))
  return ins, refs


def export_student_npz(path, seed=3, std=0.05):
  """A random student exported to ``path`` (.npz); returns the path."""
  from cudi_jax import weights
  weights.export_student(random_student_flat(seed=seed, std=std), {}, path)
  return path


def export_teacher_npz(path, seed=1):
  """A small random teacher exported to ``path`` (.npz, needs flax); returns the path."""
  from cudi_jax import weights
  _, variables = random_teacher_variables(seed=seed)
  weights.export_teacher(variables["params"], {}, path)
  return path


def write_metrics_jsonl(path, steps=range(0, 300, 10), partial_last=True):
  """A metrics.jsonl of a training run (loss/total falling as 2 / (1 + step)), with
  a last record half-written when ``partial_last``."""
  import json
  with open(path, "w") as f:
    for step in steps:
      f.write(json.dumps({"step": step, "loss/total": 2.0 / (1 + step), "loss/exposure": 0.1,
                          "lr": 1e-4, "images_per_sec": 12.5}) + "\n")
    if partial_last:
      f.write('{"step": 300, "loss/to')  # a line being written
  return path


class FullDisk:
  """Makes every file opened for writing (``io.open`` / ``open``) fail after writing
  half of what it is given, as on a full disk: ``FullDisk.install(monkeypatch)``."""

  def __init__(self, f):
    self._f = f

  def write(self, data):
    import errno
    self._f.write(data[: len(data) // 2])
    self._f.flush()
    raise OSError(errno.ENOSPC, "No space left on device")

  def __getattr__(self, name):
    return getattr(self._f, name)

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self._f.close()

  @classmethod
  def install(cls, monkeypatch):
    import builtins
    import io
    real_open = io.open

    def fake_open(file, mode="r", *args, **kwargs):
      f = real_open(file, mode, *args, **kwargs)
      return cls(f) if any(c in mode for c in "wax+") else f
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(builtins, "open", fake_open)
