"""Fourth stage of the shipped student: the stage-3 student (configs/student_cpu_stage3.py,
exported as cudi_jax/assets/student.npz before this stage) distilled again from the
same stage-3 teacher for 3,000 steps, fresh Adam, learning rate decaying from 5e-4 to 0
along a cosine, new seed, with the dark-weighted distillation loss
(``distill_dark_weight = 0.05``: each pixel's error weighted by 1 / (0.05 + the
teacher output's brightness)), which keeps the tangent line from lifting blacks:

    python train.py --config configs/student_cpu_stage4.py --workdir runs/student_cpu_stage4 \\
        --config.init_from=runs/student_cpu_stage3 \\
        --config.teacher_checkpoint=runs/teacher_cpu_stage3 \\
        --config.data.path=../shared/data/sice_part1_train

(``init_from`` and ``teacher_checkpoint`` also take the exports of those runs.) About
0.35 s per step on a 2-core CPU (18 minutes).
"""
from configs import student_cpu_stage3


def get_config():
  config = student_cpu_stage3.get_config()
  config.seed = 3
  config.init_from = "runs/student_cpu_stage3"
  config.distill_dark_weight = 0.05
  return config
