"""Shipped student, stage 2 of 5: the stage-1 student distilled from the stage-2 teacher
for 3,000 steps, fresh Adam, learning rate decaying from 5e-4 to 0 along a cosine,
seed 1; otherwise as stage 1:

    python train.py --config configs/recipes/shipped_cpu/student_stage2.py \\
        --workdir runs/shipped_cpu/student_stage2 \\
        --config.init_from=runs/shipped_cpu/student_stage1 \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage2 \\
        --config.data.path=SICE_PART1/

18 minutes on a 2-core CPU (about 0.3 s per step).
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 1
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.lr_schedule = "cosine"
  config.num_steps = 3_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
