"""The machine a run happens on: thread pinning and the description saved with the results.

Numbers from different machines, or from one machine with different thread counts, are not
comparable, so every JSON result carries the CPU, the library versions and each thread pool's
size as it actually was (threadpoolctl's view, numba's threading layer, torch's setting).
"""

import importlib.metadata
import os
import platform
import sys

_kmp = os.environ.get("KMP_DUPLICATE_LIB_OK")
import threadpoolctl  # noqa: E402 - its import sets KMP_DUPLICATE_LIB_OK=True, undone here:

if _kmp is None:  # the children of the isolated mode, and every peer, see the user's environment
    os.environ.pop("KMP_DUPLICATE_LIB_OK", None)

#: Libraries whose versions are recorded when installed.
_VERSIONED = ("numpy", "numba", "torch", "threadpoolctl", "tinygrad", "mygrad", "autograd")

#: How long idle pool threads busy-wait before sleeping. The defaults (OpenBLAS ~0.1 s, GNU
#: OpenMP ~5 ms, Intel OpenMP 200 ms) let one peer's idle threads spin through the next peer's
#: sample when peers alternate on two cores, slowing it several-fold; these keep the spin well
#: under a millisecond, short enough for that and long enough for back-to-back calls.
SPIN_LIMITS = {"OPENBLAS_THREAD_TIMEOUT": "20", "GOMP_SPINCOUNT": "20000", "KMP_BLOCKTIME": "1"}

#: Environment variables that shape thread pools, recorded with the results.
_THREAD_ENV = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "MKL_", "NUMBA_")


def limit_spin_waits() -> None:
    """Shorten idle threads' busy-waits (:data:`SPIN_LIMITS`) unless the user set them.

    For the in-process mode only, where peers share one process; the isolated mode leaves the
    environment as the user has it. The libraries read these when they load, so this must run
    before numpy or torch import.
    """
    for name, value in SPIN_LIMITS.items():
        os.environ.setdefault(name, value)


def pin_threads_early(threads: int) -> None:
    """Set the thread count numba reads once at import; call before anything imports numba."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)


def pin_threads(threads: int) -> str | None:
    """Limit every loaded native thread pool (BLAS, OpenMP) and numba's to ``threads``.

    threadpoolctl only sees libraries already loaded, and some load late (numba's OpenMP
    runtime at its first parallel kernel, scipy's BLAS at its first compile), so call this
    after the peers imported and again before each case. numba is left alone unless loaded.

    Returns
    -------
    str or None
        A note when numba's pool is smaller than ``threads``: its size is fixed when numba
        loads, by ``NUMBA_NUM_THREADS`` (default: the cores), and only that variable raises it.
    """
    threadpoolctl.threadpool_limits(limits=threads)
    numba = sys.modules.get("numba")
    if numba is None:
        return None
    most = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(min(threads, most))
    if threads > most:
        return f"numba runs {most} threads, not {threads}: only NUMBA_NUM_THREADS raises that"
    return None


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    """Installed version of a distribution, without importing it; None if absent."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _numba_threading_layer() -> str:
    """The threading layer numba chose; it is only decided once a parallel kernel has run."""
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        pass

    @numba.njit(parallel=True)
    def touch(n):
        total = 0
        for i in numba.prange(n):
            total += i
        return total

    touch(4)
    return numba.threading_layer()


def describe(threads: int, load_at_start: tuple[float, ...]) -> dict:
    """What was measured on: CPU, cores, versions, thread pools and how busy the machine was.

    Parameters
    ----------
    threads : int
        The thread count the suite asked for.
    load_at_start : tuple of float
        ``os.getloadavg()`` before the run; other processes' load skews every number.

    Returns
    -------
    dict
        JSON-ready description.
    """
    _numba_threading_layer()  # decided now, so that pools() can name it
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: v for name in _VERSIONED if (v := _version(name))},
        "threads_requested": threads,
        **pools(),
        "load_average_start": list(load_at_start),
        "load_average_end": list(os.getloadavg()),
    }


def pools() -> dict:
    """This process's thread pools as they are now, and the environment variables shaping them.

    numba and torch are described only if loaded (numba's threading layer only once a parallel
    kernel has chosen it), so that describing a process changes nothing in it.
    """
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
    found = [{k: info.get(k) for k in keys} for info in threadpoolctl.threadpool_info()]
    blas = [p for p in found if p["user_api"] == "blas"]
    numba, torch = sys.modules.get("numba"), sys.modules.get("torch")
    layer = None
    if numba is not None:
        try:
            layer = numba.threading_layer()
        except ValueError:  # no parallel kernel has run
            layer = "not started"
    return {
        "blas": [  # e.g. "openblas 0.3.31 Haswell (threads: 2)": Haswell is its kernel set
            " ".join(filter(None, (p["internal_api"], p["version"], p["architecture"])))
            + f" (threads: {p['num_threads']})"
            for p in blas
        ],
        "threadpools": found,
        "numba_threads": numba.get_num_threads() if numba else None,
        "numba_threading_layer": layer,
        "torch_threads": torch.get_num_threads() if torch else None,
        "thread_env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(_THREAD_ENV)},
    }


def _pool_names(found: dict) -> list[str]:
    """Each pool of a :func:`pools` description with its thread count."""
    names = list(found["blas"])
    if found["numba_threads"] is not None:
        names.append(f"numba {found['numba_threading_layer']} (threads: {found['numba_threads']})")
    if found["torch_threads"] is not None:
        names.append(f"torch (threads: {found['torch_threads']})")
    return names


def summary(machine: dict) -> str:
    """One line naming the CPU, cores, versions, thread pools and the thread-related variables
    of the environment (``OPENBLAS_CORETYPE`` decides OpenBLAS's kernels), for the table's header.

    With ``machine["processes"]`` (peer -> :func:`pools` of its last isolated process) the
    pools shown are those of each peer's processes, not this one's.
    """
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if k != "threadpoolctl")
    per_peer = machine.get("processes")
    if per_peer:
        pools = [f"{peer}: {', '.join(_pool_names(found))}" for peer, found in per_peer.items()]
    else:
        pools = _pool_names(machine)
    load = "/".join(
        f"{x:.1f}" for x in machine["load_average_start"][:1] + machine["load_average_end"][:1]
    )
    env = " ".join(f"{k}={v}" for k, v in machine.get("thread_env", {}).items())
    return (
        f"{machine['cpu']}, {machine['cores']} cores; python {machine['python']}, {versions}; "
        + "; ".join(pools)
        + (f"; environment: {env}" if env else "")
        + f"; load average {load} (start/end)"
    )
