"""The JAX side: Flax models, losses, the input pipeline, training and checkpoints
(needs the ``[train]`` extra)."""
