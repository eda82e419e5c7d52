"""Second stage of the shipped teacher: the weights of configs/teacher_cpu.py after
3,000 steps at a constant lr 5e-4, trained 3,000 more steps with a fresh Adam whose
learning rate decays from 5e-4 to 0 along a cosine (new seed, so new crops and
exposure maps).

    python train.py --config configs/teacher_cpu_anneal.py --workdir runs/teacher_cpu_anneal \
        --config.init_from=runs/teacher_cpu/checkpoints/3000 \
        --config.data.path=../shared/data/sice_part1_train

About 1.3 s per step on a quiet 2-core CPU (the same network and crops as teacher_cpu).
"""
from configs import teacher_cpu


def get_config():
  config = teacher_cpu.get_config()
  config.seed = 1
  config.init_from = "runs/teacher_cpu/checkpoints/3000"
  config.lr_schedule = "cosine"
  config.num_steps = 3_000
  return config
