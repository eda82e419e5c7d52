"""A tiny teacher for smoke tests: width 4, 32x32 crops, batch 2, 4 steps (seconds on a CPU).

    python train.py --config configs/tiny_teacher.py --workdir /tmp/cudi_tiny_teacher \
        --config.data.path=SOME_IMAGE_FOLDER

Any image folder works; ``cudi_jax/assets`` (the package's sample photo) is enough.
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.teacher.width = 4
  config.teacher.convs_per_block = 1
  config.data.patch_size = 32
  config.data.num_threads = 2
  config.data.prefetch = 2
  config.batch_size = 2
  config.num_steps = 4
  config.log_every = 1
  config.checkpoint_every = 2
  return config
