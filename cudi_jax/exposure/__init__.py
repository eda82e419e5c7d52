"""Exposure: what brightness the result should have, per region.

A user *setting* (a number, ``auto``, a preset, a map array or a map file;
:mod:`~cudi_jax.exposure.settings`) is turned by :mod:`~cudi_jax.exposure.resolve`,
in one place, into a *fed* value (:mod:`~cudi_jax.exposure.values`): exactly what the
network is given. Presets say what the named settings mean
(:mod:`~cudi_jax.exposure.presets`), the rules of ``auto`` and ``adaptive`` form
their maps (:mod:`~cudi_jax.exposure.rules`), and an export's calibration says what
to feed the network so that photos come out as requested
(:mod:`~cudi_jax.exposure.calibration`). NumPy only.
"""
