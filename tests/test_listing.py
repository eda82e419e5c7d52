"""Which files are photos (:mod:`cudi_jax.io.listing`)."""
import os

from cudi_jax.io import encode, listing


def test_list_images_rules(tmp_path):
  """Recursive, any-case extensions, hidden names and folders and the excluded folder
  skipped; each folder's files by name, then its sub-folders by name."""
  for rel in ("b.PNG", "a.jpg", "notes.txt", ".hidden.png", "z/c.tif", "m/d.webp",
              ".cache/e.png", "out/f.png", "m/n/g.gif"):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
  os.symlink(tmp_path / "m", tmp_path / "link_to_m")  # links to folders are not followed
  os.symlink(tmp_path / "a.jpg", tmp_path / "link.jpg")  # links to files are
  found = [os.path.relpath(p, tmp_path) for p in listing.list_images(tmp_path,
                                                                     exclude=tmp_path / "out")]
  assert found == ["a.jpg", "b.PNG", "link.jpg", "m/d.webp", "m/n/g.gif", "z/c.tif"]
  assert listing.list_images(tmp_path / "missing") == []


def test_every_output_format_is_listed():
  assert set(encode.EXTENSIONS) <= listing.INPUT_EXTENSIONS
  assert listing.is_image_name("x/photo.JPEG") and not listing.is_image_name("photo.txt")
