"""Matrix products through numpy's BLAS, and how many BLAS threads they use.

numpy's BLAS (OpenBLAS) keeps a pool of worker threads beside numba's. After a multithreaded
product its workers spin for a while, and numba's workers, after a parallel kernel, spin too
(or sleep, and take tens of microseconds to wake): in a network that alternates products with
numba kernels, each pool's workers take the core the other pool's kernel needs. A small product
gains little from a second thread, so :func:`matmul` runs products of ``SERIAL_MACS``
multiply-adds on one BLAS thread; the pool stays asleep and the numba kernels keep both cores.
The limit is process-wide while it lasts, so it is taken only while the calling thread is the
program's only thread besides autodiff's own workers (no one else's BLAS call can be slowed),
and only while ``_config.LIMIT_SMALL_PRODUCTS`` is on (``autodiff.runtime``'s ``blas_limit``).
``python -m benchmarks.tuning blas_products blas_limit`` measures both choices.

:func:`one_thread` is also how the Winograd kernels hold BLAS to one thread. The limit is
process-wide: BLAS calls from other threads of the program meanwhile run on one thread too.
Set from a thread other than the main one, it may not take (OpenBLAS 0.3.31 reported its thread
count unchanged after such a call), so products run from those threads keep their threads.
"""

import math
import os
import threading
from contextlib import contextmanager

import numpy as np

from . import _config

#: Products with this many multiply-adds (``[low, high)``) run on one BLAS thread when the limit
#: is on: OpenBLAS runs smaller ones on one thread by itself, and larger ones gain from a second.
SERIAL_MACS = (2**18, 4_000_000)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, on one BLAS thread when the product is small (see the
    module docstring for when)."""
    if a.ndim > 1 and b.ndim > 1 and a.shape[-1] == 1 and b.shape[-2] == 1:
        # An outer product (a weight gradient at batch 1): numpy's matmul runs an inner
        # dimension of 1 in a plain loop, 4-5x slower than the broadcast multiply, whose
        # values are the same (one product per element, nothing to sum).
        return np.multiply(a, b, out=out)
    if not _config.LIMIT_SMALL_PRODUCTS:
        return np.matmul(a, b, out=out)
    macs = a.shape[-1] * (a.shape[-2] if a.ndim > 1 else 1) * (b.shape[-1] if b.ndim > 1 else 1)
    if a.ndim > 2 or b.ndim > 2:
        macs *= math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    if not SERIAL_MACS[0] <= macs < SERIAL_MACS[1] or not _alone():
        return np.matmul(a, b, out=out)
    with one_thread():
        return np.matmul(a, b, out=out)


def _alone() -> bool:
    """Whether the calling thread is the program's only thread besides autodiff's workers."""
    if threading.active_count() == 1:
        return True
    me = threading.current_thread()
    return all(t is me or t.name.startswith("autodiff-") for t in threading.enumerate())


@contextmanager
def one_thread():
    """Hold every loaded BLAS to one thread for the duration.

    Nests and overlaps across threads: the first to enter saves the thread counts and sets 1,
    the last to leave restores them, so overlapping limits can never leave BLAS on one thread.
    """
    global _users, _saved
    with _lock:
        if _users == 0:
            libs = _blas_libraries()
            _saved = [lib.get_num_threads() for lib in libs]
            for lib in libs:
                lib.set_num_threads(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for lib, n in zip(_blas_libraries(), _saved, strict=True):
                    lib.set_num_threads(n)


def _blas_libraries() -> list:
    """threadpoolctl's handles on the BLAS libraries, found on first use (numpy's is loaded by
    then; one loaded later is not limited)."""
    global _libraries
    if _libraries is None:
        controller = threadpoolctl().ThreadpoolController()
        _libraries = controller.select(user_api="blas").lib_controllers
    return _libraries


def threadpoolctl():
    """The threadpoolctl module, imported on first use with ``os.environ`` left as it was.

    Its import sets ``KMP_DUPLICATE_LIB_OK=True`` (Intel OpenMP's switch to tolerate two copies
    of itself) for the whole process; only inspecting the libraries loaded, it does not need it.
    """
    saved = os.environ.get("KMP_DUPLICATE_LIB_OK")
    import threadpoolctl as module

    if saved is None:
        os.environ.pop("KMP_DUPLICATE_LIB_OK", None)
    return module


_libraries = None
_users = 0
_saved: list = []
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    """In a forked child only the forking thread exists, and it forked from outside the limit:
    a parent thread inside it will never leave, and may have held the lock. Start afresh."""
    global _lock, _users
    _lock = threading.Lock()
    if _users:
        _users = 0
        for lib, n in zip(_blas_libraries(), _saved, strict=True):
            lib.set_num_threads(n)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
