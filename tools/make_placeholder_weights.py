"""Writes cudi_jax/weights/student.npz as an interim placeholder: a freshly initialised
(untrained, near-identity) student, flagged ``"placeholder": true`` in its metadata so
that ``load_student()`` warns. Replace it with ``python export.py --workdir runs/student
--output cudi_jax/weights/student.npz`` once a student is trained.
"""
import os

import jax
import jax.numpy as jnp

from cudi_jax import export_format
from cudi_jax import models

OUT = os.path.join(os.path.dirname(__file__), "..", "cudi_jax", "weights", "student.npz")


def main():
  variables = models.Student(depthwise_impl="shifted").init(
      jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)), jnp.zeros((1, 8, 8, 1)))
  export_format.export_student(
      variables["params"],
      {"placeholder": True,
       "note": "untrained random initialisation (N(0, 0.02) weights): K ~ 1, B ~ 0",
       "training": {"step": 0, "config": {}}},
      OUT)
  print(OUT)


if __name__ == "__main__":
  main()
