"""Tests of values (isnan, isclose, equal...), logical and bitwise ops: no gradients, no graph.

The is* and logical_* functions give bool tensors of the broadcast shape, for operands of any
dtype (nonzero is True). The bitwise functions take integer and bool tensors and give the dtype
PyTorch's promotion gives (a bool tensor with a Python int is int64); the shifts take integers
only, and shift by a negative or too large amount as PyTorch does (0, or -1 for a negative
value shifted right). `allclose` and `equal` return a Python bool.
"""

import numpy as np

from autodiff.function import _describe
from autodiff.ops._args import is_tensor, result_type

__all__ = [
    "isnan",
    "isinf",
    "isfinite",
    "isclose",
    "allclose",
    "equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "bitwise_left_shift",
    "bitwise_right_shift",
]


def isnan(input):
    """Where `input` is NaN: a bool tensor of its shape."""
    return _result(np.isnan(np.asarray(input)))


def isinf(input):
    """Where `input` is +Inf or -Inf: a bool tensor of its shape."""
    return _result(np.isinf(np.asarray(input)))


def isfinite(input):
    """Where `input` is neither NaN nor infinite: a bool tensor of its shape."""
    return _result(np.isfinite(np.asarray(input)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise; infinities are close to infinities
    of their sign, and NaN to NaN only with `equal_nan`.

    Parameters
    ----------
    input, other : Tensor
        Of one dtype (TypeError otherwise, as in PyTorch); shapes broadcast. `other` may also be
        a number.
    rtol, atol : float
        Relative and absolute tolerance, both >= 0 (ValueError otherwise).
    equal_nan : bool
        Count NaN as close to NaN.

    Returns
    -------
    Tensor
        bool, of the broadcast shape.
    """
    if is_tensor(other) and input.dtype != other.dtype:
        raise TypeError(
            f"isclose: input and other must have one dtype, got {_describe(input)} and "
            f"{_describe(other)}"
        )
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    return _result(np.isclose(np.asarray(input), np.asarray(other), rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether `isclose` holds for every element (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input, other) -> bool:
    """Whether input and other have the same shape and the same values (a Python bool; NaN is
    not equal to itself; dtypes may differ)."""
    return bool(np.array_equal(np.asarray(input), np.asarray(other)))


def logical_and(input, other):
    """`input and other` elementwise (nonzero is true); bool, of the broadcast shape."""
    return _result(np.logical_and(np.asarray(input), np.asarray(other)))


def logical_or(input, other):
    """`input or other` elementwise (nonzero is true); bool, of the broadcast shape."""
    return _result(np.logical_or(np.asarray(input), np.asarray(other)))


def logical_xor(input, other):
    """`input xor other` elementwise (nonzero is true); bool, of the broadcast shape."""
    return _result(np.logical_xor(np.asarray(input), np.asarray(other)))


def logical_not(input):
    """`not input` elementwise (nonzero is true); bool, of input's shape."""
    return _result(np.logical_not(np.asarray(input)))


def bitwise_and(input, other):
    """`input & other` on bool or integer tensors, of the broadcast shape."""
    return _bitwise("bitwise_and", np.bitwise_and, input, other, "biu")


def bitwise_or(input, other):
    """`input | other` on bool or integer tensors, of the broadcast shape."""
    return _bitwise("bitwise_or", np.bitwise_or, input, other, "biu")


def bitwise_xor(input, other):
    """`input ^ other` on bool or integer tensors, of the broadcast shape."""
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other, "biu")


def bitwise_not(input):
    """~x: each bit flipped for integers, logical not for bool."""
    return _bitwise("bitwise_not", np.invert, input, None, "biu")


def bitwise_left_shift(input, other):
    """input << other, integers only; a shift by a negative amount or by the bit width or more
    gives 0, as in PyTorch."""
    return _bitwise("bitwise_left_shift", np.left_shift, input, other, "iu")


def bitwise_right_shift(input, other):
    """input >> other (arithmetic: a negative value keeps its sign), integers only; a shift by
    a negative amount or by the bit width or more gives 0, or -1 for a negative value."""
    return _bitwise("bitwise_right_shift", np.right_shift, input, other, "iu")


def _bitwise(op, ufunc, x, y, kinds):
    """`ufunc` on x (and y) cast to their promoted dtype, which must be of one of `kinds`."""
    operands = (x,) if y is None else (x, y)
    dtype = result_type(*operands)
    if dtype.kind not in kinds:
        allowed = "integer or bool" if "b" in kinds else "integer"
        described = ", ".join(_describe(v) for v in operands)
        raise TypeError(
            f"{op}: needs {allowed} operands, got {described}, which promote to {dtype}"
        )
    # astype, not asarray(v, dtype): a Python int out of range wraps around, as in PyTorch
    return _result(ufunc(*(np.asarray(v).astype(dtype, copy=False) for v in operands)))


def _result(a):
    return Tensor._wrap(np.asarray(a))


from autodiff.tensor import Tensor  # noqa: E402
