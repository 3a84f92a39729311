"""Every process-level setting autodiff makes, in one place, and how to change each.

``import autodiff`` changes nothing outside the library: no environment variable, no thread
pool setting, no malloc tuning unless asked for. The settings (``python -m benchmarks.tuning
one_pool malloc`` measures what each one buys):

``one_pool`` (on by default)
    autodiff's matrix products run OpenBLAS's jobs on numba's threads (OpenBLAS's threads
    callback, installed for the duration of each product only: ``autodiff.kernels.blas``), so a
    training step runs all its parallel work on one pool of threads. Off, products wake
    OpenBLAS's own workers, which then spin on the cores numba's kernels need.
``malloc`` (off by default)
    glibc keeps up to 64 MiB of freed heap instead of returning it to the system
    (``mallopt``: mmap threshold 32 MiB, trim threshold 64 MiB), so a training step does not
    page-fault its activations in afresh. It applies to every allocation of the process;
    turning it off restores glibc's initial thresholds (glibc's sliding mmap threshold,
    disabled by any ``mallopt`` call, stays off). glibc only.
``winograd`` (off by default)
    3x3 convolutions with at least 16 channels in and out use Winograd F(4x4, 3x3) (about 1.2x
    faster again), whose float32 error is 6-22 times PyTorch's; off, they use Winograd
    F(2x2, 3x3), within twice PyTorch's error (``tests/kernels/test_conv_accuracy.py``).

Change them with :func:`configure` or, before ``import autodiff``, the environment variable
``AUTODIFF_RUNTIME``, e.g. ``AUTODIFF_RUNTIME="one_pool=off,malloc=on"``. :func:`describe`
prints the thread pools and the settings in force.

Independently of these settings, a Winograd convolution holds BLAS to one thread while its own
threads split the batch (``autodiff.kernels.winograd``), for the duration of that call only.
"""

import ctypes
import ctypes.util
import os
import platform
import sys
import threading
from typing import TextIO

import numba

from autodiff.kernels import _config, blas
from autodiff.kernels import winograd as winograd_kernels

#: glibc: blocks from this size up are mapped on their own (glibc's own ceiling for its sliding
#: threshold), and free memory at the top of the heap beyond the trim threshold is returned.
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 64 * 2**20
#: glibc's initial thresholds (malloc.h: DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD).
GLIBC_MMAP_THRESHOLD = GLIBC_TRIM_THRESHOLD = 128 * 2**10
#: The environment switch, read once when autodiff is imported.
ENV = "AUTODIFF_RUNTIME"

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
_SETTINGS = ("one_pool", "malloc", "winograd")
_ON, _OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no")

_state = {"malloc": False}
_lock = threading.Lock()


def configure(
    *, one_pool: bool | None = None, malloc: bool | None = None, winograd: bool | None = None
) -> dict:
    """Turn runtime settings on or off; arguments left as None keep their current value.

    Parameters
    ----------
    one_pool : bool, optional
        Run the BLAS jobs of autodiff's matrix products on numba's threads.
    malloc : bool, optional
        Keep freed heap memory in the process (glibc's ``mallopt``).
    winograd : bool, optional
        Let wide 3x3 convolutions use Winograd's algorithm: faster, less accurate.

    Returns
    -------
    dict
        The settings in force afterwards, as :func:`settings` returns them.

    Raises
    ------
    TypeError
        A value that is not True, False or None.
    RuntimeError
        ``malloc`` is asked for off glibc. Nothing is changed then.
    """
    for name, value in (("one_pool", one_pool), ("malloc", malloc), ("winograd", winograd)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"configure: {name} must be True, False or None, not {value!r}")
    with _lock:
        if malloc and not _glibc():
            raise RuntimeError(f"configure: malloc=True needs glibc, not {platform.libc_ver()}")
        if malloc is not None and malloc != _state["malloc"] and _glibc():
            _mallopt(malloc)
        if one_pool is not None:
            _config.BLAS_ON_NUMBA_THREADS = one_pool
        if winograd is not None:
            winograd_kernels.F4.enabled = winograd
        return settings()


def limit_threads(n: int) -> None:
    """Hold numba's and BLAS's pools of this whole process to `n` threads each.

    Meant for worker processes (a process pool's ``initializer``, as ``autodiff.tune`` uses it):
    one worker per core, each with a pool per core, would run cores x cores threads.
    """
    numba.set_num_threads(n)
    blas.threadpoolctl().threadpool_limits(n, user_api="blas")


def settings() -> dict:
    """The settings in force: ``{"one_pool": bool, "malloc": bool, "winograd": bool}``."""
    return {
        "one_pool": _config.BLAS_ON_NUMBA_THREADS,
        "malloc": _state["malloc"],
        "winograd": winograd_kernels.F4.enabled,
    }


def describe(file: TextIO | None = None, quiet: bool = False) -> dict:
    """Print (to ``file``, default stdout; not if ``quiet``) and return the thread pools and the
    settings in force.

    Returns ``{"settings": ..., "numba": {"threading_layer", "threads", "started"},
    "libraries": threadpoolctl's info (BLAS and OpenMP libraries loaded), "blas_jobs": where
    autodiff's products run their BLAS jobs, "torch": threads or
    None, "environment": the thread and malloc variables set}``. Never imports torch, and
    never starts numba's thread pool.
    """
    started = _pool_started()
    info = {
        "settings": settings(),
        "numba": {
            "threading_layer": numba.threading_layer() if started else "not started",
            "threads": numba.get_num_threads() if started else numba.config.NUMBA_NUM_THREADS,
            "started": started,
        },
        "libraries": blas.threadpoolctl().threadpool_info(),
        "blas_jobs": blas.describe_route(),
        "torch": _torch_threads(),
        "environment": {
            k: v for k, v in os.environ.items() if k.startswith(_POOL_VARIABLES) or k == ENV
        },
    }
    if not quiet:
        print(_format(info), file=file or sys.stdout)
    return info


_POOL_VARIABLES = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "MKL_", "NUMBA_", "MALLOC_", "GLIBC_")


def _format(info: dict) -> str:
    """The text :func:`describe` prints."""
    s, nb = info["settings"], info["numba"]
    lines = [
        "autodiff runtime settings (autodiff.runtime.configure, or AUTODIFF_RUNTIME):",
        "  " + " ".join(f"{name}={'on' if on else 'off'}" for name, on in s.items()),
        f"numba: {nb['threads']} threads, threading layer {nb['threading_layer']}",
    ]
    for lib in info["libraries"]:
        lines.append(
            f"{lib['user_api']}: {lib['internal_api']} {lib.get('version') or '(no version)'}, "
            f"{lib['num_threads']} threads ({os.path.basename(lib['filepath'])})"
        )
    lines.append(f"autodiff's BLAS jobs: {info['blas_jobs']}")
    if info["torch"] is not None:
        lines.append("torch: {} threads, {} inter-op threads".format(*info["torch"]))
    lines += [f"{k}={v}" for k, v in sorted(info["environment"].items())]
    return "\n".join(lines)


def _torch_threads() -> tuple[int, int] | None:
    """torch's intra- and inter-op thread counts if torch is imported already, else None."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "get_num_threads"):
        return None
    return torch.get_num_threads(), torch.get_num_interop_threads()


def _pool_started() -> bool:
    """Whether numba's thread pool has started (it chooses its threading layer then)."""
    try:
        numba.threading_layer()
    except ValueError:
        return False
    return True


def _glibc() -> bool:
    return platform.libc_ver()[0] == "glibc"


def _mallopt(keep: bool) -> None:
    """Set glibc's mmap and trim thresholds: ours to keep freed memory, else glibc's initial."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    mmap, trim = (
        (MMAP_THRESHOLD, TRIM_THRESHOLD) if keep else (GLIBC_MMAP_THRESHOLD, GLIBC_TRIM_THRESHOLD)
    )
    if not (libc.mallopt(_M_MMAP_THRESHOLD, mmap) and libc.mallopt(_M_TRIM_THRESHOLD, trim)):
        raise RuntimeError(f"configure: glibc's mallopt refused thresholds {mmap} and {trim}")
    _state["malloc"] = keep


def parse(text: str) -> dict:
    """``"one_pool=on,malloc=off"`` -> keyword arguments for :func:`configure`.

    Raises ValueError naming the variable and the item it cannot read.
    """
    kwargs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if name not in _SETTINGS:
            raise ValueError(f"{ENV}: unknown setting {name!r} in {text!r}; known: {_SETTINGS}")
        if value not in _ON + _OFF:
            raise ValueError(f"{ENV}: {item!r} in {text!r} is neither on nor off")
        kwargs[name] = value in _ON
    return kwargs


def _from_environment() -> None:
    """Apply ``AUTODIFF_RUNTIME`` (called once, when autodiff is imported)."""
    configure(**parse(os.environ.get(ENV, "")))
