"""Matrix products through numpy's BLAS, run on numba's threads: one pool for the library.

numpy's BLAS (OpenBLAS) keeps a pool of worker threads beside numba's. After a multithreaded
product its workers spin for a while, and numba's workers spin after a parallel kernel: in a
network that alternates products with numba kernels, each pool's spinning workers hold the
cores that the other pool's work needs. So :func:`matmul` hands the jobs of its products to
numba's threads (OpenBLAS's threads callback, ``blas_threads.run_jobs``), and OpenBLAS's own
workers never wake. The callback is installed for the duration of each product only (numpy
products elsewhere in the program keep OpenBLAS's workers), when:

* ``_config.BLAS_ON_NUMBA_THREADS`` is on (``autodiff.runtime``'s ``one_pool``);
* numpy's OpenBLAS has the callback (0.3.27 and later) and numba runs its OpenMP layer;
* the calling thread's numba pool has at least as many threads as OpenBLAS would use (the jobs
  of one product must all run at once).

Otherwise products run on OpenBLAS's own workers, as in plain numpy.

:func:`one_thread` holds BLAS to one thread for products too thin to gain from more (Winograd's
filter transforms). That limit is process-wide while it lasts: BLAS calls from other threads of
the program meanwhile run on one thread too.
"""

import ctypes
import os
import re
import threading
from contextlib import contextmanager
from functools import partial
from typing import NamedTuple

import numba
import numpy as np

from . import _config, elementwise

#: OpenBLAS runs 2-D products below this many multiply-adds on the calling thread alone (its
#: interface's SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD), so they need no callback.
THREADED_MACS = 2**18


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)``, on numba's threads when it is large enough to be threaded
    (see the module docstring for when)."""
    if a.ndim > 1 and b.ndim > 1 and a.shape[-1] == 1 and b.shape[-2] == 1:
        # An outer product (a weight gradient at batch 1): numpy's matmul runs an inner
        # dimension of 1 in a plain loop, 4-5x slower than the broadcast multiply, whose
        # values are the same (one product per element, nothing to sum); the kernel is faster
        # again for two float32 vectors.
        if out is None and a.ndim == b.ndim == 2:
            product = elementwise.outer(a[:, 0], b[0])
            if product is not None:
                return product
        return np.multiply(a, b, out=out)
    # OpenBLAS decides per 2-D product (each matrix of a batch on its own) whether to thread it
    m, n = (a.shape[-2] if a.ndim > 1 else 1), (b.shape[-1] if b.ndim > 1 else 1)
    if m * a.shape[-1] * n < THREADED_MACS or not _config.BLAS_ON_NUMBA_THREADS:
        return np.matmul(a, b, out=out)
    with numba_threads():
        return np.matmul(a, b, out=out)


class _HeldSetting:
    """A process-wide setting held while any thread is inside ``with``: the first thread to
    enter applies it, the last to leave undoes it, so overlapping holders never undo it under
    one another."""

    def __init__(self, apply, undo):
        self._apply, self._undo = apply, undo
        self._users = 0
        self._lock = threading.Lock()

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                self._apply()
            self._users += 1

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._undo()

    def after_fork_in_child(self) -> None:
        """Only the forking thread exists in a forked child, and it forked from outside: a
        parent thread inside will never leave, and may have held the lock. Start afresh."""
        self._lock = threading.Lock()
        if self._users:
            self._users = 0
            self._undo()


def _limit_blas():
    global _saved
    libs = _blas_libraries()
    _saved = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)


def _restore_blas():
    for lib, n in zip(_blas_libraries(), _saved, strict=True):
        lib.set_num_threads(n)


_saved: list = []
_one_thread = _HeldSetting(_limit_blas, _restore_blas)


@contextmanager
def one_thread():
    """Hold every loaded BLAS to one thread for the duration (nests and overlaps across
    threads)."""
    with _one_thread:
        yield


@contextmanager
def numba_threads():
    """Run numpy's multithreaded BLAS calls of the duration on numba's threads, where that is
    possible (see the module docstring); nests and overlaps across threads."""
    route = _routing()
    threads = route and route.openblas.get_num_threads()
    if route is None or numba.get_num_threads() < threads:
        yield
        return
    # jobs run as OpenBLAS's threads past its own workers, where its build has such slots
    route.job_offset.value = threads if 2 * threads <= route.max_threads else 0
    with route.callback:
        yield


class _Route(NamedTuple):
    callback: _HeldSetting  # installs blas_threads.run_jobs in numpy's OpenBLAS
    openblas: object  # threadpoolctl's controller of that OpenBLAS
    job_offset: ctypes.c_int32  # blas_threads.JOB_OFFSET
    max_threads: int  # OpenBLAS's thread slots (its build's MAX_THREADS), 0 if unknown


def _routing() -> _Route | None:
    """How products reach numba's threads, or None where they cannot; decided on first use."""
    global _route
    if _route is None:
        _route = _find_route() or False
    return _route or None


def _find_route() -> _Route | None:
    numba.get_num_threads()  # starts numba's pool, which chooses its threading layer
    lib = _numpys_openblas()
    setter = lib and _symbol(lib, "openblas_set_threads_callback_function")
    if setter is None or numba.threading_layer() != "omp":
        return None
    from .blas_threads import JOB_OFFSET, run_jobs  # compiled (or loaded) only where it runs

    setter.argtypes, setter.restype = [ctypes.c_void_p], None
    held = _HeldSetting(partial(setter, run_jobs.address), partial(setter, None))
    max_threads = re.search(r"MAX_THREADS=(\d+)", _config_string(lib))
    return _Route(held, lib, JOB_OFFSET, int(max_threads[1]) if max_threads else 0)


def _numpys_openblas():
    """threadpoolctl's handle on the OpenBLAS that numpy's products call, or None.

    Another OpenBLAS may be loaded too (scipy's, which numba imports): the one whose
    configuration string is the one numpy was built against is numpy's, but for the kernels'
    name in it, which says which CPU the library chose at run time (the build machine's in the
    string numpy records; "SkylakeX" on an AVX-512 machine where the build said "Haswell").
    """
    built = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    want = _without_core(built.get("openblas configuration", ""))
    for lib in _blas_libraries():
        if lib.internal_api == "openblas" and _without_core(_config_string(lib)) == want:
            return lib
    return None


def _without_core(config: str) -> list[str]:
    """The words of an OpenBLAS configuration string but its kernels' name, which OpenBLAS
    writes last but for ``MAX_THREADS=n`` ("OpenBLAS 0.3.31 USE64BITINT ... Haswell
    MAX_THREADS=64")."""
    words = config.split()
    core = -2 if words and words[-1].startswith("MAX_THREADS=") else -1
    return words[:core] + words[core:][1:]


def _config_string(lib) -> str:
    """OpenBLAS's ``openblas_get_config()`` of threadpoolctl's handle ``lib``, spaces
    normalised ("OpenBLAS 0.3.31 USE64BITINT ... MAX_THREADS=64"), or ""."""
    get_config = _symbol(lib, "openblas_get_config")
    if get_config is None:
        return ""
    get_config.restype = ctypes.c_char_p
    return " ".join(get_config().decode().split())


def _symbol(lib, name: str):
    """OpenBLAS function ``name`` of threadpoolctl's handle ``lib``, as numpy's builds prefix
    and suffix it (``scipy_`` and ``64_`` for 64-bit integers), or None."""
    for symbol in (f"scipy_{name}64_", f"{name}64_", f"scipy_{name}", name):
        if hasattr(lib.dynlib, symbol):
            return getattr(lib.dynlib, symbol)
    return None


_route = None  # None: not decided yet; False: products cannot reach numba's threads


def describe_route() -> str:
    """Where products' BLAS jobs run, for ``autodiff.runtime.describe`` (deciding nothing)."""
    if not _config.BLAS_ON_NUMBA_THREADS:
        return "OpenBLAS's own workers (one_pool is off)"
    if _route is None:
        return "decided at the first threaded product"
    if _route is False:
        return "OpenBLAS's own workers (no OpenBLAS threads callback, or numba's layer is not omp)"
    return "numba's threads, while numba has at least as many threads as OpenBLAS"


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


def _after_fork_in_child() -> None:
    _one_thread.after_fork_in_child()
    if _route:
        _route.callback.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
