"""Cumulative ops along a dim: cumsum, cumprod, cummax, cummin and logcumsumexp.

Each output has the input's shape; element i of a slice combines elements 0..i. Running sums
and products of bool and integer tensors are int64, as in PyTorch.
"""

import numpy as np

from autodiff import return_types
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.reduce import (
    accumulating,
    index_tensor,
    select_along,
    with_0d_as_1d,
)

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]


class Cumsum(Function):
    """Running sum along `dim`; the gradient is the running sum of g taken from the end."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return _reverse_cumsum(g, ctx.dim)


class Cumprod(Function):
    """Running product y along `dim`.

    Its own rule: the gradient sum_{i>=j} g_i y_i / x_j divides by zero. With the first zero of
    a slice at z, that formula holds before z; at z the gradient is
    prod(x_{<z}) * sum_{i>=z} g_i prod(x_{z+1..i}); after z it is 0 (every term holds x_z).
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = np.cumprod(x, axis=dim, dtype=x.dtype)
        ctx.save(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        d = ctx.dim
        steps = np.arange(x.shape[d]).reshape([-1 if i == d else 1 for i in range(x.ndim)])
        zero = x == 0
        first_zero = np.where(
            zero.any(axis=d, keepdims=True), zero.argmax(axis=d, keepdims=True), x.shape[d]
        )
        before = steps < first_zero
        gx = np.where(before, _reverse_cumsum(g * y, d) / np.where(before, x, 1), 0)
        if zero.any():
            prefix = np.where(before, x, 1).prod(axis=d, keepdims=True)
            after = np.cumprod(np.where(steps > first_zero, x, 1), axis=d)
            gx = np.where(steps == first_zero, prefix * _reverse_cumsum(g * after, d), gx)
        return gx


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) along `dim`, as `np.logaddexp.accumulate`: stable for any values.

    Its own rule, stable too: the gradient sum_{i>=j} g_i exp(x_j - y_i) is exp(x_j + r_j) with
    r a reversed log-cum-sum-exp of log(g_i) - y_i, taken for the positive and the negative
    parts of g separately (PyTorch's method).
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = np.logaddexp.accumulate(x, axis=dim)
        ctx.save(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        d = ctx.dim

        def part(weights):  # weights >= 0
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.flip(np.log(weights) - y, d)
                return np.exp(x + np.flip(np.logaddexp.accumulate(logs, axis=d), d))

        with np.errstate(invalid="ignore"):
            return part(np.maximum(g, 0)) - part(np.maximum(-g, 0))


def cumsum(x, dim, *, dtype=None):
    """Running sum along `dim`: x's shape; int64 for bool and integer x; `dtype` converts x
    first."""
    x = accumulating(x, dtype)
    d = _args.dim("cumsum", x, dim)
    return with_0d_as_1d(lambda t: cumsum(t, 0), x) if x.ndim == 0 else Cumsum.apply(x, dim=d)


def cumprod(x, dim, *, dtype=None):
    """Running product along `dim`; dtypes as `cumsum`. The gradient is right with zeros (see
    `Cumprod`)."""
    x = accumulating(x, dtype)
    d = _args.dim("cumprod", x, dim)
    return with_0d_as_1d(lambda t: cumprod(t, 0), x) if x.ndim == 0 else Cumprod.apply(x, dim=d)


def cummax(x, dim):
    """`return_types.cummax(values, indices)`: the running max along `dim` and the index it came
    from (the latest of equal values; once a NaN is met the values are NaN and the index that of
    the latest NaN, as in PyTorch). The gradient goes to the element at each index."""
    return _running_extreme("cummax", x, dim, np.maximum)


def cummin(x, dim):
    """`return_types.cummin(values, indices)`: the running min along `dim`; as `cummax`."""
    return _running_extreme("cummin", x, dim, np.minimum)


def logcumsumexp(x, dim):
    """log(cumsum(exp(x))) along `dim`, stable for large and -inf values; float tensors only."""
    _args.require_float("logcumsumexp", x)
    d = _args.dim("logcumsumexp", x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: logcumsumexp(t, 0), x)
    return LogCumSumExp.apply(x, dim=d)


def _running_extreme(op, x, dim, ufunc):
    d = _args.dim(op, x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: _running_extreme(op, t, 0, ufunc), x)
    a = x.data
    steps = np.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)])
    # element j is the running extreme from j on while no later element equals or beats it, so
    # the index is the latest j with a_j equal to the running extreme at j (a NaN always is)
    reached = a == ufunc.accumulate(a, axis=d)
    if a.dtype.kind == "f":
        reached |= np.isnan(a)
    index = np.maximum.accumulate(np.where(reached, steps, 0), axis=d)
    values = select_along(x, index, d)
    return getattr(return_types, op)(values, index_tensor(index))


def _reverse_cumsum(a, d):
    """The running sum of `a` along `d` from the end: element j sums elements j.. of a."""
    return np.flip(np.cumsum(np.flip(a, d), axis=d), d)
