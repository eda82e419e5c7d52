"""The teacher's layout, written once: blocks, channels and parameter shapes."""
import numpy as np

from cudi_jax import teacher_layout


def test_blocks_and_the_papers_parameter_count():
  assert teacher_layout.encoder(32, (1, 2, 4, 8, 8)) == [
      ("enc0", 32), ("enc1", 64), ("enc2", 128), ("enc3", 256), ("enc4", 256)]
  assert teacher_layout.decoder(32, (1, 2, 4, 8, 8)) == [
      ("dec2", 128, 2), ("dec1", 64, 1), ("dec0", 32, 0)]
  shapes = teacher_layout.param_shapes()
  assert sum(int(np.prod(s)) for s in shapes.values()) == 4_701_912
  # The decoder's first conv takes the upsampled deeper block and the skip.
  assert shapes["dec2/conv0/kernel"] == (3, 3, 256 + 128, 128)
  assert shapes["head/kernel"] == (3, 3, 32, 24)
