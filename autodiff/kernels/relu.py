"""ReLU forward and backward in one pass each, split over threads for large arrays.

numpy's ``np.maximum(x, 0)`` is one pass already, but its backward, ``g * (y > 0)``, makes a
boolean temporary and a second pass, and neither uses the second core. Arrays under
``_PARALLEL_MIN`` elements run on the calling thread: waking the thread pool costs more than it
saves there. Arrays the kernels do not take (other dtypes, other memory orders) go through numpy.
"""

import numpy as np
from numba import njit, prange

from . import _config
from ._checks import FLOAT_DTYPES

# Below this many elements the second thread does not pay: waking numba's pool right after a
# multithreaded GEMM (whose OpenBLAS workers are still spinning) costs more than it saves.
_PARALLEL_MIN = 2**18
# Elements per parallel chunk: long enough for the vector loop, short enough to balance.
_CHUNK = 2**14


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``: same shape and dtype, NaN kept."""
    if not _kernel_ready(x):
        return np.maximum(x, 0)
    y = np.empty_like(x)
    flat = x.reshape(-1), y.reshape(-1)
    if x.size < _PARALLEL_MIN:
        _relu_impl(*flat, 0, x.size)
    else:
        _relu_parallel_impl(*flat)
    return y


def relu_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 where the forward output ``y`` is <= 0, else ``g`` (a NaN ``y`` passes ``g``, as in
    PyTorch); ``g`` and ``y`` of one shape. An inf or NaN ``g`` gives 0 where ``y`` <= 0."""
    if not (_kernel_ready(g) and _kernel_ready(y) and g.shape == y.shape and g.dtype == y.dtype):
        return np.where(y <= 0, 0, g).astype(g.dtype, copy=False)
    gx = np.empty_like(g)
    flat = g.reshape(-1), y.reshape(-1), gx.reshape(-1)
    if g.size < _PARALLEL_MIN:
        _relu_backward_impl(*flat, 0, g.size)
    else:
        _relu_backward_parallel_impl(*flat)
    return gx


def _kernel_ready(a: np.ndarray) -> bool:
    """float32/float64 in C order: what the kernels take as they are."""
    return a.dtype in FLOAT_DTYPES and a.flags.c_contiguous


# uint64 indices, as in im2col.py: numba's negative-index check would stop the loops vectorising.


@njit(**_config.JIT)
def _relu_impl(x, y, lo, hi):
    zero = x.dtype.type(0)
    for i in range(np.uint64(lo), np.uint64(hi)):
        v = x[i]
        y[i] = zero if v <= zero else v  # "<=" is False for NaN, which passes through


@njit(**_config.JIT)
def _relu_backward_impl(g, y, gx, lo, hi):
    zero = g.dtype.type(0)
    for i in range(np.uint64(lo), np.uint64(hi)):
        gx[i] = zero if y[i] <= zero else g[i]


@njit(**_config.PARALLEL)
def _relu_parallel_impl(x, y):
    for c in prange((x.size + _CHUNK - 1) // _CHUNK):
        _relu_impl(x, y, c * _CHUNK, min((c + 1) * _CHUNK, x.size))


@njit(**_config.PARALLEL)
def _relu_backward_parallel_impl(g, y, gx):
    for c in prange((g.size + _CHUNK - 1) // _CHUNK):
        _relu_backward_impl(g, y, gx, c * _CHUNK, min((c + 1) * _CHUNK, g.size))
