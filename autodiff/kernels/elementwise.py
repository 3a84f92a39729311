"""Elementwise formulas in one pass each, split over numba's threads for large arrays.

numpy evaluates ``g * (1 - y * y)`` (tanh's backward) in three passes with two temporaries, and
every pass on one thread. Here each formula is one loop: ``_formula`` holds the formulas by code,
and one pair of drivers runs any of them, ``_map_impl`` on the calling thread and
``_map_parallel_impl`` in chunks over numba's threads. The formula code is the same for the whole
loop, so LLVM compiles one vector loop per formula (loop unswitching) with no branch inside.

Arrays under ``PARALLEL_MIN`` elements run on the calling thread: waking the thread pool costs
more than it saves there. The kernels take float32; float64, which serves gradient checks and
references on small arrays, goes through numpy, so that a gradient check compiles nothing more.
So do arrays in other memory orders, and broadcasting other than a gradient broadcast from one
value, with numpy's results. NaN and inf propagate as in numpy (fastmath here leaves out "nnan"
and "ninf").
"""

import numpy as np
from numba import njit, prange

from . import _config, buffers

# Elements from which the drivers run on numba's threads (``python -m benchmarks.tuning
# elementwise_parallel``); below it the second thread does not pay, and right after a
# multithreaded GEMM (whose OpenBLAS workers still spin) waking numba's pool costs more.
PARALLEL_MIN = 2**18
# Elements per parallel chunk: long enough for the vector loop, short enough to balance.
_CHUNK = 2**14

# Formula codes (``_formula``): the result from a and b, element by element.
_RELU, _RELU_GRAD, _TANH_GRAD, _SIGMOID, _SIGMOID_GRAD, _SQUARE_GRAD = range(6)


def relu_forward(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``: same shape and dtype, NaN kept."""
    out = _map(_RELU, x, x)
    return np.maximum(x, 0) if out is None else out


def relu_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0 where the forward output ``y`` is <= 0, else ``g`` (a NaN ``y`` passes ``g``, as in
    PyTorch); ``g`` and ``y`` of one shape. An inf or NaN ``g`` gives 0 where ``y`` <= 0."""
    out = _map(_RELU_GRAD, g, y)
    return np.where(y <= 0, 0, g).astype(g.dtype, copy=False) if out is None else out


def tanh_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``g * (1 - y * y)``: tanh's input gradient from its output ``y``."""
    out = _map(_TANH_GRAD, g, y)
    return g * (1 - y * y) if out is None else out


def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for large ``|x|``: from ``e = exp(-|x|)``, which
    never overflows, as ``1 / (1 + e)`` for x >= 0 and ``e / (1 + e)`` below (each exact on its
    side). numpy's SIMD exp makes e, in place; one pass turns it into the result."""
    e = np.abs(x, out=np.empty_like(x))  # out=, so that a 0-d x gives an array too
    np.negative(e, out=e)
    np.exp(e, out=e)
    # into a new array: written over e, the loop would not vectorise (LLVM's overlap check)
    out = _map(_SIGMOID, x, e)
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)) if out is None else out


def sigmoid_backward(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``g * y * (1 - y)``: the sigmoid's input gradient from its output ``y``."""
    out = _map(_SIGMOID_GRAD, g, y)
    return g * y * (1 - y) if out is None else out


def square_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``g * 2 * x``: the input gradient of ``x ** 2``."""
    out = _map(_SQUARE_GRAD, g, x)
    return g * 2 * x if out is None else out


def outer(a: np.ndarray, b: np.ndarray):
    """``out[i, j] = a[i] * b[j]`` for float32 vectors ``a (m,)`` and ``b (n,)``, in a new
    ``(m, n)`` array (a weight gradient at batch 1, where numpy's broadcast multiply runs
    several times slower); None when the kernel does not take the arrays (other dtypes, strided
    vectors)."""
    for v in (a, b):
        if type(v) is not np.ndarray or v.dtype != np.float32 or v.ndim != 1:
            return None
        if not v.flags.c_contiguous:
            return None
    out = buffers.empty((a.size, b.size), np.float32)
    if out.size < PARALLEL_MIN:
        _outer_impl(a, b, out, 0, a.size)
    else:
        _outer_parallel_impl(a, b, out)
    return out


def _map(code: int, a: np.ndarray, b: np.ndarray):
    """Formula ``code`` of ``a`` and ``b`` in a new array like ``b``; None when the kernels do not
    take the arrays. ``b`` must be float32 in C order; ``a`` either alike with ``b``'s shape
    and dtype, or one value broadcast to ``b``'s shape (a gradient from
    a sum or mean), which the loop reads once instead of materialising."""
    if type(b) is not np.ndarray or b.dtype != np.float32 or not b.flags.c_contiguous:
        return None
    scalar_a = False
    if a is not b:
        if type(a) is not np.ndarray or a.dtype != b.dtype or a.shape != b.shape:
            return None
        if not a.flags.c_contiguous:
            if any(a.strides):
                return None
            # a copy of the one value: a read-only view would compile the kernels once more
            scalar_a, a = True, a.reshape(-1)[:1].copy()
    out = buffers.empty(b.shape, b.dtype)
    if not b.size:
        return out
    flat = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    if b.size < PARALLEL_MIN:
        _map_impl(code, *flat, scalar_a, 0, b.size)
    else:
        _map_parallel_impl(code, *flat, scalar_a)
    return out


@njit(**_config.JIT, inline="always")
def _formula(code, a, b, one):
    """The result of formula ``code`` for one element of a and b; ``one`` is 1 in their dtype,
    so that float32 stays float32."""
    zero = one - one
    if code == _RELU:  # of b; "<=" is False for NaN, which passes through
        return zero if b <= zero else b
    if code == _RELU_GRAD:  # a the gradient, b the output
        return zero if b <= zero else a
    if code == _TANH_GRAD:
        return a * (one - b * b)
    if code == _SIGMOID:  # a is x, b is exp(-|x|)
        return one / (one + b) if a >= zero else b / (one + b)
    if code == _SIGMOID_GRAD:
        return a * b * (one - b)
    return a * (b + b)  # _SQUARE_GRAD


# uint64 indices, as in im2col.py: numba's negative-index check would stop the loops vectorising.


@njit(**_config.JIT)
def _map_impl(code, a, b, out, scalar_a, lo, hi):
    """out[lo:hi] = formula ``code`` of a and b; ``a[0]`` everywhere when ``scalar_a``."""
    one = out.dtype.type(1)
    a0 = a[0]
    for i in range(np.uint64(lo), np.uint64(hi)):
        out[i] = _formula(code, a0 if scalar_a else a[i], b[i], one)


@njit(**_config.PARALLEL)
def _map_parallel_impl(code, a, b, out, scalar_a):
    """`_map_impl` over all of ``out`` in chunks on numba's threads: each chunk writes its own
    slice of ``out``, so the writes cannot collide."""
    for c in prange((out.size + _CHUNK - 1) // _CHUNK):
        _map_impl(code, a, b, out, scalar_a, c * _CHUNK, min((c + 1) * _CHUNK, out.size))


@njit(**_config.JIT)
def _outer_impl(a, b, out, lo, hi):
    """Rows ``lo .. hi`` of ``out = a[:, None] * b``."""
    for i in range(np.uint64(lo), np.uint64(hi)):
        ai = a[i]
        row = out[i]
        for j in range(np.uint64(b.size)):
            row[j] = ai * b[j]


@njit(**_config.PARALLEL)
def _outer_parallel_impl(a, b, out):
    """`_outer_impl` over all rows in chunks on numba's threads, each chunk its own rows."""
    rows = max(1, _CHUNK // max(1, b.size))
    for c in prange((a.size + rows - 1) // rows):
        _outer_impl(a, b, out, c * rows, min((c + 1) * rows, a.size))
