"""Third stage of the shipped student: the weights of configs/student_cpu_anneal.py
distilled from the stage-3 teacher (configs/teacher_cpu_stage3.py) for 3,000 steps,
fresh Adam, learning rate decaying from 5e-4 to 0 along a cosine, new seed.

    python train.py --config configs/student_cpu_stage3.py --workdir runs/student_cpu_stage3 \
        --config.init_from=runs/student_cpu_anneal \
        --config.teacher_checkpoint=runs/teacher_cpu_stage3 \
        --config.data.path=../shared/data/sice_part1_train

About 0.4 s per step on a 2-core CPU (20 minutes).
"""
from configs import student_cpu_anneal


def get_config():
  config = student_cpu_anneal.get_config()
  config.seed = 2
  config.init_from = "runs/student_cpu_anneal"
  config.teacher_checkpoint = "runs/teacher_cpu_stage3"
  return config
