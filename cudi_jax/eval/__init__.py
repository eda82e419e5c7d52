"""``cudi evaluate`` and ``cudi report``: metrics, evaluation runs and HTML reports.
NumPy only, except where a teacher is run (JAX)."""
