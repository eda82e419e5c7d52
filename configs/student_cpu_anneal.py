"""Second stage of the shipped student: the weights of configs/student_cpu.py
(4,000 steps, distilled from the first-stage teacher) distilled further from the
final teacher (configs/teacher_cpu_anneal.py) for 3,000 steps, fresh Adam, learning
rate decaying from 5e-4 to 0 along a cosine, new seed.

    python train.py --config configs/student_cpu_anneal.py --workdir runs/student_cpu_anneal \
        --config.init_from=runs/student_cpu \
        --config.teacher_checkpoint=runs/teacher_cpu_anneal \
        --config.data.path=../shared/data/sice_part1_train

About 0.3 s per step on a quiet 2-core CPU.
"""
from configs import student_cpu


def get_config():
  config = student_cpu.get_config()
  config.seed = 1
  config.init_from = "runs/student_cpu"
  config.teacher_checkpoint = "runs/teacher_cpu_anneal"
  config.lr_schedule = "cosine"
  config.num_steps = 3_000
  return config
