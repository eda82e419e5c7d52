"""A student for a CPU: the paper's 3,630-parameter student distilled from a teacher
such as configs/teacher_cpu.py on 128x128 crops, batch 8, Adam lr 5e-4, 4,000 steps.

    python train.py --config configs/student_cpu.py --workdir runs/student_cpu \
        --config.teacher_checkpoint=runs/teacher_cpu \
        --config.data.path=PHOTOS/

``teacher_checkpoint`` takes a workdir, one of its checkpoints or a teacher .npz made
by export.py (such as cudi_jax/assets/teacher.npz). Measured on a 2-core CPU with the
1,699 SICE Part 1 photos: about 0.3-0.7 s per step (the frozen teacher's forward pass
is part of every step), 20-45 minutes in all. The L1 distillation loss (per batch,
averaged over 500 steps) falls from ~0.11 in the first 500 steps to ~0.047
(1,000-1,500) and ~0.027 (3,500-4,000), still falling slowly (measured from
Zero-DCE's init, ``--config.student.weight_init=zero_dce``). The shipped student was
distilled with settings close to these: configs/recipes/shipped_cpu/student.py.
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
