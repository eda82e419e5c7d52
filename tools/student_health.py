"""Are a student's ReLUs alive? Per hidden layer, the channels never active on photos.

    python tools/student_health.py PHOTOS... [--student FILE] [--exposures 0.2,0.5,0.8]

Runs the student's layers (NumPy, ``cudi_jax.student_math``) on every photo at each
exposure and prints, for each of its six hidden layers, how many of its channels are
never positive (dead) and how many are positive at fewer than 1% of the cells, over
all of them. A student started from Zero-DCE's N(0, 0.02) kept 8-14 of 16 channels
dead in every layer; docs/training.md.
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from cudi_jax import student_math  # noqa: E402
from cudi_jax import weights  # noqa: E402
from cudi_jax.eval import common  # noqa: E402
from cudi_jax.runtime import api as runtime  # noqa: E402


def active_shares(params, image, exposure):
  """Per hidden layer: each channel's share of cells where it is positive, (C,)."""
  width = params["conv1/pw_kernel"].shape[-1]
  x = np.concatenate([image, np.full(image.shape[:2] + (1,), exposure, np.float32)], -1)
  outputs = {"x": student_math.downsample4(x, np)}
  shares = []
  topology = student_math.student_topology(width, params["conv7/pw_kernel"].shape[-1])
  for i, (sources, _) in enumerate(topology[:-1], start=1):
    h = np.concatenate([outputs[s] for s in sources], axis=-1)
    h = student_math.depthwise3x3_shifted(h, params[f"conv{i}/dw_kernel"],
                                          params[f"conv{i}/dw_bias"], np)
    h = student_math.pointwise(h, params[f"conv{i}/pw_kernel"], params[f"conv{i}/pw_bias"], np)
    shares.append((h > 0).reshape(-1, h.shape[-1]).mean(axis=0))
    outputs[i] = np.maximum(h, 0)
  return shares


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("photos", nargs="+")
  parser.add_argument("--student", help="student export (default: the packaged weights)")
  parser.add_argument("--exposures", default="0.2,0.5,0.8")
  parser.add_argument("--max-size", type=int, default=512)
  args = parser.parse_args(argv)
  path = args.student or runtime.shipped_weights_path()
  params = {k: np.asarray(v, np.float32) for k, v in weights.load_export(path).params.items()}
  exposures = [float(e) for e in args.exposures.split(",")]
  images = [(p.name, p) for p in common.expand_image_paths(args.photos)]
  runs = []
  for _, image in common.loaded_photos(images, "student_health", progress=False,
                                       max_size=args.max_size):
    runs += [active_shares(params, image.astype(np.float32), e) for e in exposures]
  print("layer  channels  dead  active at under 1% of cells")
  for i, layer in enumerate(zip(*runs), start=1):
    share = np.mean(layer, axis=0)
    print(f"{i}  {share.size}  {int((share == 0).sum())}  {int((share < 0.01).sum())}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
