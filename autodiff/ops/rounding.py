"""Rounding and the other piecewise-constant functions: floor, ceil, round, trunc, sign, and
frac (x - trunc(x)).

As in PyTorch: the gradient of each piecewise-constant function is 0 everywhere (the jumps are
ignored), and of frac 1; floor, ceil, round and trunc return an integer tensor unchanged and
refuse a bool one; sign keeps integer and bool dtypes; frac takes float tensors only.
"""

import numpy as np

from autodiff import dtypes
from autodiff.function import Function
from autodiff.ops import elementwise

__all__ = ["floor", "ceil", "round", "trunc", "fix", "sign", "sgn", "frac"]

_ROUNDERS = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}


class PiecewiseConstant(Function):
    """floor, ceil, round (to `decimals` places, ties to even), trunc or sign of x, by `kind`.

    Each is constant between its jumps, so the gradient is 0 everywhere, as in PyTorch (which
    ignores the jumps). An integer x is returned as a copy by all but sign, which keeps its dtype.
    """

    @staticmethod
    def forward(ctx, x, kind, decimals=0):
        if kind == "sign":
            return np.subtract(x > 0, x < 0, dtype=x.dtype)  # 0 at NaN and -0.0, as in PyTorch
        if x.dtype.kind != "f":
            return x.copy()
        if kind == "round":
            return np.round(x, decimals)
        return _ROUNDERS[kind](x)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g)


# ---- functionals ---------------------------------------------------------------------------------


def sign(input):
    """-1, 0 or 1 by the sign of x, in x's dtype (0 at NaN, as in PyTorch); gradient 0.
    A bool x is returned as a copy."""
    if input.dtype == dtypes.bool_:
        return Tensor._wrap(input.data.copy())
    return PiecewiseConstant.apply(input, kind="sign")


def floor(input):
    """The largest integer <= x, in x's dtype (an integer x is returned unchanged); gradient 0."""
    return _rounded("floor", input)


def ceil(input):
    """The smallest integer >= x, in x's dtype (an integer x is returned unchanged); gradient 0."""
    return _rounded("ceil", input)


def trunc(input):
    """x rounded toward 0, in x's dtype (an integer x is returned unchanged); gradient 0."""
    return _rounded("trunc", input)


def round(input, *, decimals=0):  # noqa: A001 - PyTorch's name
    """x rounded to `decimals` decimal places (negative: to tens, hundreds...), ties to even.

    Parameters
    ----------
    input : Tensor
        Any shape; float, or integer with `decimals=0` (returned unchanged).
    decimals : int
        Places after the point: x * 10**decimals is rounded to an integer, then scaled back.

    Returns
    -------
    Tensor of x's shape and dtype; its gradient is 0.

    Raises
    ------
    TypeError
        For a bool x, or an integer x with `decimals` other than 0 (as PyTorch).
    """
    if not isinstance(decimals, int | np.integer):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _rounded("round", input, int(decimals))


def frac(input):
    """x - trunc(x), with x's sign; composed, so its gradient is 1. Float tensors only."""
    if input.dtype.kind != "f":
        raise TypeError(f"frac: not defined for {input.dtype} tensors (shape {input.shape})")
    return elementwise.sub(input, trunc(input))


def _rounded(kind, x, decimals=0):
    """floor/ceil/round/trunc of x: refused for bool x, and for integer x with decimals."""
    if x.dtype == dtypes.bool_ or (decimals and x.dtype.kind != "f"):
        raise TypeError(
            f"{kind}: not defined for {x.dtype} tensors"
            + (f" with decimals={decimals}" if decimals else "")
            + f" (shape {x.shape})"
        )
    return PiecewiseConstant.apply(x, kind=kind, decimals=decimals)


# ---- PyTorch's other names -----------------------------------------------------------------------

sgn = sign  # the same for real tensors
fix = trunc


from autodiff.tensor import Tensor  # noqa: E402
