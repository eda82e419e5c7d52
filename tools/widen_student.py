"""Widens a student export to more channels without changing what it computes.

    python tools/widen_student.py cudi_jax/assets/student.npz student_w32.npz --width 32
    python train.py --config configs/student_cpu_stage4.py --workdir runs/student_w32 \\
        --config.student.width=32 --config.init_from=student_w32.npz \\
        --config.teacher_checkpoint=cudi_jax/assets/teacher.npz \\
        --config.data.path=../shared/data/sice_part1_train

Each layer keeps its old weights; every new channel gets small random incoming
weights (N(0, 0.02), the training init) and zero outgoing weights, so the widened
student's K and B equal the original's (to float32 rounding) while the new channels
can still learn: their activations are non-zero, so the zero weights that read them
receive gradients from the first step. Skip concatenations are widened block by
block (layer 5 reads [layer 4, layer 3], each block grows to the new width). NumPy only.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cudi_jax import weights  # noqa: E402
from cudi_jax import student_math  # noqa: E402


def widen(params, width, seed=0, std=0.02):
  """Flat student params at width w -> flat params at ``width`` >= w, same function."""
  params = {k: np.asarray(v, np.float32) for k, v in params.items()}
  old_width = params["conv1/pw_kernel"].shape[1]
  in_channels = params["conv1/dw_kernel"].shape[-1]
  out_channels = params["conv7/pw_kernel"].shape[1]
  if width < old_width:
    raise ValueError(f"cannot narrow a width-{old_width} student to {width}")
  rng = np.random.default_rng(seed)
  old_topology = student_math.student_topology(old_width, out_channels)
  new_topology = student_math.student_topology(width, out_channels)

  def channels(topology, source):
    return in_channels if source == "x" else topology[source - 1][1]

  widened = {}
  for i, ((sources, old_out), (_, new_out)) in enumerate(
      zip(old_topology, new_topology), start=1):
    old_index, offset = [], 0  # where each old input channel sits in the new input
    for source in sources:
      old_index += range(offset, offset + channels(old_topology, source))
      offset += channels(new_topology, source)
    new_in = offset
    dw_kernel = rng.normal(0.0, std, (3, 3, new_in)).astype(np.float32)
    dw_kernel[..., old_index] = params[f"conv{i}/dw_kernel"]
    dw_bias = np.zeros(new_in, np.float32)
    dw_bias[old_index] = params[f"conv{i}/dw_bias"]
    pw_kernel = np.zeros((new_in, new_out), np.float32)
    pw_kernel[:, old_out:] = rng.normal(0.0, std, (new_in, new_out - old_out))
    pw_kernel[np.ix_(old_index, range(old_out))] = params[f"conv{i}/pw_kernel"]
    pw_bias = np.zeros(new_out, np.float32)
    pw_bias[:old_out] = params[f"conv{i}/pw_bias"]
    widened.update({f"conv{i}/dw_kernel": dw_kernel, f"conv{i}/dw_bias": dw_bias,
                    f"conv{i}/pw_kernel": pw_kernel, f"conv{i}/pw_bias": pw_bias})
  return widened


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("source", help="student .npz made by export.py")
  parser.add_argument("output", help="widened student .npz")
  parser.add_argument("--width", type=int, required=True)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  export = weights.load_export(args.source, kind="student")
  params = widen(export.params, args.width, args.seed)
  weights.save_export(args.output, "student", params,
                            {"widened_from": os.path.abspath(args.source),
                             "widened_seed": args.seed})
  count = sum(v.size for v in params.values())
  print(f"{args.output}: width {args.width}, {count:,} parameters")


if __name__ == "__main__":
  main()
