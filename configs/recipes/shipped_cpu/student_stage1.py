"""Shipped student, stage 1 of 5: the paper's 3,630-parameter student distilled from
the stage-1 teacher's 2,000-step checkpoint on 128x128 crops, batch 8, Adam at a
constant lr 5e-4, 4,000 steps from scratch, seed 0 (L1 between K*I+B and the teacher
output):

    python train.py --config configs/recipes/shipped_cpu/student_stage1.py \\
        --workdir runs/shipped_cpu/student_stage1 \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage1/checkpoints/2000 \\
        --config.data.path=SICE_PART1/

25 minutes on a 2-core CPU (0.3-0.7 s per step: the frozen teacher's forward pass is
part of every step). The per-batch L1 (averaged over 500 steps) falls from ~0.11 to
~0.027.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 0
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.lr_schedule = "constant"
  config.num_steps = 4_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
