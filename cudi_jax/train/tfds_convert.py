"""Converts an image folder into a tensorflow-datasets dataset in ArrayRecord format.

    python -m cudi_jax.train.tfds_convert IMAGE_DIR --name my_photos --data-dir ~/tfds

Then train from it without TensorFlow (random access through ``tfds.data_source``):

    python train.py --config configs/teacher.py --workdir runs/teacher \
        --config.data.tfds_name=my_photos --config.data.tfds_data_dir=~/tfds

Features: ``image`` (RGB, stored as the original JPEG/PNG bytes where possible,
otherwise re-encoded as PNG) and ``file_name`` (path relative to IMAGE_DIR).
Unreadable files are skipped and listed. Needs the ``[tfds]`` extra.
"""
import argparse
import io
import os
import re
import sys

from PIL import Image

from cudi_jax.errors import ConfigError, CudiError
from cudi_jax.train import input_pipeline as data_lib


def _encoded_rgb(path):
  """Original bytes of an RGB JPEG/PNG, else the image converted to RGB and PNG-encoded."""
  with Image.open(path) as img:
    img.load()
    if img.format in ("JPEG", "PNG") and img.mode == "RGB":
      with open(path, "rb") as f:
        return f.read()
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
      img = Image.fromarray(data_lib.decode_file(path))
    buffer = io.BytesIO()
    img.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def convert(image_dir, name, data_dir, version="1.0.0", split="train", log=print):
  """Builds ``data_dir/name/version`` from every readable image under ``image_dir``.

  Returns (number of images written, list of skipped 'path: reason' strings).
  """
  import tensorflow_datasets as tfds

  if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
    raise ConfigError(f"dataset name must be snake_case ([a-z][a-z0-9_]*), got {name!r}")
  paths = data_lib.training_photos(image_dir)
  skipped = []
  written = []

  def generate():
    for index, path in enumerate(paths):
      try:
        encoded = _encoded_rgb(path)
      except Exception as err:  # Skip, never abort a long conversion.
        skipped.append(f"{path}: {type(err).__name__}: {err}")
        continue
      written.append(path)
      yield index, {"image": encoded, "file_name": os.path.relpath(path, image_dir)}

  class_name = "".join(part.capitalize() for part in name.split("_"))

  def _info(self):
    features = tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(None, None, 3)),
        "file_name": tfds.features.Text(),
    })
    return tfds.core.DatasetInfo(builder=self, features=features,
                                 description=f"Images from {os.path.abspath(image_dir)}")

  builder_cls = type(class_name, (tfds.core.GeneratorBasedBuilder,), {
      "VERSION": tfds.core.Version(version),
      "name": name,
      "_info": _info,
      "_split_generators": lambda self, dl_manager: {split: self._generate_examples()},
      "_generate_examples": lambda self: generate(),
      "__module__": __name__,
  })
  builder = builder_cls(data_dir=os.path.expanduser(data_dir), file_format="array_record")
  builder.download_and_prepare()
  for line in skipped:
    log(f"skipped {line}")
  return len(written), skipped


def main(argv=None):
  parser = argparse.ArgumentParser(
      prog="python -m cudi_jax.train.tfds_convert",
      description="Convert an image folder into a tfds ArrayRecord dataset for training.")
  parser.add_argument("image_dir", help="folder of images (searched recursively)")
  parser.add_argument("--name", required=True, help="dataset name, snake_case")
  parser.add_argument("--data-dir", required=True, help="tfds data_dir to write into")
  parser.add_argument("--split", default="train")
  parser.add_argument("--version", default="1.0.0")
  args = parser.parse_args(argv)
  try:
    count, skipped = convert(args.image_dir, args.name, args.data_dir, args.version, args.split)
  except (CudiError, OSError, ImportError) as err:
    print(f"error: {err}", file=sys.stderr)
    return 1
  print(f"wrote {count} images to {os.path.join(args.data_dir, args.name, args.version)} "
        f"({len(skipped)} skipped)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
