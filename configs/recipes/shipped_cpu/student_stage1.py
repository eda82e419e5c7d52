"""Shipped student, stage 1 of 3: distilled from scratch from teacher stage 1 with the
dark-weighted L1 (each pixel's error over 0.05 + the teacher output's brightness),
Adam lr 2e-3 decaying to 0 along a cosine over 4,000 steps, seed 61:

    python train.py --config configs/recipes/shipped_cpu/student_stage1.py \\
        --workdir runs/shipped_cpu/student_stage1 --config.data.path=SPLIT/ \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage1

8 minutes on a 2-core CPU (about 8 steps per second). It starts from Zero-DCE's
N(0, 0.02) init (``student.weight_init='zero_dce'``), as the shipped student did; new
students start from He init by default.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 61
  config.teacher.width = 12
  config.student.weight_init = "zero_dce"
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 2e-3
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.lr_schedule = "cosine"
  config.num_steps = 4_000
  config.distill_dark_weight = 0.05
  config.log_every = 25
  config.checkpoint_every = 250
  return config
