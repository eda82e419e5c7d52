"""Shipped teacher, stage 2 of 3: the stage-1 weights trained 3,000 more steps with a
fresh Adam whose learning rate decays from 5e-4 to 0 along a cosine, seed 1 (new
crops and exposure maps); otherwise as stage 1:

    python train.py --config configs/recipes/shipped_cpu/teacher_stage2.py \\
        --workdir runs/shipped_cpu/teacher_stage2 \\
        --config.init_from=runs/shipped_cpu/teacher_stage1/checkpoints/3000 \\
        --config.data.path=SICE_PART1/

60 minutes on a 2-core CPU (about 1.3 s per step).
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.seed = 1
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.lr_schedule = "cosine"
  config.num_steps = 3_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
