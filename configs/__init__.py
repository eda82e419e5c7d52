"""ml_collections training configs; each file's docstring gives the command that runs it."""
