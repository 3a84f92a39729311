"""autodiff's worker threads: a kernel that splits its work into ranges runs one per thread.

Winograd's pipeline and the direct convolution's loops are serial numba kernels (``nogil``)
over a range of their work (samples, chunks of samples); :func:`split` runs one contiguous range
per thread of numba's thread count at the time on a pool of Python threads, created on first
use, while the calling thread waits. A serial build compiles in about half the time of numba's
parallel build of the same loop, and a machine's first run waits for every build it needs.
BLAS is held to one thread meanwhile: a range may call it, and its own workers would then
compete with these threads for the cores.

The calling thread does not take a range itself: it wakes the pool's thread and runs on, and
Linux then often keeps the woken thread on the caller's core; in one process out of four or
five, ResNet block steps took 13-14 ms instead of 5.5 throughout.
"""

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

from .blas import one_thread


def split(run, n: int, parts: int) -> list:
    """``[run(lo, hi), ...]`` over contiguous ranges covering ``range(n)``, in parallel: as many
    as ``parts`` and numba's thread count allow, at least one."""
    workers = max(1, min(numba.get_num_threads(), parts, n))
    if workers == 1:
        return [run(0, n)]
    bounds = [n * i // workers for i in range(workers + 1)]
    ranges = list(itertools.pairwise(bounds))
    pool = _pool(workers)
    with one_thread():
        runs = [pool.submit(run, lo, hi) for lo, hi in ranges]
        return [r.result() for r in runs]


def _pool(size: int) -> ThreadPoolExecutor:
    """The pool, grown to at least ``size`` threads."""
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or size > _POOL_SIZE:
            _POOL = ThreadPoolExecutor(size, thread_name_prefix="autodiff-worker")
            _POOL_SIZE = size
        return _POOL


# Created on first use.
_POOL = None
_POOL_SIZE = 0
_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist there (and a lock one of
    them held stays held), so start afresh."""
    global _POOL, _POOL_SIZE, _LOCK
    _POOL, _POOL_SIZE = None, 0
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
