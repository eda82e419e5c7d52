"""CPU-sized student, stage 1 of the shipped weights: the paper's 3,630-parameter
student distilled from configs/teacher_cpu.py on 128x128 crops, batch 8, Adam lr 5e-4,
4,000 steps; stage 2 is configs/student_cpu_anneal.py. The shipped student's stage 1
was distilled from that teacher's 2,000-step checkpoint:

    python train.py --config configs/student_cpu.py --workdir runs/student_cpu \
        --config.teacher_checkpoint=runs/teacher_cpu/checkpoints/2000 \
        --config.data.path=../shared/data/sice_part1_train

(keep that checkpoint with --config.keep_checkpoints when training the teacher).
Measured on a 2-core CPU: about 0.3-0.7 s per step (the frozen teacher's forward
pass is part of every step), 20-45 minutes in all. The L1 distillation loss
(per batch, averaged over 500 steps) falls from ~0.11 in the first 500 steps to
~0.047 (1,000-1,500) and ~0.027 (3,500-4,000), still falling slowly.
"""
from configs import student


def get_config():
  config = student.get_config()
  config.teacher_checkpoint = "runs/teacher_cpu"
  config.data.patch_size = 128
  config.data.num_threads = 2
  config.num_steps = 4_000
  config.log_every = 25
  config.checkpoint_every = 250
  return config
