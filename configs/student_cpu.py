"""CPU-sized student, the one behind the shipped weights: the paper's 3,630-parameter
student distilled from configs/teacher_cpu.py on 128x128 crops, batch 8, Adam lr 5e-4,
1,500 steps.

    python train.py --config configs/student_cpu.py --workdir runs/student_cpu \
        --config.teacher_checkpoint=runs/teacher_cpu \
        --config.data.path=../shared/data/sice_part1_train

Measured on a 2-core CPU: about 0.4-0.7 s per step (the frozen teacher's forward
pass is part of every step), 15-20 minutes in all. Expect the L1 distillation
loss to fall below ~0.02.
"""
from configs import student


def get_config():
  config = student.get_config()
  config.teacher_checkpoint = "runs/teacher_cpu"
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.num_steps = 1_500
  config.log_every = 25
  config.checkpoint_every = 250
  return config
