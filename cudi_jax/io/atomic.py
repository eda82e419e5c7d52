"""Writing files atomically: through a temporary in the target folder, then named.

The temporary is ``.cudi-XXXXXXXX.part`` (short, so that output names up to the
file-system limit work) and is then given its name: ``os.replace`` when replacing is
allowed, otherwise an exclusive hard link (``os.link`` fails if the name exists), so a
file that appeared in the meantime is never replaced. No half-written file is ever left
under the output's name; temporaries of killed runs are recognised by
:func:`is_temporary_name` and removed by :func:`remove_stale_temporaries`.
"""
import errno
import os
import re
import tempfile

from cudi_jax.io.errors import ImageIOError, OutputExistsError


def _current_umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


_UMASK = _current_umask()


#: Temporary files of :func:`atomic_write`: ``.cudi-`` + mkstemp's 8 random characters
#: + ``.part`` (19 bytes whatever the output's name).
TEMP_PREFIX = ".cudi-"
TEMP_SUFFIX = ".part"
_TEMP_NAME = re.compile(r"\.cudi-[a-z0-9_]{8}\.part\Z")


#: Temporaries in an output folder older than a run's start minus this (seconds) were
#: left by killed runs and are removed; younger ones may belong to a run going on now.
STALE_TEMPORARY_AGE = 60.0


def is_temporary_name(name):
  """Whether a file name is one of :func:`atomic_write`'s temporaries
  (``.cudi-XXXXXXXX.part``)."""
  return bool(_TEMP_NAME.match(name))


def remove_stale_temporaries(folder, older_than):
  """Removes from ``folder`` (not its sub-folders) the regular files named like our
  temporaries (:func:`is_temporary_name`) last modified before ``older_than`` (a
  ``time.time()`` value): what a killed run left. Returns how many were removed;
  files that cannot be removed are left alone."""
  removed = 0
  try:
    entries = os.scandir(folder)
  except OSError:
    return 0
  with entries:
    for entry in entries:
      if not is_temporary_name(entry.name):
        continue
      try:
        if not entry.is_file(follow_symlinks=False):
          continue
        if entry.stat(follow_symlinks=False).st_mtime >= older_than:
          continue
        os.unlink(entry.path)
        removed += 1
      except OSError:
        continue
  return removed


def atomic_write(path, data, overwrite=True):
  """Writes bytes to ``path`` via a temporary file in the same folder.

  overwrite=True: the temporary replaces ``path`` (``os.replace``). overwrite=False:
  ``path`` is created exclusively -- a hard link to the finished temporary, which
  fails if the name exists (where the file system has no hard links: the name is
  claimed with ``O_EXCL`` and the temporary renamed onto the claim) -- and
  :class:`OutputExistsError` is raised if something is already there, however
  recently it appeared."""
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError as err:
    raise ImageIOError(f"cannot create folder {directory}: {err.strerror or err}") from None
  try:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
  except OSError as err:
    raise ImageIOError(f"cannot write in {directory}: {err.strerror or err}") from None
  try:
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.chmod(tmp, 0o666 & ~_UMASK)
    if overwrite:
      os.replace(tmp, path)
    else:
      create_exclusively(tmp, path)
  except BaseException as err:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    if isinstance(err, OSError):
      raise ImageIOError(f"cannot write: {err.strerror or err}") from None
    raise


#: os.link errors meaning "no hard links here" (FAT, some network and FUSE mounts).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                  errno.ENOSYS, errno.EINVAL}


def create_exclusively(tmp, path):
  """Gives the finished temporary ``tmp`` the name ``path`` only if that name is free."""
  try:
    os.link(tmp, path)
  except FileExistsError:
    raise OutputExistsError(f"{path} exists") from None
  except OSError as err:
    if err.errno not in _NO_HARD_LINKS:
      raise
    # No hard links: claim the name exclusively, then rename the finished file onto
    # our own (empty) claim.
    try:
      claim = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
      raise OutputExistsError(f"{path} exists") from None
    os.close(claim)
    try:
      os.replace(tmp, path)
    except BaseException:
      try:
        os.unlink(path)  # our empty claim
      except OSError:
        pass
      raise
    return
  try:
    os.unlink(tmp)
  except OSError:  # the output is in place; a leftover temporary is cleaned up later
    pass


