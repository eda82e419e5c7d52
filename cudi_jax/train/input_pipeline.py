"""Training input pipeline: image folders or tfds ArrayRecord datasets -> batches.

A batch is a dict of NumPy arrays:
  image:    (B, P, P, 3) float32 in [0, 1]
  exposure: (B, P, P, 1) float32 in [0.2, 0.8] (a fresh random training map per sample)

The pipeline is a grain ``MapDataset`` (random access), so batch ``s`` is a pure
function of (seed, s): resuming at step ``s`` slices the dataset at ``s`` and
gives exactly the batches an uninterrupted run would have seen. Each process of
a multi-host run reads only its own slice of every global batch.
"""
import os
import sys
import threading

import numpy as np
from PIL import Image

from cudi_jax.train import exposure_maps
from cudi_jax.errors import ConfigError, DataError
from cudi_jax.io import decode, encode, listing

IMAGE_EXTENSIONS = tuple(sorted(listing.INPUT_EXTENSIONS))
#: How many following indices are tried when an image cannot be decoded.
MAX_DECODE_RETRIES = 16


def training_photos(root):
  """The photos under ``root`` (:func:`cudi_jax.io.listing.list_images`); an error
  when the folder is missing or holds none."""
  if not os.path.isdir(root):
    raise DataError(f"image folder not found: {root}")
  found = listing.list_images(root)
  if not found:
    raise DataError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {root}")
  return found


def to_rgb_uint8(array):
  """Any decoded image array (H, W), (H, W, 1|2|3|4), uint8/uint16/float -> (H, W, 3) uint8
  (alpha dropped, grayscale replicated; :func:`cudi_jax.io.encode.to_8bit`)."""
  return encode.to_8bit(decode.rgb_channels(array))


def decode_file(path):
  """Reads an image file as (H, W, 3) uint8, the way ``cudi enhance`` reads it
  (:func:`cudi_jax.io.decode.read_image`: EXIF orientation, 16-bit, palette, CMYK)."""
  return to_rgb_uint8(decode.read_image(path).array)


class SkipCounter:
  """Counts and remembers unreadable examples (thread-safe; per process).

  A copy sent to an input worker process (``num_workers > 0``) counts that worker's
  skips, which the training loop never sees, so it also reports each of its first
  20 on stderr.
  """

  def __init__(self):
    self._lock = threading.Lock()
    self.count = 0
    self.examples = []
    self.report = False

  def __getstate__(self):
    state = dict(self.__dict__)
    del state["_lock"]
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._lock = threading.Lock()
    self.report = True

  def add(self, what, reason):
    with self._lock:
      self.count += 1
      if len(self.examples) < 20:
        self.examples.append(f"{what}: {reason}")
        if self.report:
          print(f"skipped an unreadable image in an input worker: {what}: {reason}",
                file=sys.stderr)


class ImageFolderSource:
  """Random-access source over an image folder: item i -> (H, W, 3) uint8."""

  def __init__(self, root):
    self.paths = training_photos(root)

  def __len__(self):
    return len(self.paths)

  def name(self, index):
    return self.paths[index]

  def __getitem__(self, index):
    return decode_file(self.paths[index])


class TfdsSource:
  """Random-access source over a tfds dataset in ArrayRecord format (no TensorFlow)."""

  def __init__(self, name, split="train", data_dir=None, image_key="image"):
    try:
      import tensorflow_datasets as tfds
    except ImportError as err:
      raise ImportError("reading tfds datasets needs the [tfds] extra: "
                        "pip install 'cudi-jax[tfds]'") from err
    self.source = tfds.data_source(name, split=split, data_dir=data_dir or None)
    self.image_key = image_key
    self.label = f"{name}/{split}"

  def __len__(self):
    return len(self.source)

  def name(self, index):
    return f"{self.label}[{index}]"

  def __getitem__(self, index):
    example = self.source[index]
    if self.image_key not in example:
      raise KeyError(f"tfds example has no feature {self.image_key!r} "
                     f"(features: {sorted(example)})")
    return to_rgb_uint8(example[self.image_key])


def make_source(data_config):
  if data_config.get("tfds_name"):
    return TfdsSource(data_config.tfds_name, data_config.get("tfds_split", "train"),
                      data_config.get("tfds_data_dir") or None,
                      data_config.get("image_key", "image"))
  if data_config.get("path"):
    return ImageFolderSource(os.path.expanduser(data_config.path))
  raise ConfigError("no training data: set --config.data.path=IMAGE_DIR or "
                   "--config.data.tfds_name=NAME")


def random_patch(image, rng, patch_size, mode="crop", flips=True):
  """A (P, P, 3) float32 patch: random crop (images smaller than P are first
  upscaled so the short side is P) or a resize of the whole image; random flips."""
  h, w = image.shape[:2]
  if mode == "resize" or min(h, w) < patch_size:
    if mode == "resize":
      size = (patch_size, patch_size)
    else:
      scale = patch_size / min(h, w)
      size = (max(patch_size, round(w * scale)), max(patch_size, round(h * scale)))
    image = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
    h, w = image.shape[:2]
  y = int(rng.integers(0, h - patch_size + 1))
  x = int(rng.integers(0, w - patch_size + 1))
  patch = image[y : y + patch_size, x : x + patch_size]
  if flips:
    if rng.random() < 0.5:
      patch = patch[:, ::-1]
    if rng.random() < 0.5:
      patch = patch[::-1]
  return np.ascontiguousarray(patch, np.float32) / np.float32(255.0)


class TrainingExamples:
  """Maps a global sample index to one training example, deterministically.

  A sample's randomness (crop, flips, exposure map) comes from
  ``default_rng([seed, index])``; an unreadable image is replaced by the next
  index of the (shuffled) order and counted in ``skipped``. ``following_maps``: the
  fraction of samples whose map is instead an input-following one (the kind ``auto``
  uses; :func:`cudi_jax.exposure.following_map`, random target and strength).
  ``exposure_range``: (low, high) of the two-region maps' values and of the
  following maps' targets (the paper's (0.2, 0.8) by default).
  """

  def __init__(self, source, order, patch_size, seed, mode="crop", flips=True,
               following_maps=0.0, exposure_range=exposure_maps.TRAIN_RANGE):
    self.source = source
    self.following_maps = following_maps
    lo, hi = (float(v) for v in exposure_range)
    if not 0.0 <= lo <= hi <= 1.0:
      raise ValueError(f"exposure_range must satisfy 0 <= low <= high <= 1, got {exposure_range}")
    self.exposure_range = (lo, hi)
    self.order = order
    self.patch_size = patch_size
    self.seed = seed
    self.mode = mode
    self.flips = flips
    self.skipped = SkipCounter()

  def _recent_examples(self, count=3):
    """Up to ``count`` distinct recent skip reasons, newest first."""
    seen = []
    for example in reversed(self.skipped.examples):
      if example not in seen:
        seen.append(example)
      if len(seen) == count:
        break
    return seen

  def __call__(self, index, _=None):
    rng = np.random.default_rng([self.seed, index])
    for attempt in range(MAX_DECODE_RETRIES):
      source_index = self.order[index + attempt]
      try:
        image = self.source[source_index]
        if image.ndim != 3 or min(image.shape[:2]) < 1:
          raise ValueError(f"bad image shape {image.shape}")
        break
      except Exception as err:  # A bad file must never stop a long run.
        self.skipped.add(self.source.name(source_index), f"{type(err).__name__}: {err}")
    else:
      raise DataError(f"{MAX_DECODE_RETRIES} consecutive unreadable images near sample "
                      f"{index}; examples: {'; '.join(self._recent_examples())}")
    patch = random_patch(image, rng, self.patch_size, self.mode, self.flips)
    emap = exposure_maps.training_map(rng, self.patch_size, self.patch_size, self.exposure_range)
    # Drawn after the two-region map, so that following_maps = 0 keeps every sample.
    if self.following_maps and rng.random() < self.following_maps:
      emap = exposure_maps.following_map(patch, rng.uniform(*self.exposure_range),
                                        rng.uniform(0.0, 1.0))
    return {"image": patch, "exposure": emap[..., None]}


def make_dataset(data_config, local_batch_size, seed, process_index=0, process_count=1):
  """The per-process batched grain MapDataset and its TrainingExamples (for skip counts).

  Global batch s consists of global samples [s*G, (s+1)*G), G = local * count; this
  process takes samples s*G + process_index + k*process_count, k < local.
  """
  import grain

  source = make_source(data_config)
  order = grain.MapDataset.range(len(source)).seed(seed).shuffle().repeat(None)
  examples = TrainingExamples(source, order, data_config.patch_size, seed,
                              data_config.get("resize_mode", "crop"),
                              data_config.get("flips", True),
                              data_config.get("following_maps", 0.0),
                              tuple(data_config.get("exposure_range", exposure_maps.TRAIN_RANGE)))
  ds = grain.MapDataset.range(len(order)).map(examples)
  if process_count > 1:
    ds = ds[process_index::process_count]
  ds = ds.batch(local_batch_size, drop_remainder=True)
  return ds, examples


def batch_iterator(dataset, start_batch, num_threads=4, prefetch=8, num_workers=0):
  """Background-prefetching iterator over batches start_batch, start_batch + 1, ...

  ``num_workers > 0`` decodes in that many worker processes (grain's ``mp_prefetch``),
  each with ``num_threads`` threads (the threads of one process share its GIL; on 16
  cores, 12 workers gave 3.5x the crops/s of 12 threads in one process). The batches
  and their order are the same either way.
  """
  import grain

  options = grain.ReadOptions(num_threads=num_threads, prefetch_buffer_size=prefetch)
  batches = dataset[start_batch:].to_iter_dataset(options)
  if num_workers > 0:
    from absl import flags
    if not flags.FLAGS.is_parsed():  # grain reads its absl flags; defaults outside train.py.
      flags.FLAGS.mark_as_parsed()
    batches = batches.mp_prefetch(grain.MultiprocessingOptions(
        num_workers=num_workers, per_worker_buffer_size=max(1, prefetch // num_workers)))
  return iter(batches)
