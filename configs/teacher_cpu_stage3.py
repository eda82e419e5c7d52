"""Third stage of the shipped teacher: the weights of configs/teacher_cpu_anneal.py
(6,000 steps so far) trained 3,500 more steps with a fresh Adam whose learning rate
again decays from 5e-4 to 0 along a cosine (a warm restart; new seed, so new crops
and exposure maps).

    python train.py --config configs/teacher_cpu_stage3.py --workdir runs/teacher_cpu_stage3 \
        --config.init_from=runs/teacher_cpu_anneal \
        --config.data.path=../shared/data/sice_part1_train

About 1.2 s per step on a quiet 2-core CPU (the same network and crops as teacher_cpu).
"""
from configs import teacher_cpu_anneal


def get_config():
  config = teacher_cpu_anneal.get_config()
  config.seed = 2
  config.init_from = "runs/teacher_cpu_anneal"
  config.num_steps = 3_500
  return config
