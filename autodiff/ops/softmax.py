"""The softmax family along one dim: softmax, log_softmax and softmin.

`dim=None` picks PyTorch's legacy implicit dim (0 for 0-, 1- and 3-d inputs, else 1) with its
deprecation warning; pass `dim` explicitly. `dtype=` casts the input first, so an integer tensor
goes through with `dtype=float32`; without it an integer input is a TypeError, as in PyTorch.
"""

import warnings

import numpy as np

from autodiff import dtypes
from autodiff.function import Function
from autodiff.ops import _args, elementwise

__all__ = ["softmax", "log_softmax", "softmin"]


class Softmax(Function):
    """exp(x) / sum(exp(x)) along `dim`, with the max subtracted so exp cannot overflow.

    The max starts from -inf, its identity, so that a zero-length `dim` gives an empty result
    (as in PyTorch) where numpy's max would refuse the empty slices."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        e = np.exp(x - x.max(axis=dim, keepdims=True, initial=-np.inf))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    """x - logsumexp(x) along `dim`; its own rule because log(softmax(x)) underflows to -inf.
    A zero-length `dim` gives an empty result, as `Softmax`."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        shifted = x - x.max(axis=dim, keepdims=True, initial=-np.inf)
        if x.size:  # else the empty slices' sums are 0, whose log would warn
            shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        y = shifted
        ctx.save(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g - np.exp(y) * g.sum(axis=ctx.dim, keepdims=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002 - PyTorch's names
    """exp(x) / sum(exp(x)) along `dim`: each slice along `dim` sums to 1.

    Parameters
    ----------
    input : Tensor, any shape; float, or any dtype with `dtype=` given.
    dim : int or None
        The dim to normalise over; None: PyTorch's legacy choice, with a warning.
    dtype : float dtype, optional
        Cast the input to it first (the result has this dtype).

    Returns
    -------
    Tensor of `input`'s shape, and its dtype (or `dtype`).

    Raises
    ------
    DimError (an IndexError) : dim out of range.  TypeError : an integer input without `dtype`.
    """
    x, d = _prepare("softmax", input, dim, dtype)
    return Softmax.apply(x, dim=d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002 - PyTorch's names
    """log(softmax(x)) along `dim`, computed stably; arguments as `softmax`."""
    x, d = _prepare("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(x, dim=d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002 - PyTorch's names
    """softmax(-x) along `dim`: the smallest entry gets the largest weight; arguments as
    `softmax`."""
    x, d = _prepare("softmin", input, dim, dtype)
    return Softmax.apply(elementwise.neg(x), dim=d)


def _prepare(op, x, dim, dtype):
    """x cast to `dtype` (if given) and checked to be float, and `dim` resolved."""
    if not _args.is_tensor(x):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = elementwise.to_dtype(x, dtypes.as_dtype(dtype))
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a float tensor, got {x.dtype} (shape {x.shape}); "
            "pass dtype=float32 to convert an integer tensor"
        )
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(
            f"{op}: implicit dimension choice has been deprecated; call it with dim={dim}",
            UserWarning,
            stacklevel=3,
        )
    return x, _args.dim(op, x, dim)
