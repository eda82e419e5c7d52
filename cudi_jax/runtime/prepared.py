"""An input image for the runtime: checked, in native byte order, split into its
colour part (a view) and the layout facts the engine needs."""
import numpy as np


class Prepared:
  """An input image split into its colour part (a view) and layout facts."""

  def __init__(self, image):
    if not isinstance(image, np.ndarray):
      if hasattr(image, "mode") and hasattr(image, "size"):
        raise TypeError("pass a NumPy array (np.asarray(pil_image)), not a PIL image")
      image = np.asarray(image)
    if not image.dtype.isnative:  # e.g. '>u2' from a big-endian file: native first
      image = image.astype(image.dtype.newbyteorder("="))
    if image.dtype == bool or not (image.dtype in (np.uint8, np.uint16)
                                   or np.issubdtype(image.dtype, np.floating)):
      raise TypeError(f"image dtype must be uint8, uint16 or float, got {image.dtype}")
    if image.ndim == 2:
      channels = 1
    elif image.ndim == 3 and image.shape[-1] in (1, 2, 3, 4):
      channels = image.shape[-1]
    else:
      raise ValueError(f"image must be (H, W) or (H, W, C) with C in 1..4, got shape "
                       f"{image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
      raise ValueError(f"image is empty: shape {image.shape}")
    if np.issubdtype(image.dtype, np.floating):
      check_float_range(image)
    self.image = image
    self.shape2 = image.shape[:2]
    self.gray = channels in (1, 2)
    self.alpha_index = {2: 1, 4: 3}.get(channels) if image.ndim == 3 else None
    self.color = self.color_view(image)
    self.maxval = (float(np.iinfo(image.dtype).max)
                   if np.issubdtype(image.dtype, np.integer) else 1.0)

  def color_view(self, array):
    if array.ndim == 2:
      return array
    if self.gray:
      return array[..., 0]
    return array[..., :3]


#: Float pixels may exceed [0, 1] by this much (rounding); more is refused.
FLOAT_TOLERANCE = 1e-6


def check_float_range(image, tolerance=FLOAT_TOLERANCE):
  """Raises ValueError unless every value of a float image is in [0, 1] (within
  ``tolerance``); NaN and infinities included."""
  with np.errstate(invalid="ignore"):
    lo, hi = float(np.min(image)), float(np.max(image))
  if np.isnan(lo) or np.isnan(hi):
    raise ValueError("float image contains NaN values; float images must hold values "
                     "in [0, 1]")
  if lo < -tolerance or hi > 1.0 + tolerance:
    hint = (" (0-255 data? divide by 255 first)" if 1.5 < hi <= 255.0 else
            " (0-65535 data? divide by 65535 first)" if 255.0 < hi <= 65535.0 else "")
    raise ValueError(f"float image values must be in [0, 1] (tolerance {tolerance:g}), "
                     f"got {lo:g} to {hi:g}{hint}")
