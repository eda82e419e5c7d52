"""Fifth stage of the shipped student: the stage-4 student (configs/student_cpu_stage4.py,
exported as cudi_jax/assets/student.npz before this stage) distilled again from the
same stage-3 teacher with the same dark-weighted loss for 3,000 steps, fresh Adam, a
four times larger learning rate decaying from 2e-3 to 0 along a cosine, new seed:

    python train.py --config configs/student_cpu_stage5.py --workdir runs/student_cpu_stage5 \\
        --config.init_from=runs/student_cpu_stage4 \\
        --config.teacher_checkpoint=runs/teacher_cpu_stage3 \\
        --config.data.path=../shared/data/sice_part1_train

(``init_from`` and ``teacher_checkpoint`` also take the exports of those runs; the
shipped stage 5 started from the stage-4 export and used the teacher export.) About
0.33 s per step on a 2-core CPU (17 minutes).
"""
from configs import student_cpu_stage4


def get_config():
  config = student_cpu_stage4.get_config()
  config.seed = 12
  config.init_from = "runs/student_cpu_stage4"
  config.learning_rate = 2e-3
  return config
