"""tifffile as the io package uses it."""
import logging

from cudi_jax.io import tifflib


def test_tifffile_is_loaded_with_its_log_kept_quiet():
  module = tifflib.tifffile_module()
  assert hasattr(module, "imwrite")
  assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("tifffile").handlers)
  assert tifflib.TIFFFILE_COMPRESSION[tifflib.COMPRESSION_NAMES[5]] == ("lzw", True)
