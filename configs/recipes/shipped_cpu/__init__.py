"""The recipe of the shipped weights (cudi_jax/assets/teacher.npz and student.npz), trained
on a 2-core CPU: teacher stages 1-3, then student stages 1-5 (see README.md here)."""
