"""The student's arithmetic, written once for NumPy and for JAX.

Every function takes the array module ``xp`` (``numpy`` or ``jax.numpy``) so the
training model (:mod:`cudi_jax.train.models`) and the NumPy runtime
(:mod:`cudi_jax.runtime`) share one definition of the resampling rules and the
network. This module imports neither JAX nor anything beyond NumPy-compatible
array methods.

Size rule (any ``H x W``, including sizes that are not multiples of 4):

1. ``concat(I, E)`` is padded at the bottom and right by replicating the last
   row/column ("edge" padding) up to ``Hp = 4*ceil(H/4)``, ``Wp = 4*ceil(W/4)``.
2. It is averaged over non-overlapping 4x4 cells (area downsampling) to
   ``(Hp/4, Wp/4)``.
3. The student predicts 6 maps there; K and B are upsampled x4 with bilinear
   interpolation on half-pixel centres (``align_corners=False``), clamping at
   the border, to ``(Hp, Wp)`` and cropped back to ``(H, W)``.

Parameterisation of the output: the last layer's 6 raw maps give
``K = 1 + raw[..., :3]`` and ``B = raw[..., 3:]`` with no bound. Zero raw maps are
the identity mapping, which is where a freshly initialised student (small
Gaussian weights) starts, and any slope/intercept needed for strong brightening
(K > 1, B > 0) or darkening (K < 1) is reachable. The enhanced image is
``clip(K * I + B, 0, 1)``.
"""
from cudi_jax import imagemath

SCALE = 4
#: Bilinear x4 upsampling weights for output phase p = 0..3 inside a low-res cell:
#: (weight of the neighbour, weight of the cell itself, neighbour offset -1 or +1).
#: Output pixel 4q+p sits at source coordinate q + (p + 0.5)/4 - 0.5.
UPSAMPLE_PHASES = ((0.375, 0.625, -1), (0.125, 0.875, -1), (0.125, 0.875, 1), (0.375, 0.625, 1))
#: Cell sizes the runtime can run the network at (:func:`upsample_phases`): 4 is the
#: model's own (training, stills); video runs large frames at 8 or 16.
CELLS = (4, 8, 16)


def check_cell(cell):
  """``cell`` if it is one of :data:`CELLS`, else ValueError."""
  if cell not in CELLS:
    raise ValueError(f"cell size must be one of {CELLS}, got {cell!r}")
  return cell


def upsample_phases(cell=SCALE):
  """:data:`UPSAMPLE_PHASES` for bilinear x``cell`` upsampling: output pixel
  ``cell * q + p`` sits at source coordinate ``q + (p + 0.5) / cell - 0.5``."""
  if check_cell(cell) == SCALE:
    return UPSAMPLE_PHASES
  phases = []
  for p in range(cell):
    d = (p + 0.5) / cell - 0.5
    phases.append((abs(d), 1.0 - abs(d), -1 if d < 0 else 1))
  return tuple(phases)

def student_topology(width=16, out_channels=6):
  """The Zero-DCE++ 7-layer topology as ((inputs concatenated, output channels), ...).

  "x" is the network input, numbers are earlier layer outputs (1-based):
  layer 5 takes [4, 3], layer 6 takes [5, 2], layer 7 takes [6, 1].
  """
  return (
      (("x",), width),
      ((1,), width),
      ((2,), width),
      ((3,), width),
      ((4, 3), width),
      ((5, 2), width),
      ((6, 1), out_channels),
  )


def padded_size(h, w, cell=SCALE):
  """Size after edge padding to a multiple of 4 (of ``cell``)."""
  return -(-h // cell) * cell, -(-w // cell) * cell


def pad_to_multiple(x, xp, cell=SCALE):
  """Edge-pads (..., H, W, C) at the bottom/right to multiples of 4 (of ``cell``)."""
  h, w = x.shape[-3], x.shape[-2]
  hp, wp = padded_size(h, w, cell)
  if (hp, wp) == (h, w):
    return x
  widths = [(0, 0)] * (x.ndim - 3) + [(0, hp - h), (0, wp - w), (0, 0)]
  return xp.pad(x, widths, mode="edge")


def downsample4(x, xp, cell=SCALE):
  """Area-downsamples (..., H, W, C) by 4 (by ``cell``) after edge padding:
  (..., ceil(H/4), ceil(W/4), C)."""
  x = pad_to_multiple(x, xp, cell)
  lead = x.shape[:-3]
  h, w, c = x.shape[-3:]
  x = x.reshape(lead + (h // cell, cell, w // cell, cell, c))
  return x.mean(axis=(-4, -2))


def upsample4_axis(x, axis, xp, cell=SCALE):
  """Bilinear x4 (x``cell``) upsampling (half-pixel centres, clamped border) along ``axis``."""
  axis = axis % x.ndim
  n = x.shape[axis]
  widths = [(0, 0)] * x.ndim
  widths[axis] = (1, 1)
  padded = xp.pad(x, widths, mode="edge")

  def take(start):
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, start + n)
    return padded[tuple(index)]

  prev, cur, nxt = take(0), take(1), take(2)
  phases = []
  for w_nb, w_self, offset in upsample_phases(cell):
    phases.append(w_nb * (prev if offset < 0 else nxt) + w_self * cur)
  out = xp.stack(phases, axis=axis + 1)
  shape = list(x.shape)
  shape[axis] = n * cell
  return out.reshape(tuple(shape))


def upsample4(x, xp, size=None, cell=SCALE):
  """Bilinear x4 (x``cell``) upsampling of (..., h, w, C), cropped to ``size=(H, W)``
  if given."""
  x = upsample4_axis(upsample4_axis(x, -3, xp, cell), -2, xp, cell)
  if size is not None:
    x = x[..., : size[0], : size[1], :]
  return x


def depthwise3x3_shifted(x, kernel, bias, xp):
  """3x3 depthwise convolution with zero 'SAME' padding as 9 shifted products.

  x: (..., H, W, C); kernel: (3, 3, C); bias: (C,).
  """
  h, w = x.shape[-3], x.shape[-2]
  widths = [(0, 0)] * (x.ndim - 3) + [(1, 1), (1, 1), (0, 0)]
  xpad = xp.pad(x, widths)
  out = None
  for dy in range(3):
    for dx in range(3):
      term = xpad[..., dy : dy + h, dx : dx + w, :] * kernel[dy, dx]
      out = term if out is None else out + term
  return out + bias


def pointwise(x, kernel, bias, xp):
  """1x1 convolution: (..., Cin) @ (Cin, Cout) + (Cout,)."""
  return xp.matmul(x, kernel) + bias


def student_lowres(params, x, xp, depthwise=depthwise3x3_shifted):
  """The student network at 1/4 resolution.

  params: flat dict ``conv{i}/{dw_kernel,dw_bias,pw_kernel,pw_bias}``.
  x: (..., h, w, 4) downsampled concat(image, exposure).
  Returns the raw 6 maps (..., h, w, 6); see :func:`raw_to_slope_intercept`.
  """
  width = params["conv1/pw_kernel"].shape[-1]
  out_channels = params["conv7/pw_kernel"].shape[-1]
  outputs = {"x": x}
  topology = student_topology(width, out_channels)
  for i, (sources, _) in enumerate(topology, start=1):
    inputs = [outputs[s] for s in sources]
    h = inputs[0] if len(inputs) == 1 else xp.concatenate(inputs, axis=-1)
    h = depthwise(h, params[f"conv{i}/dw_kernel"], params[f"conv{i}/dw_bias"], xp)
    h = pointwise(h, params[f"conv{i}/pw_kernel"], params[f"conv{i}/pw_bias"], xp)
    if i < len(topology):
      h = xp.maximum(h, 0)
    outputs[i] = h
  return outputs[len(topology)]


def raw_to_slope_intercept(raw):
  """Raw 6 maps -> (K, B), each (..., 3): K = 1 + raw[:3], B = raw[3:]."""
  return 1.0 + raw[..., :3], raw[..., 3:6]


#: How the per-channel maps are used: 'natural' (the runtime's default, see
#: :func:`natural_color`) or 'network' (as predicted, what training distils).
COLOR_MODES = ("natural", "network")
#: natural_color: a cell brightened by 2**(1/4) (x1.19) or more gets one shared slope
#: and intercept; a cell darkened by 2**(-1/4) (x0.84) or more keeps the network's
#: per-channel maps; the blend is linear in the gain between the two.
COLOR_SHARED_GAIN = 2.0 ** 0.25
COLOR_NETWORK_GAIN = 2.0 ** -0.25


def cell_gain(kbar, bbar, luma, xp, scale=1.0):
  """The gain mean K + mean B / luma of a cell (B carrying ``scale``)."""
  return kbar + bbar / xp.maximum(luma * scale, 1e-4 * scale)


def network_weight(gain, xp):
  """How much of the network's own per-channel maps :func:`natural_color` keeps at this
  cell gain: 1 at x0.84 or darker, 0 at x1.19 or brighter, linear in between."""
  return xp.clip((COLOR_SHARED_GAIN - gain) / (COLOR_SHARED_GAIN - COLOR_NETWORK_GAIN),
                 0.0, 1.0)


#: :func:`lift_colour`: cells darker than about this (BT.601 luma) get a neutral lift,
#: brighter ones one in their own colour (a cell's colour ratios are noise near black).
LIFT_COLOUR_TOE = 0.03
#: :func:`lift_colour` never scales a channel's share of the lift beyond this.
LIFT_COLOUR_MAX = 4.0


def lift_colour(cells, luma, xp):
  """Per cell and channel, the factor on the shared intercept that gives the lift the
  cell's own colour: ``1 + g (c / luma - 1)``, ``c`` the cell's channel mean (clipped to
  [0, LIFT_COLOUR_MAX] times its luma), ``g = luma / (luma + LIFT_COLOUR_TOE)``.
  A neutral cell gets 1 in every channel; so does a near-black one. cells: (..., 3)
  in [0, 1]; luma: (..., 1) their BT.601 luma."""
  ratio = xp.clip(cells / xp.maximum(luma, 1e-6), 0.0, LIFT_COLOUR_MAX)
  g = luma / (luma + LIFT_COLOUR_TOE)
  return 1.0 + g * (ratio - 1.0)


def natural_color(k, b, cells, xp, scale=1.0):
  """Low-resolution K, B -> K, B that brighten without shifting colour.

  Where the network brightens a 4x4 cell, every channel gets the same slope (the
  BT.601-weighted mean of the network's three) and an intercept that carries the
  cell's own colour (the weighted mean intercept times :func:`lift_colour`), so
  brightening keeps the photo's white balance and the cell's saturation: the
  per-channel differences the teacher learned from its grey-world colour term are what
  tint dusk skies and white walls, and one intercept added alike to all three channels
  washes a dark red out to pink. Where it darkens
  (over-exposed regions) the per-channel maps are kept: there they restore colour
  that over-exposure washed out. The cell's gain is ``mean K + mean B / luma`` at the
  cell's own luma (:func:`cell_gain`); :func:`network_weight` blends the two.

  k, b: (..., h, w, 3) low-resolution maps; cells: (..., h, w, 3) the input's 4x4 cell
  means (the network's input); ``scale``: the factor B carries (255 when B is already
  in 8-bit units). Returns (k, b), new arrays.
  """
  wts = xp.asarray(imagemath.LUMA_BT601, dtype=k.dtype)
  kbar = (k * wts).sum(axis=-1, keepdims=True)
  bbar = (b * wts).sum(axis=-1, keepdims=True)
  luma = (cells * wts).sum(axis=-1, keepdims=True)
  u = network_weight(cell_gain(kbar, bbar, luma, xp, scale), xp)
  shared = bbar * lift_colour(cells, luma, xp)
  return kbar + u * (k - kbar), shared + u * (b - shared)


def temper(k, b, cells, xp, weights=None, gain=1.0, ceiling=None):
  """Low-resolution K, B changed per cell (:class:`cudi_jax.exposure.values.Tempered`):
  with ``weights`` w, mixed with a plain global gain, ``K' = w K + (1 - w) gain``,
  ``B' = w B``; then, with ``ceiling``, where the cell's mean RGB brightness ``out`` of
  ``K x + B`` at its mean colour x (``cells``) exceeds the ceiling, mixed with the
  identity: ``K' = v K + (1 - v)``, ``B' = v B``, v = (ceiling - in) / (out - in) (``in``
  the cell's own brightness; never darker than the input).
  k, b, cells: (..., h, w, 3); weights, ceiling: (..., h, w, 1) or None."""
  if weights is not None:
    k, b = weights * k + (1.0 - weights) * gain, weights * b
  if ceiling is not None:
    given = cells.mean(axis=-1, keepdims=True)
    out = (k * cells + b).mean(axis=-1, keepdims=True)
    excess = out - given
    over = (out > ceiling) & (excess > 0)
    v = xp.where(over, xp.clip((ceiling - given) / xp.where(over, excess, 1.0), 0.0, 1.0), 1.0)
    v = v.astype(k.dtype)
    k, b = v * k + (1.0 - v), v * b
  return k, b


def check_color(color):
  if color not in COLOR_MODES:
    raise ValueError(f"color must be one of {COLOR_MODES}, got {color!r}")
  return color


def student_maps(params, image, exposure, xp, depthwise=depthwise3x3_shifted, color="network",
                 tempered=None, cell=SCALE):
  """Full-resolution slope and intercept maps.

  image: (..., H, W, 3) in [0, 1]; exposure: (..., H, W, 1) in [0, 1]; color: one of
  :data:`COLOR_MODES` ('network', the default here, is what training distils; the
  runtime defaults to 'natural', :func:`natural_color`); tempered: None or (per-cell
  weights (..., h, w) or None, gain, per-cell ceiling or None) for :func:`temper`,
  applied after the colour handling; cell: the cell size the network runs at (4, the
  model's own; the video runtime runs large frames at 8 or 16, :data:`CELLS`).
  Returns K, B: (..., H, W, 3) each.
  """
  h, w = image.shape[-3], image.shape[-2]
  x = downsample4(xp.concatenate([image, exposure], axis=-1), xp, cell)
  k, b = raw_to_slope_intercept(student_lowres(params, x, xp, depthwise))
  if check_color(color) == "natural":
    k, b = natural_color(k, b, x[..., :3], xp)
  if tempered is not None:
    weights, gain, ceiling = tempered
    k, b = temper(k, b, x[..., :3], xp, None if weights is None else weights[..., None], gain,
                  None if ceiling is None else ceiling[..., None])
  return upsample4(k, xp, (h, w), cell), upsample4(b, xp, (h, w), cell)


def tangent_apply(k, b, image, xp, clip=True):
  """The tangent-line mapping ``K * I + B``, clipped to [0, 1] unless ``clip=False``."""
  out = k * image + b
  return xp.clip(out, 0.0, 1.0) if clip else out


def student_param_shapes(width=16, in_channels=4, out_channels=6):
  """Name -> shape of every student parameter (the export format's contract)."""
  shapes = {}
  channels = {"x": in_channels}
  for i, (sources, cout) in enumerate(student_topology(width, out_channels), start=1):
    cin = sum(channels[s] for s in sources)
    shapes[f"conv{i}/dw_kernel"] = (3, 3, cin)
    shapes[f"conv{i}/dw_bias"] = (cin,)
    shapes[f"conv{i}/pw_kernel"] = (cin, cout)
    shapes[f"conv{i}/pw_bias"] = (cout,)
    channels[i] = cout
  return shapes


def flatten_params(params):
  """Parameters -> flat dict with '/'-joined names. ``params``: a nested dict of arrays,
  a whole Flax variables dict (``{'params': tree}``: its tree is taken) or a dict that
  is already flat (returned with the same names)."""
  if len(params) == 1 and "params" in params and hasattr(params["params"], "items"):
    params = params["params"]
  flat = {}

  def walk(tree, prefix):
    for key, value in tree.items():
      name = f"{prefix}{key}"
      if isinstance(value, dict) or hasattr(value, "items"):
        walk(value, name + "/")
      else:
        flat[name] = value

  walk(params, "")
  return flat


def unflatten_params(flat):
  """Flat dict with '/'-joined names -> nested dict."""
  tree = {}
  for name, value in flat.items():
    node = tree
    *parents, leaf = name.split("/")
    for part in parents:
      node = node.setdefault(part, {})
    node[leaf] = value
  return tree
