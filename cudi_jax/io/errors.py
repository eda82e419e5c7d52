"""The errors of :mod:`cudi_jax.io`: one line each, saying what went wrong."""
from cudi_jax.errors import CudiError


class ImageIOError(CudiError):
  """An image that cannot be read or written (the message is one line)."""


class ImageTooLargeError(ImageIOError):
  """An image with more pixels than the limit it is read under."""

  def __init__(self, width, height, limit):
    super().__init__(f"image too large: {width} x {height} = {width * height:,} pixels "
                     f"(limit {limit:,}; raise it with --max-pixels)")
    self.width, self.height, self.limit = width, height, limit


class OutputExistsError(ImageIOError):
  """The output name exists and replacing it was not allowed (``overwrite=False``)."""


def first_line(err):
  """The first line of an exception's message (its type name when the message is empty)."""
  text = str(err).strip()
  return text.splitlines()[0] if text else type(err).__name__
