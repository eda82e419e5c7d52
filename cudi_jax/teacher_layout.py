"""The teacher's layout, written once (NumPy-free, JAX-free): its blocks in order with
their channel counts, which :class:`cudi_jax.train.models.Teacher` builds and
:mod:`cudi_jax.weights` checks exports against.

A UNet: encoder blocks at ``width * multipliers[level]`` channels, each but the last
two followed by x0.5 downsampling; decoder blocks, deepest first, at the channels of
the encoder level whose skip they take; then a 3x3 head giving 3 curve maps per
iteration.
"""


def encoder(width, multipliers):
  """[(block name, output channels)] of the encoder, in order."""
  return [(f"enc{level}", width * mult) for level, mult in enumerate(multipliers)]


def decoder(width, multipliers):
  """[(block name, output channels, encoder level of its skip)], deepest first."""
  num_down = len(multipliers) - 2
  return [(f"dec{level}", width * multipliers[level], level)
          for level in reversed(range(num_down))]


def num_downsamplings(multipliers):
  return len(multipliers) - 2


def param_shapes(width=32, multipliers=(1, 2, 4, 8, 8), convs_per_block=3, num_iterations=8,
                 in_channels=4):
  """Name -> shape of every teacher parameter."""
  shapes = {}

  def block(prefix, cin, cout):
    for i in range(convs_per_block):
      shapes[f"{prefix}/conv{i}/kernel"] = (3, 3, cin if i == 0 else cout, cout)
      shapes[f"{prefix}/conv{i}/bias"] = (cout,)

  cin = in_channels
  for name, cout in encoder(width, multipliers):
    block(name, cin, cout)
    cin = cout
  for name, cout, _ in decoder(width, multipliers):
    block(name, cin + cout, cout)
    cin = cout
  shapes["head/kernel"] = (3, 3, cin, 3 * num_iterations)
  shapes["head/bias"] = (3 * num_iterations,)
  return shapes
