"""CPU-sized teacher, the one behind the shipped weights: width 12 (663,792
parameters), 128x128 crops, batch 8, Adam lr 5e-4 (weight decay 1e-4, clip 0.1),
2,000 steps on the 1,699 SICE Part 1 photos.

    python train.py --config configs/teacher_cpu.py --workdir runs/teacher_cpu \
        --config.data.path=../shared/data/sice_part1_train

Measured on a 2-core CPU: about 1.1-1.5 s per step (about an hour in all on a busy machine; a
stopped run resumes from its last checkpoint, every 250 steps). The higher
learning rate than the paper's 1e-4 compensates for the short schedule. Expect
the total loss to fall from ~1.5 to ~0.3 and the exposure term below 0.05.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.num_steps = 2_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
