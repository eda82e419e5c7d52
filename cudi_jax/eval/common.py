"""Loading photos, the student and the teacher for ``cudi evaluate`` / ``cudi report``.

A *model function* here is any callable ``fn(image, exposure_map) -> output`` on
float32 arrays: image (H, W, 3) in [0, 1], map (H, W) in [0, 1], output
(H, W, 3) in [0, 1]. Both networks are wrapped that way so that the same
exposure map is fed to both.

* Student: :func:`load_student_model` (NumPy only) -> an object with
  ``.maps(image, exposure_map) -> (K, B)``; :func:`student_function` turns it
  into a model function ``clip(K * I + B, 0, 1)``.
* Teacher: :func:`load_teacher_runner` accepts an exported teacher ``.npz``
  (read and validated by ``cudi_jax.weights.load_teacher``) or a training workdir (``cudi_jax.train.checkpoints.load_trained``) and
  returns a :class:`TeacherRunner` whose ``enhance_float`` runs the jitted
  Flax teacher on overlapping tiles (JAX is imported only here).
"""
import os
import pathlib
import re

import numpy as np

from cudi_jax import exposure as exposure_lib
from cudi_jax.io import imagefile
from cudi_jax import student_math



# --------------------------------------------------------------------------- images


def list_images(paths, recursive=False):
  """Image files among ``paths`` (files or folders, folders listed in sorted order)."""
  if isinstance(paths, (str, os.PathLike)):
    paths = [paths]
  found = []
  for p in paths:
    p = pathlib.Path(p)
    if p.is_dir():
      pattern = "**/*" if recursive else "*"
      found.extend(sorted(f for f in p.glob(pattern)
                          if f.is_file() and f.suffix.lower() in imagefile.INPUT_EXTENSIONS))
    elif p.is_file():
      found.append(p)
    else:
      raise FileNotFoundError(f"no such file or folder: {p}")
  return found


def _resize_float(image, height, width):
  """Lanczos resize of a float (H, W, C) image channel by channel (PIL mode 'F')."""
  from PIL import Image
  chans = [np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], np.float32), mode="F")
                      .resize((width, height), Image.LANCZOS), np.float32)
           for c in range(image.shape[-1])]
  return np.clip(np.stack(chans, axis=-1), 0.0, 1.0)


def fit_size(height, width, max_size):
  """(h, w) scaled so that the longer side is at most ``max_size`` (unchanged if it fits)."""
  if not max_size or max(height, width) <= max_size:
    return height, width
  s = max_size / max(height, width)
  return max(1, round(height * s)), max(1, round(width * s))


def resize_image(image, max_size=None, size=None):
  """Downscales a float image to fit ``max_size`` (or to ``size=(h, w)``)."""
  h, w = image.shape[:2]
  th, tw = size if size is not None else fit_size(h, w, max_size)
  if (th, tw) == (h, w):
    return image
  return _resize_float(image, th, tw)


def read_image(path):
  """An image file -> float32 (H, W, 3) in [0, 1], read as ``cudi enhance`` reads it
  (:func:`cudi_jax.io.imagefile.read_image`: EXIF orientation applied, 16-bit kept);
  alpha is dropped and grayscale replicated to RGB."""
  arr = imagefile.rgb_channels(imagefile.read_image(path).array)
  if arr.dtype == np.uint8 or arr.dtype == np.uint16:
    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
  return np.clip(np.asarray(arr, np.float32), 0.0, 1.0)


def load_image(path, max_size=None):
  """:func:`read_image` then :func:`resize_image` to fit ``max_size``."""
  return resize_image(read_image(path), max_size)


def to_uint8(image):
  return (np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------- exposure


def parse_exposure(text):
  """A CLI exposure setting: a number, under/over/auto/adaptive, or a map file path."""
  if not isinstance(text, str):
    return text
  kind, value = exposure_lib.parse_setting(text)
  return pathlib.Path(value) if kind == "file" else value


def exposure_label(setting):
  if isinstance(setting, pathlib.Path):
    return setting.name
  if isinstance(setting, float):
    return f"{setting:g}"
  return str(setting)


def exposure_map(setting, image):
  """Resolves a setting into an (H, W) float32 map for ``image``."""
  return exposure_lib.inference_map(setting, image)


def local_map(kind, height, width, low=0.3, high=0.7):
  """A two-region exposure map for local-control checks.

  kind: 'halves' (left ``low`` / right ``high``) or 'ellipse' (a centred ellipse
  with half-axes of 30% of each side at ``high``, ``low`` outside).
  Returns (map (H, W) float32, {region name: boolean mask}).
  """
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
  if kind == "halves":
    inside = xx >= width / 2.0
    names = ("right", "left")
  elif kind == "ellipse":
    inside = ((yy - height / 2.0) / (0.3 * height)) ** 2 + ((xx - width / 2.0) / (0.3 * width)) ** 2 <= 1.0
    names = ("inside", "outside")
  else:
    raise ValueError(f"unknown local map {kind!r} (use 'halves' or 'ellipse')")
  emap = np.where(inside, high, low).astype(np.float32)
  return emap, {names[0]: inside, names[1]: ~inside}


LOCAL_MAPS = ("halves", "ellipse")


# --------------------------------------------------------------------------- student


def _student_from_workdir(path):
  from cudi_jax.train import checkpoints
  from cudi_jax.runtime import StudentRuntime
  trained = checkpoints.load_trained(path)
  kind = getattr(trained, "kind", "student")
  if kind != "student":
    raise ValueError(f"{path} holds a {kind} checkpoint, not a student")
  params = trained.params
  if "params" in params:
    params = params["params"]
  flat = {k: np.asarray(v) for k, v in student_math.flatten_params(params).items()}
  return StudentRuntime(flat, {"source": str(path), "step": getattr(trained, "step", None)})


def load_student_model(path=None):
  """The student as an object with ``.maps(image, exposure_map) -> (K, B)``.

  path: None (the packaged weights, via ``cudi_jax.runtime.load_student``), an
  exported ``.npz`` or a training workdir.
  """
  from cudi_jax.runtime import api as runtime
  if path is not None and os.path.isdir(path):
    return _student_from_workdir(path)
  return runtime.load_student(path) if path is not None else runtime.load_student()


def student_function(model):
  """Model function ``(image, E) -> clip(K * I + B, 0, 1)`` for a student with ``.maps``."""
  def fn(image, emap):
    image = np.asarray(image, np.float32)
    k, b = model.maps(image, np.asarray(emap, np.float32))
    return np.asarray(student_math.tangent_apply(np.asarray(k), np.asarray(b), image, np), np.float32)
  return fn


# --------------------------------------------------------------------------- teacher


def teacher_architecture(flat):
  """Teacher hyper-parameters read off the parameter shapes of a flat dict."""
  names = {re.sub(r"^params/", "", k): v for k, v in flat.items()}
  width = int(np.shape(names["enc0/conv0/kernel"])[-1])
  convs = len({k.split("/")[1] for k in names if k.startswith("enc0/")})
  levels = sorted({int(m.group(1)) for k in names for m in [re.match(r"enc(\d+)/", k)] if m})
  multipliers = tuple(int(np.shape(names[f"enc{l}/conv0/kernel"])[-1]) // width for l in levels)
  iterations = int(np.shape(names["head/kernel"])[-1]) // 3
  return {"width": width, "multipliers": multipliers, "convs_per_block": convs,
          "num_iterations": iterations}


def _teacher_from_flat(flat, metadata=None):
  """(module, variables) from a flat '/'-joined parameter dict."""
  from cudi_jax.train import models
  arch = teacher_architecture(flat)
  meta = dict(metadata or {})
  for key in ("width", "convs_per_block", "num_iterations"):
    if key in meta and meta[key] is not None:
      arch[key] = int(meta[key])
  if meta.get("multipliers") is not None:
    arch["multipliers"] = tuple(int(m) for m in meta["multipliers"])
  module = models.Teacher(width=arch["width"], multipliers=arch["multipliers"],
                          convs_per_block=arch["convs_per_block"],
                          num_iterations=arch["num_iterations"])
  tree = student_math.unflatten_params({k: np.asarray(v, np.float32) for k, v in flat.items()})
  if "params" not in tree:
    tree = {"params": tree}
  return module, tree


def load_teacher_module(path):
  """(flax Teacher module, variables {'params': ...}) from an exported .npz or a training workdir."""
  path = os.fspath(path)
  if os.path.isdir(path):
    from cudi_jax.train import checkpoints
    trained = checkpoints.load_trained(path)
    kind = getattr(trained, "kind", "teacher")
    if kind != "teacher":
      raise ValueError(f"{path} holds a {kind} checkpoint, not a teacher")
    params = trained.params
    variables = params if "params" in params else {"params": params}
    return trained.model, variables
  from cudi_jax import weights
  export = weights.load_export(path, kind="teacher")
  return _teacher_from_flat(export.params, export.architecture)


def tile_windows(n, tile, margin):
  """Tiles along one axis: [(window start, window stop, core start, core stop)].

  Every window has the same length ``min(n, tile + 2 * margin)`` (windows at the
  border are shifted inwards instead of padded), so a jitted function compiles
  once; the cores partition [0, n).
  """
  win = tile + 2 * margin
  if n <= win:
    return [(0, n, 0, n)]
  out = []
  start = 0
  while start < n:
    stop = min(start + tile, n)
    ws = min(max(start - margin, 0), n - win)
    out.append((ws, ws + win, start, stop))
    start = stop
  return out


_TEACHER_APPLY = []


def _teacher_apply():
  """One jitted ``(module, variables, image, E) -> output`` shared by all runners (module static),
  so runners of the same architecture share compilations."""
  if not _TEACHER_APPLY:
    import jax
    import jax.numpy as jnp
    from cudi_jax.train import models

    def run(module, variables, image, emap):
      maps = module.apply(variables, image[None], emap[None, ..., None])
      return jnp.clip(models.teacher_enhance(maps, image[None])[0], 0.0, 1.0)

    _TEACHER_APPLY.append(jax.jit(run, static_argnums=0))
  return _TEACHER_APPLY[0]


class TeacherRunner:
  """The Flax teacher as a model function on float32 NumPy images.

  Images larger than ``tile + 2 * margin`` on a side are processed in
  overlapping windows of that size; only each window's central ``tile`` part is
  kept, so seams are limited to what lies beyond ``margin`` pixels of context
  (the teacher's receptive field is wider than that, hence small differences to
  a whole-image pass). ``tile=None`` processes whole images.
  """

  def __init__(self, module, variables, tile=512, margin=64):
    import jax

    self.module = module
    self.tile = tile
    self.margin = margin
    self.variables = jax.device_put(variables)
    self._run = _teacher_apply()

  def _apply(self, image, emap):
    return np.asarray(self._run(self.module, self.variables, np.ascontiguousarray(image, np.float32),
                                np.ascontiguousarray(emap, np.float32)))

  def enhance_float(self, image, emap):
    image = np.asarray(image, np.float32)
    emap = np.asarray(emap, np.float32)
    h, w = image.shape[:2]
    if self.tile is None:
      return self._apply(image, emap)
    out = np.empty_like(image)
    for ys, ye, cys, cye in tile_windows(h, self.tile, self.margin):
      for xs, xe, cxs, cxe in tile_windows(w, self.tile, self.margin):
        res = self._apply(image[ys:ye, xs:xe], emap[ys:ye, xs:xe])
        out[cys:cye, cxs:cxe] = res[cys - ys:cye - ys, cxs - xs:cxe - xs]
    return out

  __call__ = enhance_float


def load_teacher_runner(path, tile=512, margin=64):
  """A :class:`TeacherRunner` for an exported teacher .npz or a teacher training workdir."""
  module, variables = load_teacher_module(path)
  return TeacherRunner(module, variables, tile=tile, margin=margin)


# --------------------------------------------------------------------------- tangent-line fit


def _upsample4_adjoint_axis(g, axis, n):
  """Adjoint of :func:`student_math.upsample4_axis` (n cells -> 4n pixels along ``axis``)."""
  g = np.moveaxis(g, axis, 0)
  g = g.reshape((n, student_math.SCALE) + g.shape[1:])
  acc = np.zeros((n + 2,) + g.shape[2:], g.dtype)
  for j, (w_nb, w_self, offset) in enumerate(student_math.UPSAMPLE_PHASES):
    acc[1:n + 1] += w_self * g[:, j]
    if offset < 0:
      acc[0:n] += w_nb * g[:, j]
    else:
      acc[2:n + 2] += w_nb * g[:, j]
  acc[1] += acc[0]        # the clamped border: padding repeats the edge cells
  acc[n] += acc[n + 1]
  return np.moveaxis(acc[1:n + 1], 0, axis)


def _upsample4_adjoint(g, cells):
  """Adjoint of ``upsample4(x, np, size=g.shape[:2])`` for x of ``cells = (hq, wq)``."""
  hq, wq = cells
  h, w = g.shape[:2]
  full = np.zeros((4 * hq, 4 * wq) + g.shape[2:], g.dtype)
  full[:h, :w] = g
  return _upsample4_adjoint_axis(_upsample4_adjoint_axis(full, 1, wq), 0, hq)


def _upsample4_squared_adjoint(v, cells):
  """``sum_pixels U[pixel, cell]^2 * v[pixel]`` for the x4 upsampling matrix U of
  ``cells = (hq, wq)`` cropped to ``v.shape[:2]``: the diagonal of the normal equations."""
  h, w = v.shape[:2]
  rows = student_math.upsample4_axis(np.eye(cells[0]), 0, np)[:h] ** 2   # (h, hq)
  cols = student_math.upsample4_axis(np.eye(cells[1]), 0, np)[:w] ** 2   # (w, wq)
  return np.einsum("yi,yxc,xj->ijc", rows, v, cols, optimize=True)


def tangent_line_fit(image, target, iterations=30, tol=1e-4, ridge=1e-6):
  """The best tangent-line approximation of ``target``: quarter-resolution slope and
  intercept maps (K, B), upsampled x4 exactly as the student's, fitted by least
  squares so that ``K * image + B`` matches ``target`` (Jacobi-preconditioned
  conjugate gradients on the normal equations, a tiny ridge towards K = 1, B = 0 for
  cells the image leaves undetermined). Returns ``clip(K * image + B, 0, 1)``.

  This is what the student's representation can reach whatever its network: when a
  student's PSNR to its teacher is far below this fit's, the network (its size or its
  training), not the tangent line at 1/4 resolution, is the limit. NumPy only.
  image, target: (H, W, 3) float in [0, 1].
  """
  image = np.asarray(image, np.float32)
  target = np.asarray(target, np.float32)
  if image.shape != target.shape or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"image and target must both be (H, W, 3), got {image.shape} and {target.shape}")
  h, w = image.shape[:2]
  hp, wp = student_math.padded_size(h, w)
  cells = (hp // 4, wp // 4)

  def forward(p):
    up = student_math.upsample4(p, np, (h, w))
    return up[..., :3] * image + up[..., 3:]

  def adjoint(r):
    return _upsample4_adjoint(np.concatenate([r * image, r], -1), cells)

  def normal(p):
    return adjoint(forward(p)) + ridge * p

  def dot(a, b):
    return float(np.dot(a.ravel().astype(np.float64), b.ravel().astype(np.float64)))

  prior = np.concatenate([np.ones(cells + (3,), np.float32), np.zeros(cells + (3,), np.float32)], -1)
  diag = (_upsample4_squared_adjoint(np.concatenate([image * image, np.ones_like(image)], -1),
                                     cells) + ridge).astype(np.float32)
  ridge = np.float32(ridge)
  p = prior.copy()
  r = adjoint(target) + ridge * prior - normal(p)
  z = r / diag
  d = z.copy()
  rz = dot(r, z)
  stop = tol * tol * max(dot(r, r), 1e-30)
  for _ in range(int(iterations)):
    if dot(r, r) <= stop:
      break
    q = normal(d)
    alpha = np.float32(rz / dot(d, q))
    p += alpha * d
    r -= alpha * q
    z = r / diag
    rz_new = dot(r, z)
    d = z + np.float32(rz_new / rz) * d
    rz = rz_new
  return np.clip(forward(p), 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- random weights


def random_student_params(width=16, seed=0, std=0.05):
  """Random student parameters (flat dict) for tests and demos."""
  rng = np.random.default_rng(seed)
  return {k: rng.normal(0.0, std, s).astype(np.float32)
          for k, s in student_math.student_param_shapes(width).items()}


def random_teacher(width=4, multipliers=(1, 2, 2, 2, 2), convs_per_block=1, seed=0, std=0.02):
  """(Teacher module, variables) with N(0, std) weights, built from the shapes only (no init pass)."""
  import jax
  import jax.numpy as jnp
  from cudi_jax.train import models
  module = models.Teacher(width=width, multipliers=tuple(multipliers), convs_per_block=convs_per_block)
  shapes = jax.eval_shape(module.init, jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)),
                          jnp.zeros((1, 16, 16, 1)))
  rng = np.random.default_rng(seed)
  variables = jax.tree.map(lambda s: rng.normal(0.0, std, s.shape).astype(np.float32), shapes)
  return module, variables
