"""Recorded training recipes: the exact configs, stage by stage, that made a set of weights."""
