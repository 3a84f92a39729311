"""The error function ``erf``, its complement ``erfc`` and its inverse ``erfinv``, elementwise:
numpy has none of them.

The loops call the C library's ``erf``/``erfc`` (numba's ``math.erf``), which are accurate to
an ulp or two in float64; a float32 array is computed in float32 (``erff``), as PyTorch does.
``erfc`` has a kernel of its own because ``1 - erf(x)`` loses every digit for large x.
"""

import math

import numpy as np
from numba import njit

from . import _config
from ._checks import FLOAT_DTYPES


def erf(x: np.ndarray) -> np.ndarray:
    """``erf(x) = 2 / sqrt(pi) * integral of exp(-t**2) from 0 to x``: x's shape and dtype
    (float32 or float64), C-contiguous; NaN stays NaN, erf(+-inf) = +-1."""
    return _elementwise("erf", _erf_impl, x)


def erfc(x: np.ndarray) -> np.ndarray:
    """``erfc(x) = 1 - erf(x)``, accurate where erf(x) is close to 1: x's shape and dtype."""
    return _elementwise("erfc", _erfc_impl, x)


def erfinv(x: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): x's shape and dtype."""
    return _elementwise("erfinv", _erfinv_impl, x)


def _elementwise(op, impl, x):
    """`impl` over a C-contiguous copy of x (x itself if it is one), into a new array."""
    if not isinstance(x, np.ndarray) or x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{op}: expected a float32 or float64 array, got {type(x).__name__} "
            f"{getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}"
        )
    if not x.flags.c_contiguous:
        x = x.copy()  # C order (np.ascontiguousarray would make a 0-d array 1-d)
    out = np.empty(x.shape, x.dtype)
    impl(x.reshape(-1), out.reshape(-1))
    return out


@njit(**_config.JIT)
def _erf_impl(x, out):
    for i in range(x.size):
        out[i] = math.erf(x[i])


@njit(**_config.JIT)
def _erfc_impl(x, out):
    for i in range(x.size):
        out[i] = math.erfc(x[i])


@njit(**_config.JIT)
def _erfinv_impl(x, out):
    # Giles' single-precision approximation ("Approximating the erfinv function", 2010), then
    # two Newton steps on erf(y) = x in float64, which bring it to float64 accuracy
    for i in range(x.size):
        v = float(x[i])
        if not -1.0 < v < 1.0:
            out[i] = math.copysign(math.inf, v) if abs(v) == 1.0 else math.nan
            continue
        w = -math.log((1.0 - v) * (1.0 + v))
        if w < 5.0:
            w -= 2.5
            p = 2.81022636e-08
            for c in (
                3.43273939e-07,
                -3.5233877e-06,
                -4.39150654e-06,
                0.00021858087,
                -0.00125372503,
                -0.00417768164,
                0.246640727,
                1.50140941,
            ):
                p = c + p * w
        else:
            w = math.sqrt(w) - 3.0
            p = -0.000200214257
            for c in (
                0.000100950558,
                0.00134934322,
                -0.00367342844,
                0.00573950773,
                -0.0076224613,
                0.00943887047,
                1.00167406,
                2.83297682,
            ):
                p = c + p * w
        y = p * v
        for _ in range(2):
            y -= (math.erf(y) - v) / (1.1283791670955126 * math.exp(-y * y))
        out[i] = y
