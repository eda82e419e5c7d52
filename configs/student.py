"""Student at the paper's settings: 3,630 parameters, 256x256 crops, batch 8, Adam
lr 5e-4, distilled from a trained teacher (L1 between K*I+B and the teacher output).

    python train.py --config configs/student.py --workdir runs/student \
        --config.teacher_checkpoint=runs/teacher \
        --config.data.path=/path/to/sice_part1_train

The teacher's architecture is read from its workdir's config.json. Expect the
distillation loss to fall below ~0.02 within a few thousand steps.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "student"
  config.learning_rate = 5e-4
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.num_steps = 20_000
  config.teacher_checkpoint = "runs/teacher"
  return config
