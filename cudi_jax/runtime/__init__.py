"""The NumPy-only deployment runtime (no JAX import).

    from cudi_jax.runtime import load_student
    model = load_student()
    out = model.enhance(image)
"""
from cudi_jax.runtime.api import (NonFiniteResultError, StudentRuntime, WeightsNotFoundError,
                                  load_student)

__all__ = ["NonFiniteResultError", "StudentRuntime", "WeightsNotFoundError", "load_student"]
