"""Image files (NumPy + Pillow, no JAX): reading, writing and listing photos."""
