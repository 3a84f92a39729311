"""Matrix products through numpy's BLAS, and how many BLAS threads they use.

numpy's BLAS (OpenBLAS) keeps a pool of worker threads beside numba's. After a multithreaded
product its workers spin for a while, and numba's workers, after a parallel kernel, spin too
(or sleep, and take tens of microseconds to wake): in a network that alternates products with
numba kernels, each pool's workers take the core the other pool's kernel needs. A small product
gains little from a second thread, so :func:`matmul` runs products of ``SERIAL_MACS`` on one
BLAS thread; the pool stays asleep and the numba kernels keep both cores.

Isolated, on 2 cores, one thread against two: 64x400x120 (3.1M multiply-adds, LeNet-5's first
dense layer) 49 against 45 us; 128x400x64 (3.3M) 49 against 32 us; 128x256x128 (4.2M, the MLP
benchmark's middle layer) 61 against 52 us; 128x784x256 (26M) 350 against 225 us. In the
LeNet-5 training step, with ``python -m benchmarks``' thread settings, the limit cut the median
from 3.8 to 3.3 ms in a plain loop, and the 90th percentile from 7.2 to 4.3 ms when the step
takes turns with torch's as in the benchmark; the MLP step, whose products are all outside the
range, is unchanged. Products under 2^18 multiply-adds are left alone: OpenBLAS runs small
products on one thread by itself (0.65M multiply-adds took 10.3 us either way), and the limit
costs about 2 us.

:func:`one_thread` is also how the Winograd kernels hold BLAS to one thread. The limit is
process-wide: BLAS calls from other threads of the program meanwhile run on one thread too.
Set from a thread other than the main one, it may not take: OpenBLAS 0.3.31 reported its
thread count unchanged after such a call (observed, not documented), so products run from
those threads keep their usual threads.
"""

import math
import os
import threading
from contextlib import contextmanager

import numpy as np
from threadpoolctl import ThreadpoolController

#: Products with this many multiply-adds (``[low, high)``) run on one BLAS thread.
SERIAL_MACS = (2**18, 4_000_000)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, on one BLAS thread when the product is small."""
    macs = a.shape[-1] * (a.shape[-2] if a.ndim > 1 else 1) * (b.shape[-1] if b.ndim > 1 else 1)
    if a.ndim > 2 or b.ndim > 2:
        macs *= math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    if not SERIAL_MACS[0] <= macs < SERIAL_MACS[1]:
        return np.matmul(a, b, out=out)
    with one_thread():
        return np.matmul(a, b, out=out)


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
        _libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    return _libraries


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
