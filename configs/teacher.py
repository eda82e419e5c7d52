"""Teacher at the paper's settings: 4.7M-parameter UNet, 256x256 crops, batch 8,
Adam lr 1e-4 (weight decay 1e-4, gradient-norm clip 0.1 as in Zero-DCE).

    python train.py --config configs/teacher.py --workdir runs/teacher \
        --config.data.path=/path/to/sice_part1_train

Meant for a GPU/TPU (add --config.compute_dtype=bfloat16 there). On the 2-core CPU
used for the shipped weights one step takes far too long (see benchmarks/
train_throughput.py and configs/teacher_cpu.py). Expect the total loss to fall
quickly in the first thousand steps and the exposure term (mean |R - E| over
16x16 regions) to drop below 0.05.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.num_steps = 100_000
  return config
