"""BLAS kept single-threaded while the runtime's worker threads run.

threadpoolctl limits the BLAS library NumPy loaded (OpenBLAS, MKL or BLIS) to one
thread for the duration of :func:`single_threaded_blas`; where it finds none, or with
``CUDI_NO_BLAS_LOCAL=1``, the caller keeps its matmuls small enough that OpenBLAS does
not start threads. Nested BLAS threads on a busy machine are dramatically slower.
"""
import contextlib
import os
import threading
import warnings

_BLAS_LOCK = threading.Lock()
_BLAS_CONTROLLER = None  # threadpoolctl controller of the loaded BLAS libraries; False: none
_BLAS_USERS = 0          # runs inside single_threaded_blas() now
_BLAS_LIMITER = None     # their shared limit, restored when the last one leaves


def _blas_controller():
  """threadpoolctl's controller of the BLAS libraries already loaded (NumPy's), cached;
  None when there is none it can limit, or with ``CUDI_NO_BLAS_LOCAL`` set."""
  global _BLAS_CONTROLLER
  with _BLAS_LOCK:
    if _BLAS_CONTROLLER is None:
      _BLAS_CONTROLLER = False
      if not os.environ.get("CUDI_NO_BLAS_LOCAL"):
        try:
          from threadpoolctl import ThreadpoolController
          with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. notes on several OpenMP runtimes
            controller = ThreadpoolController().select(user_api="blas")
          if controller.lib_controllers:
            _BLAS_CONTROLLER = controller
        except Exception:  # pylint: disable=broad-except - best effort only
          pass
    return _BLAS_CONTROLLER or None


@contextlib.contextmanager
def single_threaded_blas():
  """BLAS limited to one thread while inside; yields whether a limit is in force.

  The limit is process-wide: every BLAS call of a run is made by its worker threads
  (or the calling thread) while it holds, each single-threaded. Another thread calling
  BLAS *during* a run (an application doing its own matmuls in parallel) is
  single-threaded too for that time, and gets its count back afterwards. Overlapping
  runs share one limit (reference-counted), so one finishing early does not lift it
  under the other, and the original count is restored exactly once.
  """
  global _BLAS_USERS, _BLAS_LIMITER
  controller = _blas_controller()
  if controller is None:
    yield False
    return
  with _BLAS_LOCK:
    if _BLAS_USERS == 0:
      try:
        _BLAS_LIMITER = controller.limit(limits=1)
      except Exception:  # pylint: disable=broad-except - then capped matmuls instead
        _BLAS_LIMITER = None
    active = _BLAS_LIMITER is not None
    if active:
      _BLAS_USERS += 1
  if not active:
    yield False
    return
  try:
    yield True
  finally:
    with _BLAS_LOCK:
      _BLAS_USERS -= 1
      if _BLAS_USERS == 0:
        limiter, _BLAS_LIMITER = _BLAS_LIMITER, None
        limiter.restore_original_limits()


#: Largest M*N*K of one matmul (OpenBLAS runs single-threaded at or below this).
BLAS_MNK = 262144


def matmul_cols(rows, inner, limit=BLAS_MNK, cap=16384):
  """Columns per matmul: at most ``cap``, and with ``limit``, few enough that a
  (rows x inner) @ (inner x cols) product stays below OpenBLAS's threading size."""
  if limit is None:
    return cap
  return max(1, min(cap, limit // max(1, rows * inner)))
