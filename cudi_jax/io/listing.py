"""Which files are photos: the one folder-listing rule of the package."""
import os

#: Extensions picked up when scanning folders (any case): every output format of
#: :data:`cudi_jax.io.encode.EXTENSIONS` and the formats only read.
INPUT_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp",
                              ".gif", ".ppm", ".pgm", ".pnm", ".jfif", ".jpe", ".tga", ".dib",
                              ".mpo"})


def is_image_name(path):
  """Whether a file name has one of the :data:`INPUT_EXTENSIONS` (any case)."""
  return os.path.splitext(os.fspath(path))[1].lower() in INPUT_EXTENSIONS


def list_images(folder, exclude=None):
  """The one rule for which files of a folder are photos, used by training,
  ``cudi enhance`` and ``cudi evaluate`` alike: every file under ``folder``
  (recursive) whose extension is in :data:`INPUT_EXTENSIONS` (any case), skipping
  names and sub-folders that start with '.' and the folder ``exclude`` (e.g. the
  output folder inside the input folder). Sorted: each folder's files by name, then
  its sub-folders by name. Symbolic links to files are followed, to folders not."""
  skip = os.path.realpath(exclude) if exclude else None
  found = []
  for root, dirs, files in os.walk(folder):
    dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                     and os.path.realpath(os.path.join(root, d)) != skip)
    for name in sorted(files):
      if not name.startswith(".") and is_image_name(name):
        found.append(os.path.join(root, name))
  return found
