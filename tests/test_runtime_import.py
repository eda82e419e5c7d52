"""The NumPy runtime and exposure maps must work where JAX / Flax / Optax are absent."""
import os
import subprocess
import sys
import textwrap

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent(r"""
    import importlib.abc
    import sys

    BLOCKED = ("jax", "jaxlib", "flax", "optax")

    class Blocker(importlib.abc.MetaPathFinder):
      def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
          raise ImportError(f"{name} is blocked in this test")
        return None

    sys.meta_path.insert(0, Blocker())

    # the blocker really works
    try:
      import jax  # noqa: F401
    except ImportError:
      pass
    else:
      raise SystemExit("jax import was not blocked")

    import numpy as np
    from cudi_jax import student_math
    from cudi_jax.runtime import StudentRuntime

    rng = np.random.default_rng(0)
    params = {name: rng.normal(0, 0.3, shape).astype(np.float32)
              for name, shape in student_math.student_param_shapes().items()}
    runtime = StudentRuntime(params)
    image = rng.uniform(0, 1, (7, 6, 3)).astype(np.float32)
    for setting in ("auto", "adaptive", 0.4, np.full((3, 3), 200, np.uint8)):
      out = runtime.enhance(image, setting)
      assert out.shape == (7, 6, 3) and out.dtype == np.float32, out.shape
      assert np.all(np.isfinite(out)) and out.min() >= 0 and out.max() <= 1
    _, k, b = runtime.enhance(image, runtime.resolve_exposure(image, "auto"), return_maps=True)
    assert k.shape == b.shape == (7, 6, 3)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("RUNTIME-OK")
    """)


def test_runtime_works_without_jax():
  env = dict(os.environ)
  env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
  proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env=env,
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stdout + proc.stderr
  assert "RUNTIME-OK" in proc.stdout
