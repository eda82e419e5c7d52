"""Image files (NumPy + Pillow, no JAX): :mod:`~cudi_jax.io.listing` (which files are
photos), :mod:`~cudi_jax.io.decode` (reading), :mod:`~cudi_jax.io.encode` (writing),
:mod:`~cudi_jax.io.atomic` (atomic file writes), :mod:`~cudi_jax.io.png16` (16-bit PNG),
:mod:`~cudi_jax.io.tifflib` (tifffile), :mod:`~cudi_jax.io.errors`."""
