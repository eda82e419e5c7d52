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
