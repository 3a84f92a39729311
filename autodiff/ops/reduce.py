"""Reductions over `dim` (None: all dims; an int; or a tuple), with PyTorch's `keepdim`."""

import math

import numpy as np

from autodiff.function import Function

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "argmax", "argmin"]


class Sum(Function):
    """Sum over `axes`."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        ctx.shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_keep_dims(g, ctx.shape, ctx.axes), ctx.shape)


class Extreme(Function):
    """Max (or min, with `largest=False`) over `axes`; ties share the gradient equally."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False, largest=True):
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        out = y if keepdim else y.reshape(_reduced_shape(x.shape, axes))
        ctx.save(x, out)  # the output itself, so an in-place write to it is caught at backward
        ctx.axes = axes
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        winners = x == _keep_dims(out, x.shape, ctx.axes)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True).astype(g.dtype)
        return share * _keep_dims(g, x.shape, ctx.axes)


class LogSumExp(Function):
    """log(sum(exp(x))) over `axes`, shifted by the max so exp cannot overflow."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        m = x.max(axis=axes, keepdims=True)
        # an all -inf slice has max -inf; shifting by it would give nan instead of -inf
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
        y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        out = y if keepdim else y.reshape(_reduced_shape(x.shape, axes))
        ctx.save(x, out)  # the output itself, so an in-place write to it is caught at backward
        ctx.axes = axes
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        y = _keep_dims(out, x.shape, ctx.axes)
        return np.exp(x - y) * _keep_dims(g, x.shape, ctx.axes)


def sum(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Sum over `dim`; sums of bool and integer tensors are int64, as in PyTorch."""
    return Sum.apply(x, axes=_axes("sum", x, dim), keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    """Mean over `dim`, composed as sum / count."""
    axes = _axes("mean", x, dim)
    _require_float("mean", x)
    n = _count(x.shape, axes)
    # the mean of nothing is nan, as in PyTorch; a Python float keeps the dtype
    return Sum.apply(x, axes=axes, keepdim=keepdim) * (1 / n if n else math.nan)


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Largest value over `dim` (values only; use `argmax` for the indices)."""
    return Extreme.apply(x, axes=_axes("max", x, dim, nonempty=True), keepdim=keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Smallest value over `dim` (values only; use `argmin` for the indices)."""
    axes = _axes("min", x, dim, nonempty=True)
    return Extreme.apply(x, axes=axes, keepdim=keepdim, largest=False)


def var(x, dim=None, keepdim=False, correction=1):
    """Variance over `dim`, dividing by count - correction (1: unbiased, as PyTorch's default)."""
    axes = _axes("var", x, dim)
    _require_float("var", x)
    n = _count(x.shape, axes)
    centred = x - mean(x, dim, keepdim=True)
    # n <= correction gives inf (so nan or inf), as in PyTorch; a Python float keeps the dtype
    scale = 1 / (n - correction) if n > correction else math.inf
    return sum(centred * centred, dim, keepdim) * scale


def std(x, dim=None, keepdim=False, correction=1):
    """Standard deviation over `dim`: sqrt(var)."""
    return var(x, dim, keepdim, correction).sqrt()


def logsumexp(x, dim=None, keepdim=False):
    _require_float("logsumexp", x)
    return LogSumExp.apply(x, axes=_axes("logsumexp", x, dim, nonempty=True), keepdim=keepdim)


def argmax(x, dim=None, keepdim=False):
    """Index of the largest value (of the flattened tensor when dim is None); int64, no grad."""
    return _arg(np.argmax, "argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    """Index of the smallest value (of the flattened tensor when dim is None); int64, no grad."""
    return _arg(np.argmin, "argmin", x, dim, keepdim)


def _arg(fn, op, x, dim, keepdim):
    if dim is not None:
        dim = _axes(op, x, dim, nonempty=True)[0] if isinstance(dim, int) else dim
    index = fn(x.data, axis=dim, keepdims=keepdim)
    return Tensor._wrap(np.asarray(index, dtype=np.int64))


def _axes(op, x, dim, nonempty=False):
    """`dim` as a sorted tuple of non-negative axes, or None for all; checked against x."""
    if nonempty and x.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = x.ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    out = []
    for d in dims:
        if not isinstance(d, int | np.integer) or not -n <= d < n:
            raise ValueError(f"{op}: dim {dim!r} is out of range for a tensor of shape {x.shape}")
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} repeats a dimension (tensor shape {x.shape})")
    return tuple(sorted(out)) if x.ndim else None


def _require_float(op, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a float tensor, got {x.dtype} (shape {x.shape})")


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axes]))


def _reduced_shape(shape, axes):
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _keep_dims(g, shape, axes):
    """g of a reduction's output shape, reshaped to keep the reduced axes as size 1."""
    if axes is None:
        return g.reshape((1,) * len(shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return g.reshape(kept)


from autodiff.tensor import Tensor  # noqa: E402
