"""cudi-jax: CuDi curve distillation for exposure adjustment.

The package root imports nothing heavy: ``cudi_jax.runtime`` and the ``cudi``
command need only NumPy and Pillow; the training modules need the ``[train]`` extra.
"""
__version__ = "0.1.0"
