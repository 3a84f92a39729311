"""The kernels' large output arrays, kept and handed out again once nothing refers to them.

A training step allocates the same large arrays every time (a convolution's output, a ReLU's,
their gradients) and drops them when the step's graph goes. glibc gives such blocks back to
the system when they are freed (its mmap and trim thresholds rise only as far as the largest
block freed so far), so a process running a small network faults the pages of each one in
afresh at every step: about 850 page faults per LeNet-5 step at batch 64, a third of its time.
:func:`empty` keeps the arrays of ``_config.BUFFER_MIN_BYTES`` and more that the kernels
return, up to ``_config.BUFFER_KEPT_BYTES`` in all, and reuses one of the same shape and dtype
once it is free (Winograd's scratch buffers come from here too, for the same reason). Only
these are kept: the rest of the process's memory is left to glibc (``autodiff.runtime``'s
``malloc`` setting changes glibc's thresholds for the whole process instead; its ``buffers``
setting turns this off).

An array is free when its reference count is the keeper's own: every view of an array (a
reshape, a slice, an array numba returns from it) refers to it as its base, and a tensor or a
gradient holding it refers to it. The array handed out is the kept array itself, so it owns
its memory, as a fresh ``np.empty`` does.
"""

import math
import os
import sys
import threading

import numpy as np

from . import _config

_kept: dict[tuple, list[np.ndarray]] = {}  # (shape, dtype) -> arrays of that kind
_kept_bytes = 0
_lock = threading.Lock()


def empty(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``, as ``np.empty``: a kept
    array that nothing refers to any more, if there is one."""
    global _kept_bytes
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _config.BUFFER_MIN_BYTES or not _config.BUFFER_REUSE:
        return np.empty(shape, dtype)
    key = (tuple(shape), dtype)
    with _lock:  # Winograd's threads call kernels concurrently
        arrays = _kept.get(key, ())
        for i in range(len(arrays)):
            if _references(arrays, i) == _FREE:
                a = arrays[i]
                # its last owner may have locked it, or reshaped it in place
                if a.shape == key[0] and a.dtype == dtype:
                    a.flags.writeable = True
                    return a
        if _kept_bytes + nbytes > _config.BUFFER_KEPT_BYTES:
            _drop_free()
            if _kept_bytes + nbytes > _config.BUFFER_KEPT_BYTES:
                return np.empty(shape, dtype)
        a = np.empty(shape, dtype)
        _kept.setdefault(key, []).append(a)  # after _drop_free, which may remove the key
        _kept_bytes += nbytes
        return a


def release() -> None:
    """Give back every kept array that nothing refers to (to glibc, which may return it to the
    system)."""
    with _lock:
        _drop_free()


def kept_bytes() -> int:
    """Bytes of the arrays kept, in use or free."""
    return _kept_bytes


def _references(arrays: list, i: int) -> int:
    """The reference count of ``arrays[i]``, counted the same way for every array (see
    ``_FREE``)."""
    return sys.getrefcount(arrays[i])


# The count ``_references`` gives for an array that only the keeper's list refers to, measured
# rather than assumed, since what a call adds to a count depends on the interpreter.
_FREE = _references([np.empty(0)], 0)


def _drop_free() -> None:
    """Forget the free arrays (the caller holds ``_lock``)."""
    global _kept_bytes
    for key, arrays in list(_kept.items()):
        # freeness first: a name bound to an array adds to its count
        free = [_references(arrays, i) == _FREE for i in range(len(arrays))]
        in_use = [a for a, f in zip(arrays, free, strict=True) if not f]
        _kept_bytes -= sum(a.nbytes for a, f in zip(arrays, free, strict=True) if f)
        if in_use:
            _kept[key] = in_use
        else:
            del _kept[key]


def _after_fork_in_child() -> None:
    """A forked child has only the forking thread: a lock another thread held stays held."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
