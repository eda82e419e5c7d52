"""Shipped student, stage 2 of 3: stage 1 distilled 3,000 more steps from teacher
stage 1, fresh Adam, lr 1e-3 decaying to 0 along a cosine, seed 62, half the crops
given an input-following map (what ``auto`` feeds the network):

    python train.py --config configs/recipes/shipped_cpu/student_stage2.py \\
        --workdir runs/shipped_cpu/student_stage2 --config.data.path=SPLIT/ \\
        --config.init_from=runs/shipped_cpu/student_stage1 \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage1

6 minutes on a 2-core CPU.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 62
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.data.following_maps = 0.5
  config.learning_rate = 1e-3
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.lr_schedule = "cosine"
  config.num_steps = 3_000
  config.distill_dark_weight = 0.05
  config.log_every = 25
  config.checkpoint_every = 250
  return config
