"""Shipped student (cudi_jax/assets/student.npz before its calibration): distilled from
scratch (He init) from teacher stage 3 with the dark-weighted L1 (each pixel's error
over 0.05 + the teacher output's brightness), 4,000 steps, Adam lr 2e-3 decaying to 0
along a cosine, seed 76, training maps with values in (0.05, 0.95) and half the crops
given an input-following map:

    python train.py --config configs/recipes/shipped_cpu/student.py \\
        --workdir runs/shipped_cpu/student --config.data.path=SPLIT/ \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage3
    python export.py --workdir runs/shipped_cpu/student --output student.npz --verify
    python export.py --calibrate SPLIT/ --weights student.npz --output student.npz \\
        --limit 400 --map-bins 8

13 minutes on a 2-core CPU (about 5 steps per second), 2.5 minutes for the calibration.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 76
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.data.exposure_range = (0.05, 0.95)
  config.data.following_maps = 0.5
  config.learning_rate = 2e-3
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.lr_schedule = "cosine"
  config.num_steps = 4_000
  config.distill_dark_weight = 0.05
  config.log_every = 25
  config.checkpoint_every = 250
  return config
