"""Shipped teacher, stage 1 of 3: the paper's loss and training maps, width 12, 128x128
crops, batch 8, Adam lr 5e-4 decaying to 0 along a cosine over 6,000 steps, seed 51,
on the training photos outside the validation scenes (``tools/make_train_split.py``):

    python train.py --config configs/recipes/shipped_cpu/teacher_stage1.py \\
        --workdir runs/shipped_cpu/teacher_stage1 --config.data.path=SPLIT/

About 80 minutes on a 2-core CPU shared with other jobs (0.3-1 s per step). It starts
from He init (the default ``teacher.weight_init``; docs/training.md).
"""
from configs import default


def get_config():
  config = default.get_config()
  config.model = "teacher"
  config.seed = 51
  config.teacher.width = 12
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.learning_rate = 5e-4
  config.lr_schedule = "cosine"
  config.num_steps = 6_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
