"""Shipped teacher, stage 1 of 3: a width-12 UNet (663,792 parameters) on 128x128
crops, batch 8, Adam at a constant lr 5e-4 (weight decay 1e-4, gradient-norm clip
0.1), 3,000 steps from scratch, seed 0:

    python train.py --config configs/recipes/shipped_cpu/teacher_stage1.py \\
        --workdir runs/shipped_cpu/teacher_stage1 --config.keep_checkpoints=5 \\
        --config.data.path=SICE_PART1/

``keep_checkpoints=5`` keeps checkpoints/2000, from which student stage 1 is distilled.
65 minutes on a 2-core CPU (0.9-1.3 s per step). The per-batch exposure term
(averaged over 250 steps) falls from ~0.26 to ~0.11-0.12.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.seed = 0
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.lr_schedule = "constant"
  config.num_steps = 3_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
