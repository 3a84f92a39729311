"""In-place ``y <- a * y + b * x`` for optimizers: one pass over memory, no temporaries.

``param -= lr * grad`` in numpy allocates ``lr * grad`` and makes two passes over memory; this
loop makes one (``python -m benchmarks.tuning axpby`` times both).
"""

import numpy as np
from numba import njit

from . import _config
from ._checks import FLOAT_DTYPES


def axpby(y: np.ndarray, a: float, x: np.ndarray, b: float) -> np.ndarray:
    """Set ``y`` to ``a * y + b * x`` in place and return it.

    ``x`` must have ``y``'s shape and float dtype; ``a`` and ``b`` are cast to that dtype, so
    float32 stays float32 throughout. A ``y`` the kernel does not take (not float32/float64, or
    not C-contiguous) is updated through numpy instead.
    """
    if x.shape != y.shape or x.dtype != y.dtype or y.dtype.kind != "f":
        raise ValueError(
            f"axpby: y {y.shape} {y.dtype} and x {x.shape} {x.dtype} must be float arrays of "
            "one shape and dtype"
        )
    a, b = y.dtype.type(a), y.dtype.type(b)
    if y.dtype not in FLOAT_DTYPES or not y.flags.c_contiguous:
        y *= a
        y += b * x
        return y
    _axpby_impl(y.reshape(-1), a, np.ascontiguousarray(x).reshape(-1), b)
    return y


@njit(**_config.JIT)
def _axpby_impl(y, a, x, b):
    for i in range(y.size):
        y[i] = a * y[i] + b * x[i]
