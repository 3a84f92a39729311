"""Jitted index helper shared by the window kernels."""

from numba import njit

from . import _config


@njit(**_config.JIT)
def valid_range(start, stride, size, n_out):
    """Output positions ``[lo, hi)`` whose input ``start + o * stride`` lies in ``[0, size)``."""
    lo = 0 if start >= 0 else (stride - 1 - start) // stride
    hi = 0 if size - 1 - start < 0 else (size - 1 - start) // stride + 1
    lo = min(lo, n_out)
    return lo, max(lo, min(hi, n_out))
