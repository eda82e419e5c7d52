"""Atomic writes (:mod:`cudi_jax.io.atomic`): exclusive creation, short temporary names."""
import os

import numpy as np
import pytest

from cudi_jax.io import atomic, encode
from cudi_jax.io.errors import OutputExistsError


def test_exclusive_write_never_replaces(tmp_path, monkeypatch):
  """overwrite=False creates the final name exclusively (a hard link of the
  finished temporary; where hard links fail, an O_EXCL claim then a rename)."""
  import errno
  target = tmp_path / "x.png"
  target.write_bytes(b"theirs")
  with pytest.raises(OutputExistsError, match="exists"):
    atomic.atomic_write(target, b"ours", overwrite=False)
  assert target.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["x.png"]
  atomic.atomic_write(tmp_path / "y.png", b"ours", overwrite=False)
  assert (tmp_path / "y.png").read_bytes() == b"ours"

  def no_links(src, dst, **kwargs):
    raise OSError(errno.EPERM, "Operation not permitted")

  monkeypatch.setattr(atomic.os, "link", no_links)
  with pytest.raises(OutputExistsError):
    atomic.atomic_write(target, b"ours", overwrite=False)
  assert target.read_bytes() == b"theirs"
  atomic.atomic_write(tmp_path / "z.png", b"ours", overwrite=False)
  assert (tmp_path / "z.png").read_bytes() == b"ours"
  assert sorted(os.listdir(tmp_path)) == ["x.png", "y.png", "z.png"]
  atomic.atomic_write(target, b"ours")  # overwrite=True (the default) replaces
  assert target.read_bytes() == b"ours"
  mode = os.stat(tmp_path / "z.png").st_mode & 0o777
  assert mode == 0o666 & ~atomic._UMASK


def test_temporary_names_are_short_and_recognised(tmp_path, monkeypatch):
  """The temporary is '.cudi-XXXXXXXX.part' whatever the output name (so 250-byte
  names work); only names of that pattern are recognised as ours."""
  seen = []
  real_fdopen = os.fdopen

  def spy(fd, *args, **kwargs):
    seen.append(sorted(n for n in os.listdir(tmp_path) if n.endswith(".part")))
    return real_fdopen(fd, *args, **kwargs)

  monkeypatch.setattr(atomic.os, "fdopen", spy)
  name = "y" * 246 + ".tif"
  encode.write_image(tmp_path / name, np.zeros((3, 3, 3), np.uint8))
  assert os.listdir(tmp_path) == [name]
  (temp,) = seen[0]
  assert len(temp) == len(".cudi-12345678.part") and atomic.is_temporary_name(temp)
  assert atomic.is_temporary_name(".cudi-abc_9xyz.part")
  for bad in ("cudi-abc_9xyz.part", ".cudi-abc_9xyz.part2", ".cudi-ABCDEFGH.part",
              ".notes.txt.a1b2c3d4.part", ".photo.JPG.a1b2c3d4.part", "a.png",
              ".cudi-abc.part"):
    assert not atomic.is_temporary_name(bad), bad
