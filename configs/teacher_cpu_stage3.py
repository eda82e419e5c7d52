"""Third stage of the shipped teacher: the weights of configs/teacher_cpu_anneal.py
(6,000 steps so far) trained 3,500 more steps with a fresh Adam whose learning rate
again decays from 5e-4 to 0 along a cosine (a warm restart; new seed, so new crops
and exposure maps).

    python train.py --config configs/teacher_cpu_stage3.py --workdir runs/teacher_cpu_stage3 \
        --config.init_from=runs/teacher_cpu_anneal \
        --config.data.path=../shared/data/sice_part1_train

1.1-1.6 s per step on a 2-core CPU, 96 minutes (the same network and crops as
teacher_cpu). Measured: the mean 16x16-cell exposure error on 80 held-out photos
(E = 0.3 ... 0.7) went only from 0.123 (stage 2) to 0.121: at this width and crop
size the teacher has stopped improving.
"""
from configs import teacher_cpu_anneal


def get_config():
  config = teacher_cpu_anneal.get_config()
  config.seed = 2
  config.init_from = "runs/teacher_cpu_anneal"
  config.num_steps = 3_500
  return config
