"""A tiny student for smoke tests, distilled from the tiny teacher: width 4, 32x32
crops, batch 2, 4 steps (seconds on a CPU).

    python train.py --config configs/tiny_student.py --workdir /tmp/cudi_tiny_student \
        --config.teacher_checkpoint=/tmp/cudi_tiny_teacher --config.data.path=SOME_IMAGE_FOLDER

Any image folder works; ``cudi_jax/assets`` (the package's sample photo) is enough.
"""
from configs import tiny_teacher


def get_config():
  config = tiny_teacher.get_config()
  config.model = "student"
  config.student.width = 4
  config.learning_rate = 5e-4
  config.weight_decay = 0.0
  config.grad_clip_norm = 0.0
  config.teacher_checkpoint = "/tmp/cudi_tiny_teacher"
  return config
