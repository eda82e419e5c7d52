"""Shipped student, stage 3 of 3 (the shipped cudi_jax/assets/student.npz before its
calibration): stage 2 distilled 3,000 more steps from teacher stage 2, fresh Adam, lr
1e-3 decaying to 0 along a cosine, seed 72, with teacher stage 2's training maps
(values in (0.05, 0.95)) and half the crops given an input-following map:

    python train.py --config configs/recipes/shipped_cpu/student_stage3.py \\
        --workdir runs/shipped_cpu/student_stage3 --config.data.path=SPLIT/ \\
        --config.init_from=runs/shipped_cpu/student_stage2 \\
        --config.teacher_checkpoint=runs/shipped_cpu/teacher_stage2
    python export.py --workdir runs/shipped_cpu/student_stage3 --output student.npz --verify
    python export.py --calibrate SPLIT/ --weights student.npz --output student.npz \\
        --limit 400 --map-bins 8

6 minutes on a 2-core CPU, and 2.5 minutes for the calibration.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.seed = 72
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.data.exposure_range = (0.05, 0.95)
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
