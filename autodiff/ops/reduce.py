"""Reductions over `dim` (None: all dims; an int; or a tuple), with PyTorch's `keepdim`.

Sums and products of bool and integer tensors are int64, as in PyTorch; means, variances and
`logsumexp` need a float tensor (or `dtype=`). `max`/`min` with a dim return
`return_types.max(values, indices)`; `amax`/`amin` return the values only and take a tuple of
dims. `select_along`, which picks elements along a dim in the graph, also gives sort, topk,
median and cummax their values and gradients (ops/sort.py, ops/scan.py).
"""

import math

import numpy as np

from autodiff import dtypes, return_types
from autodiff.errors import DimError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.elementwise import maximum, minimum, to_dtype, where
from autodiff.ops.shape import AdvancedIndex

__all__ = [
    "sum",
    "mean",
    "nansum",
    "nanmean",
    "prod",
    "amax",
    "amin",
    "aminmax",
    "max",
    "min",
    "var",
    "std",
    "var_mean",
    "std_mean",
    "logsumexp",
    "argmax",
    "argmin",
    "any",
    "all",
    "count_nonzero",
]


class Sum(Function):
    """Sum over `axes`."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        ctx.shape, ctx.axes = x.shape, axes
        return x.sum(axis=axes, keepdims=keepdim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(keep_dims(g, ctx.shape, ctx.axes), ctx.shape)


class Prod(Function):
    """Product over `axes`.

    Its own rule: the gradient, the product of the other elements, is y / x only in a slice
    without zeros. In a slice with one zero it is the product of the non-zero elements at the
    zero and 0 elsewhere; with two or more zeros it is 0 everywhere (as PyTorch's).
    """

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        ctx.save(x)
        ctx.axes = axes
        return x.prod(axis=axes, keepdims=keepdim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        zero = x == 0
        zeros = zero.sum(axis=ctx.axes, keepdims=True)
        nonzero_x = np.where(zero, 1, x)
        others = nonzero_x.prod(axis=ctx.axes, keepdims=True)  # the product of the non-zeros
        gx = np.where(zeros == 0, others / nonzero_x, np.where(zero & (zeros == 1), others, 0))
        return gx * keep_dims(g, x.shape, ctx.axes)


class Extreme(Function):
    """Max (or min, with `largest=False`) over `axes`; ties share the gradient equally.

    A NaN in a slice makes its result NaN. With `nan_ties` the NaNs share the gradient, as for
    PyTorch's `max()` with no dim; without, the slice's gradient is NaN, as for `amax`.
    """

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False, largest=True, nan_ties=False):
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ctx.nan_ties = nan_ties
        return saved_output(ctx, x, y, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        y = keep_dims(out, x.shape, ctx.axes)
        winners = x == y
        if ctx.nan_ties:
            winners |= np.isnan(x) & np.isnan(y)
        with np.errstate(invalid="ignore"):  # no winner (a NaN slice of amax): 0 / 0 = nan
            share = winners / winners.sum(axis=ctx.axes, keepdims=True).astype(g.dtype)
        return share * keep_dims(g, x.shape, ctx.axes)


class LogSumExp(Function):
    """log(sum(exp(x))) over `axes`, shifted by the max so exp cannot overflow."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        m = x.max(axis=axes, keepdims=True)
        # an all -inf slice has max -inf; shifting by it would give nan instead of -inf
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
        y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        return saved_output(ctx, x, y, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        y = keep_dims(out, x.shape, ctx.axes)
        return np.exp(x - y) * keep_dims(g, x.shape, ctx.axes)


class Std(Function):
    """Standard deviation over `axes`, dividing the squares by count - correction.

    Its own rule: composed as sqrt(var) the gradient where the std is 0 (a slice of equal
    values) would be 0 * inf = nan; PyTorch's, and the central difference, is 0.
    """

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False, correction=1):
        centred = _centred(x, axes)
        dof = _count(x.shape, axes) - correction
        squares = (centred * centred).sum(axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # no degrees of freedom: inf, nan
            y = np.sqrt(squares / (dof if dof > 0 else 0))
        ctx.dof = dof
        return saved_output(ctx, x, y, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        y = keep_dims(out, x.shape, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(y == 0, 0, keep_dims(g, x.shape, ctx.axes) / (y * ctx.dof))
        return scale * _centred(x, ctx.axes)


def _centred(x, axes):
    """x less its mean over `axes`, exactly 0 on a slice of equal values: the mean is taken of x
    less the slice's first element, so rounding in the mean leaves no spread behind (a spread of
    1e-16 would make the std's gradient a unit vector where it is 0)."""
    if x.size == 0:
        return x - x.mean(axis=axes, keepdims=True)
    first = tuple(slice(0, 1) if axes is None or i in axes else slice(None) for i in range(x.ndim))
    shifted = x - x[first]
    return shifted - shifted.mean(axis=axes, keepdims=True)


# ---- sums and means ------------------------------------------------------------------------------


def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - PyTorch's name
    """Sum over `dim` (None: all; an int or a tuple of ints).

    Returns a tensor of x's dtype; int64 for bool and integer tensors, as in PyTorch; `dtype`
    converts x first.
    """
    x = accumulating(x, dtype)
    return Sum.apply(x, axes=_args.dims("sum", x, dim), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    """Mean over `dim`, composed as sum / count. A float tensor (or a float `dtype=`, which
    converts x first) is required, as in PyTorch; the mean of nothing is nan."""
    if dtype is not None:
        x = to_dtype(x, dtypes.as_dtype(dtype))
    axes = _args.dims("mean", x, dim)
    _args.require_float("mean", x)
    n = _count(x.shape, axes)
    # a Python float keeps the dtype
    return Sum.apply(x, axes=axes, keepdim=keepdim) * (1 / n if n else math.nan)


def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """Sum over `dim` treating NaN as 0 (whose gradient is 0); dtypes as `sum`."""
    if x.dtype.kind == "f":
        x = where(np.isnan(x.data), 0.0, x)
    return sum(x, dim, keepdim, dtype=dtype)


def nanmean(x, dim=None, keepdim=False, *, dtype=None):
    """Mean of the non-NaN elements over `dim`: nansum / their count (nan where there are none)."""
    if dtype is not None:
        x = to_dtype(x, dtypes.as_dtype(dtype))
    _args.require_float("nanmean", x)
    axes = _args.dims("nanmean", x, dim)
    count = (~np.isnan(x.data)).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return nansum(x, dim, keepdim) / count


def prod(x, dim=None, keepdim=False, *, dtype=None):
    """Product over `dim` (None: all elements; an int); dtypes as `sum`. The gradient is right
    with zeros in the slice (see `Prod`)."""
    x = accumulating(x, dtype)
    return Prod.apply(x, axes=_args.dims("prod", x, dim), keepdim=keepdim)


# ---- max and min ---------------------------------------------------------------------------------


def max(x, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """The largest element, as PyTorch's three forms of `max`.

    - `max(x)`: a 0-d tensor; tied elements share the gradient (NaN wins: a NaN result sends
      the gradient to the NaNs).
    - `max(x, dim, keepdim=False)`: `return_types.max(values, indices)`, the first largest
      element of each slice along `dim` (the first NaN if any) and its int64 index; the
      gradient goes to that one element, as in PyTorch (`amax` shares it among ties).
    - `max(x, other)` with a tensor `other`: `maximum(x, other)`.
    """
    if other is not None or _args.is_tensor(dim):
        return maximum(x, dim if other is None else other)
    if dim is None:
        require_elements("max", x, None)
        return Extreme.apply(x, nan_ties=True)
    return _extreme_along("max", x, dim, keepdim, np.argmax)


def min(x, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """The smallest element; the three forms of `max`, returning `return_types.min`."""
    if other is not None or _args.is_tensor(dim):
        return minimum(x, dim if other is None else other)
    if dim is None:
        require_elements("min", x, None)
        return Extreme.apply(x, largest=False, nan_ties=True)
    return _extreme_along("min", x, dim, keepdim, np.argmin)


def amax(x, dim=(), keepdim=False):
    """Largest value over `dim` (an int, a tuple; () or None: all dims); tied elements share
    the gradient equally, and a slice holding NaN has result NaN and NaN gradients, as in
    PyTorch."""
    axes = _args.dims("amax", x, dim) or None  # (): all dims
    require_elements("amax", x, axes)
    return Extreme.apply(x, axes=axes, keepdim=keepdim)


def amin(x, dim=(), keepdim=False):
    """Smallest value over `dim`; as `amax`."""
    axes = _args.dims("amin", x, dim) or None
    require_elements("amin", x, axes)
    return Extreme.apply(x, axes=axes, keepdim=keepdim, largest=False)


def aminmax(x, *, dim=None, keepdim=False):
    """`return_types.aminmax(min, max)`: `amin` and `amax` over `dim` (None or an int)."""
    return return_types.aminmax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _extreme_along(op, x, dim, keepdim, arg):
    d = _args.dim(op, x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: _extreme_along(op, t, 0, keepdim, arg), x)
    require_elements(op, x, (d,))
    index = np.expand_dims(arg(x.data, axis=d), d)
    values = select_along(x, index, d)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return getattr(return_types, op)(values, index_tensor(index))


def argmax(x, dim=None, keepdim=False):
    """Index of the first largest value (the first NaN if any) over `dim`, or of the flattened
    tensor when dim is None; int64, not differentiable."""
    return _arg(np.argmax, "argmax", x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    """Index of the first smallest value; as `argmax`."""
    return _arg(np.argmin, "argmin", x, dim, keepdim)


def _arg(fn, op, x, dim, keepdim):
    axis = None if dim is None or x.ndim == 0 else _args.dim(op, x, dim)
    require_elements(op, x, None if axis is None else (axis,))
    return index_tensor(np.asarray(fn(x.data, axis=axis, keepdims=keepdim)))


# ---- variance -----------------------------------------------------------------------------------


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over `dim`, dividing by count - correction.

    PyTorch's forms: `var(x, dim, unbiased, keepdim)` (`unbiased` True is correction 1, False
    is 0) and `var(x, dim, *, correction=1, keepdim=False)`; `var(x, False)` is the biased
    variance of all elements. A float tensor is required. Composed as the mean of squared
    deviations; a slice with count <= correction gives inf or nan, as in PyTorch.
    """
    return _var_mean("var", x, dim, unbiased, keepdim, correction)[0]


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over `dim`: sqrt of `var` (same arguments), with gradient 0 where it
    is 0 (see `Std`)."""
    dim, correction = _correction("std", dim, unbiased, correction)
    _args.require_float("std", x)
    return Std.apply(x, axes=_args.dims("std", x, dim), keepdim=keepdim, correction=correction)


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over `dim`, a tuple of tensors; arguments as `var`."""
    return _var_mean("var_mean", x, dim, unbiased, keepdim, correction)


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over `dim`, a tuple of tensors; arguments as `var`."""
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    return std(x, dim, keepdim=keepdim, correction=correction), mean(x, dim, keepdim)


def _var_mean(op, x, dim, unbiased, keepdim, correction):
    dim, correction = _correction(op, dim, unbiased, correction)
    axes = _args.dims(op, x, dim)
    _args.require_float(op, x)
    n = _count(x.shape, axes)
    kept_mean = mean(x, axes, keepdim=True)
    centred = x - kept_mean
    # n <= correction gives inf (so nan or inf), as in PyTorch; a Python float keeps the dtype
    scale = 1 / (n - correction) if n > correction else math.inf
    out_mean = kept_mean if keepdim else kept_mean.reshape(reduced_shape(x.shape, axes))
    return Sum.apply(centred * centred, axes=axes, keepdim=keepdim) * scale, out_mean


def _correction(op, dim, unbiased, correction):
    """(dim, correction) from PyTorch's spellings: `unbiased` may come second (`var(x, True)`)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give `unbiased` or `correction`, not both")
    if correction is None:
        return dim, 1 if unbiased is None else int(unbiased)
    return dim, correction


# ---- others -------------------------------------------------------------------------------------


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) over `dim`, stable for large values; float tensors only."""
    _args.require_float("logsumexp", x)
    axes = _args.dims("logsumexp", x, dim)
    require_elements("logsumexp", x, axes)
    return LogSumExp.apply(x, axes=axes, keepdim=keepdim)


def any(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Whether any element over `dim` is non-zero: bool (uint8 for uint8 x, as in PyTorch)."""
    return _logical(np.any, "any", x, dim, keepdim)


def all(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """Whether every element over `dim` is non-zero: bool (uint8 for uint8 x, as in PyTorch)."""
    return _logical(np.all, "all", x, dim, keepdim)


def _logical(fn, op, x, dim, keepdim):
    out = np.asarray(fn(x.data, axis=_args.dims(op, x, dim), keepdims=keepdim))
    return Tensor._wrap(out.astype(dtypes.uint8) if x.dtype == dtypes.uint8 else out)


def count_nonzero(x, dim=None):
    """The number of non-zero elements over `dim` (None, an int or a tuple); int64."""
    counts = np.count_nonzero(x.data, axis=_args.dims("count_nonzero", x, dim))
    return index_tensor(np.asarray(counts))


# ---- helpers shared with ops/sort.py and ops/scan.py ---------------------------------------------


def with_0d_as_1d(fn, x):
    """fn applied to x as a 1-element 1-D tensor, each result reshaped back to 0-d: PyTorch
    lets a 0-d tensor take dim 0 or -1 in ops along a dim."""
    out = fn(x.reshape(1))
    if _args.is_tensor(out):
        return out.reshape(())
    return type(out)(*(t.reshape(()) for t in out))


def select_along(x, index, dim):
    """The elements of x at `index` (an int array with x's ndim) along `dim`, as numpy's
    `take_along_axis`, in the graph: the gradient goes back to the selected elements (added
    up where one is selected more than once, as by cummax)."""
    positions = list(np.indices(index.shape, sparse=True))
    positions[dim] = index
    return AdvancedIndex.apply(x, index=tuple(positions))


def saved_output(ctx, x, y, axes, keepdim):
    """A reduction's output from `y` (the reduced axes kept as size 1), saving x and the output
    itself for backward, so that an in-place write to the output is caught at backward."""
    out = y if keepdim else y.reshape(reduced_shape(x.shape, axes))
    ctx.save(x, out)
    ctx.axes = axes
    return out


def keep_dims(g, shape, axes):
    """g of a reduction's output shape, reshaped to keep the reduced axes as size 1."""
    if axes is None:
        return g.reshape((1,) * len(shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return g.reshape(kept)


def index_tensor(index):
    return Tensor._wrap(index.astype(dtypes.int64, copy=False))


def accumulating(x, dtype):
    """x converted to `dtype`, or to int64 if it is a bool or integer tensor: what sums and
    products accumulate in, as in PyTorch."""
    if dtype is not None:
        return to_dtype(x, dtypes.as_dtype(dtype))
    return to_dtype(x, dtypes.int64) if x.dtype.kind in "biu" else x


def require_elements(op, x, axes):
    """A reduction with no identity needs each slice over `axes` (None: all) to be non-empty."""
    sizes = x.shape if axes is None else [x.shape[a] for a in axes]
    if 0 in sizes:
        raise DimError(
            f"{op}: cannot reduce over an empty dimension (tensor of shape {x.shape} "
            f"{x.dtype}, dims {'all' if axes is None else axes})"
        )


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axes]))


def reduced_shape(shape, axes):
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


from autodiff.tensor import Tensor  # noqa: E402
