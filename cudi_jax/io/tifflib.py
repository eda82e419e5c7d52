"""tifffile as :mod:`cudi_jax.io` uses it: loaded quietly, and the TIFF compressions as
Pillow and tifffile name them (so that a 16-bit TIFF keeps its input's compression)."""
import logging

#: TIFF compression codes -> Pillow's names (kept in ``Picture.info`` for the output).
COMPRESSION_NAMES = {5: "tiff_lzw", 8: "tiff_adobe_deflate", 32946: "tiff_deflate",
                     32773: "packbits"}
#: Pillow's TIFF compression names -> (tifffile's compression, horizontal predictor).
TIFFFILE_COMPRESSION = {"tiff_lzw": ("lzw", True), "tiff_adobe_deflate": ("zlib", True),
                        "tiff_deflate": ("zlib", True), "packbits": ("packbits", False)}


def tifffile_module():
  """The tifffile module, its log kept off the terminal: our errors say what went wrong
  in one line (a NullHandler stops Python's last-resort printing of tifffile's warnings;
  an application that configures logging still receives them)."""
  import tifffile
  log = logging.getLogger("tifffile")
  if not log.handlers:
    log.addHandler(logging.NullHandler())
  return tifffile
