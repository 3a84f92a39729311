"""Every process-level setting autodiff makes, in one place, and how to change each.

``import autodiff`` changes nothing outside the library: no environment variable, no malloc
tuning, no BLAS thread limit that could slow another thread's work. The settings
(``python -m benchmarks.tuning spin one_pool malloc`` measures what each one buys):

``spin`` (off by default)
    numba's idle OpenMP workers spin :data:`SPIN_COUNT` times (or a count given) before they
    sleep, instead of libgomp's default of a few milliseconds: they then leave the cores sooner
    to other programs, at the cost of waking more often (tens of microseconds each). Since all
    of a step's parallel work runs on numba's threads, the default is as fast or faster (LeNet-5,
    MLP and ResNet-18 steps: ``python -m benchmarks.tuning spin``).
    libgomp reads the count (``GOMP_SPINCOUNT``) once, when it is loaded, so autodiff loads it
    (starting no thread) with the variable in the environment meanwhile, then restores the
    environment: child processes do not see it, and numba's omp layer uses the libgomp loaded.
    torch imported afterwards shares that libgomp and its count. It can change only before
    libgomp loads (:func:`configure` raises after that, and ``AUTODIFF_RUNTIME`` warns); your
    own ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is the other way to set it.
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

``buffers`` (on by default)
    autodiff's kernels keep their large output arrays (a convolution's, a ReLU's, their
    gradients) and hand one out again once nothing refers to it
    (``autodiff.kernels.buffers``), so a training step reuses last step's pages instead of
    page-faulting them in afresh: 850 faults and a third of a LeNet-5 step at batch 64. Only
    those arrays are kept, at most ``_config.BUFFER_KEPT_BYTES`` of them;
    :func:`release_buffers` gives back those that are free, as turning the setting off does.
``winograd`` (off by default)
    3x3 convolutions with at least 16 channels in and out use Winograd F(4x4, 3x3) (about 1.2x
    faster again), whose float32 error is 6-22 times PyTorch's; off, they use Winograd
    F(2x2, 3x3), within twice PyTorch's error (``tests/kernels/test_conv_accuracy.py``).

Change them with :func:`configure` or, before ``import autodiff``, the environment variable
``AUTODIFF_RUNTIME``, e.g. ``AUTODIFF_RUNTIME="spin=off,malloc=on,buffers=off"`` (``spin``
also takes a count: ``spin=20000``). :func:`describe` prints the thread pools and the settings
in force.
"""

import ctypes
import ctypes.util
import os
import platform
import sys
import threading
import warnings
from typing import TextIO

import numba

from autodiff.kernels import _config, blas
from autodiff.kernels import buffers as buffer_kernels
from autodiff.kernels import winograd as winograd_kernels

#: Spins of numba's idle OpenMP workers before they sleep, for ``spin=True``: tens of
#: microseconds, long enough to catch the next kernel of a small network
#: (``python -m benchmarks.tuning spin_count``).
SPIN_COUNT = 1000
#: glibc: blocks from this size up are mapped on their own (glibc's own ceiling for its sliding
#: threshold), and free memory at the top of the heap beyond the trim threshold is returned.
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 64 * 2**20
#: glibc's initial thresholds (malloc.h: DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD).
GLIBC_MMAP_THRESHOLD = GLIBC_TRIM_THRESHOLD = 128 * 2**10
#: The environment switch, read once when autodiff is imported.
ENV = "AUTODIFF_RUNTIME"

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
_SETTINGS = ("spin", "one_pool", "malloc", "buffers", "winograd")
_LIBGOMP = "libgomp.so.1"  # GNU OpenMP, numba's omp threading layer on Linux
_ON, _OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no")

_state = {"spin": None, "malloc": False}
_lock = threading.Lock()


def configure(
    *,
    spin: bool | int | None = None,
    one_pool: bool | None = None,
    malloc: bool | None = None,
    buffers: bool | None = None,
    winograd: bool | None = None,
) -> dict:
    """Turn runtime settings on or off; arguments left as None keep their current value.

    Parameters
    ----------
    spin : bool or int, optional
        Spin count of numba's idle OpenMP workers: True for :data:`SPIN_COUNT`, an int >= 0 for
        that count, False for libgomp's default. Only before numba's OpenMP runtime has started.
    one_pool : bool, optional
        Run the BLAS jobs of autodiff's matrix products on numba's threads.
    malloc : bool, optional
        Keep freed heap memory in the process (glibc's ``mallopt``).
    buffers : bool, optional
        Let autodiff's kernels reuse their large output arrays once free.
    winograd : bool, optional
        Let wide 3x3 convolutions use Winograd's algorithm: faster, less accurate.

    Returns
    -------
    dict
        The settings in force afterwards, as :func:`settings` returns them.

    Raises
    ------
    TypeError, ValueError
        A value of the wrong type, or a negative spin count.
    RuntimeError
        ``spin`` asks for a different count after numba's OpenMP runtime has started (set
        ``GOMP_SPINCOUNT`` in the environment before starting Python instead), or ``malloc``
        is asked for off glibc. Nothing is changed then.
    """
    count = _spin_count(spin)
    switches = {"one_pool": one_pool, "malloc": malloc, "buffers": buffers, "winograd": winograd}
    for name, value in switches.items():
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"configure: {name} must be True, False or None, not {value!r}")
    with _lock:
        if spin is not None and count != _state["spin"] and _openmp_started():
            raise RuntimeError(
                f"configure: spin={spin!r} comes too late: GNU OpenMP (libgomp) is loaded and "
                f"read its spin count ({_state['spin'] or 'not set by autodiff'}); set "
                f"{ENV}=spin=... or GOMP_SPINCOUNT before starting Python instead"
            )
        if malloc and not _glibc():
            raise RuntimeError(f"configure: malloc=True needs glibc, not {platform.libc_ver()}")
        if count is not None and count != _state["spin"]:
            _load_openmp(count)
        if malloc is not None and malloc != _state["malloc"] and _glibc():
            _mallopt(malloc)
        if one_pool is not None:
            _config.BLAS_ON_NUMBA_THREADS = one_pool
        if buffers is not None:
            _config.BUFFER_REUSE = buffers
            if not buffers:
                buffer_kernels.release()
        if winograd is not None:
            winograd_kernels.F4.enabled = winograd
        return settings()


def release_buffers() -> int:
    """Give back the kernels' kept output arrays that nothing refers to any more (the
    ``buffers`` setting keeps them for reuse); returns the bytes still kept, all in use."""
    buffer_kernels.release()
    return buffer_kernels.kept_bytes()


def limit_threads(n: int) -> None:
    """Hold numba's and BLAS's pools of this whole process to `n` threads each.

    Meant for worker processes (a process pool's ``initializer``, as ``autodiff.tune`` uses it):
    one worker per core, each with a pool per core, would run cores x cores threads.
    """
    numba.set_num_threads(n)
    blas.threadpoolctl().threadpool_limits(n, user_api="blas")


def settings() -> dict:
    """The settings in force: ``{"spin": int or None, "one_pool": bool, "malloc": bool,
    "buffers": bool, "winograd": bool}``.

    ``spin`` is None when autodiff did not set it: libgomp's default, or the user's own
    ``GOMP_SPINCOUNT`` / ``OMP_WAIT_POLICY`` (:func:`describe` shows those)."""
    return {
        "spin": _state["spin"],
        "one_pool": _config.BLAS_ON_NUMBA_THREADS,
        "malloc": _state["malloc"],
        "buffers": _config.BUFFER_REUSE,
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
        f"  spin={s['spin'] if s['spin'] is not None else 'off'} "
        + " ".join(f"{k}={'on' if s[k] else 'off'}" for k in _SETTINGS[1:]),
        f"numba: {nb['threads']} threads, threading layer {nb['threading_layer']}",
    ]
    for lib in info["libraries"]:
        # OpenBLAS's kernel set: the CPU's, or the one OPENBLAS_CORETYPE names
        kernels = f"{lib['architecture']} kernels, " if lib.get("architecture") else ""
        lines.append(
            f"{lib['user_api']}: {lib['internal_api']} {lib.get('version') or '(no version)'}, "
            f"{kernels}{lib['num_threads']} threads ({os.path.basename(lib['filepath'])})"
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


def _spin_count(spin) -> int | None:
    """The spin count ``spin`` asks for (None: libgomp's default); raises on a bad value."""
    if spin is None or spin is False:
        return None
    if spin is True:
        return SPIN_COUNT
    if not isinstance(spin, int) or spin < 0:
        raise ValueError(f"configure: spin must be True, False or a count >= 0, not {spin!r}")
    return spin


def _pool_started() -> bool:
    """Whether numba's thread pool has started (it chooses its threading layer then)."""
    try:
        numba.threading_layer()
    except ValueError:
        return False
    return True


def _openmp_started() -> bool:
    """Whether GNU OpenMP has read its settings: numba's pool started, or libgomp is loaded
    (by numba, torch, or anything else)."""
    if _pool_started():
        return True
    try:
        ctypes.CDLL(_LIBGOMP, mode=os.RTLD_NOLOAD)
    except (OSError, AttributeError):  # not loaded; or no RTLD_NOLOAD (not Linux)
        return False
    return True


def _load_openmp(count: int) -> None:
    """Load libgomp with ``GOMP_SPINCOUNT=count`` in the environment meanwhile.

    libgomp reads the variable as it loads; numba's omp layer then finds it loaded and uses it.
    Loading starts no thread, so a process forked afterwards can still run parallel kernels
    (numba refuses to once its pool has started in the parent). The environment is restored.
    """
    saved = os.environ.get("GOMP_SPINCOUNT")
    os.environ["GOMP_SPINCOUNT"] = str(count)
    try:
        ctypes.CDLL(_LIBGOMP)
    except OSError as exc:
        raise RuntimeError(f"configure: spin={count}: no GNU OpenMP runtime ({exc})") from None
    finally:
        if saved is None:
            del os.environ["GOMP_SPINCOUNT"]
        else:
            os.environ["GOMP_SPINCOUNT"] = saved
    _state["spin"] = count


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
    """``"spin=on,malloc=off,one_pool=on"`` -> keyword arguments for :func:`configure`.

    Raises ValueError naming the variable and the item it cannot read.
    """
    kwargs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        name, value = name.strip(), value.strip().lower()
        if name not in _SETTINGS:
            raise ValueError(f"{ENV}: unknown setting {name!r} in {text!r}; known: {_SETTINGS}")
        if value in _ON:
            kwargs[name] = True
        elif value in _OFF:
            kwargs[name] = False
        elif name == "spin" and value.isdigit():
            kwargs[name] = int(value)
        else:
            raise ValueError(f"{ENV}: {item!r} in {text!r} is not on, off (or a spin count)")
    return kwargs


def _from_environment() -> None:
    """Apply ``AUTODIFF_RUNTIME`` (called once, when autodiff is imported).

    A spin count that cannot be set (libgomp loaded already, or absent) is left as it is, with a
    warning.
    """
    kwargs = parse(os.environ.get(ENV, ""))
    spin = kwargs.pop("spin", None)
    configure(**kwargs)
    try:
        configure(spin=spin)
    except RuntimeError as exc:
        warnings.warn(f"{ENV}: {exc}", RuntimeWarning, stacklevel=2)
