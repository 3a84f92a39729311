"""Sorting and order statistics along a dim: sort, argsort, topk, kthvalue, median, nanmedian,
mode, and unique.

The order is found in numpy and the values are the input's elements at those indices
(`reduce.select_along`), so the gradient goes to the selected elements, as in PyTorch.
Ascending order puts NaN last and descending order first, as PyTorch's. Every sort here is
stable: equal elements keep their order, so the indices of ties are deterministic
(`stable=False` is accepted and changes nothing). PyTorch does not specify which of tied
elements topk, kthvalue and median(dim) report, and may pick another; mode reports the last
occurrence, as PyTorch does.
"""

import numpy as np

from autodiff import return_types
from autodiff.errors import ShapeError
from autodiff.ops import _args
from autodiff.ops.reduce import (
    Extreme,
    index_tensor,
    require_elements,
    saved_output,
    select_along,
    with_0d_as_1d,
)

__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique"]


class Median(Extreme):
    """The lower median of all elements, as PyTorch's `median()` with no dim: NaN if any element
    is NaN; with `skip_nan`, the median of the non-NaN elements (`nanmedian()`).

    The backward is `Extreme`'s: the elements equal to the median (the NaNs, when it is NaN)
    share the gradient equally, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, skip_nan=False):
        s = np.sort(x, axis=None)
        nans = np.count_nonzero(np.isnan(s)) if s.dtype.kind == "f" else 0
        y = s[_median_position(s.size, nans, skip_nan)].reshape((1,) * x.ndim)
        ctx.nan_ties = True
        return saved_output(ctx, x, y, None, False)


def sort(x, dim=-1, descending=False, stable=False):
    """`return_types.sort(values, indices)`: x sorted along `dim`, and where each value was.

    Parameters
    ----------
    x : Tensor of any shape and dtype
    dim : int
    descending : bool
        Largest first (NaN first); ascending puts NaN last.
    stable : bool
        Accepted for PyTorch's signature; every sort here is stable.

    Returns
    -------
    values : Tensor, x's shape and dtype; the gradient goes back to the element each came from
    indices : int64 Tensor, x's shape
    """
    d = _args.dim("sort", x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: sort(t, 0, descending), x)
    index = _order(x.data, d, descending)
    return return_types.sort(select_along(x, index, d), index_tensor(index))


def argsort(x, dim=-1, descending=False, stable=False):
    """The int64 indices that sort x along `dim` (the `indices` of `sort`); not differentiable."""
    d = _args.dim("argsort", x, dim)
    return index_tensor(_order(x.data, d, descending) if x.ndim else np.zeros((), np.int64))


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """`return_types.topk(values, indices)`: the k largest (or smallest) elements along `dim`.

    The result has x's shape with `dim` of size k; values come largest first (smallest first
    with `largest=False`) whether or not `sorted` is set, which PyTorch leaves unspecified when
    it is not. NaN counts as larger than any number. Raises ShapeError unless 0 <= k <= size.
    """
    d = _args.dim("topk", x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: topk(t, k, 0, largest, sorted), x)
    n = x.shape[d]
    if not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise ShapeError(
            f"topk: k={k!r} is out of range for dim {d} of size {n} (tensor of shape "
            f"{x.shape} {x.dtype})"
        )
    index = np.take(_order(x.data, d, largest), np.arange(k), axis=d)
    return return_types.topk(select_along(x, index, d), index_tensor(index))


def kthvalue(x, k, dim=-1, keepdim=False):
    """`return_types.kthvalue(values, indices)`: the k-th smallest element (k from 1) of each
    slice along `dim`, NaN counting as the largest. Raises ShapeError unless 1 <= k <= size."""

    def position(s, d):
        n = s.shape[d]
        if not isinstance(k, int | np.integer) or not 1 <= k <= n:
            raise ShapeError(
                f"kthvalue: k={k!r} is out of range for dim {d} of size {n} (tensor of shape "
                f"{x.shape} {x.dtype}); k counts from 1"
            )
        return np.full(_kept_shape(s.shape, d), k - 1)

    return _order_statistic("kthvalue", x, dim, keepdim, position)


def median(x, dim=None, keepdim=False):
    """The lower median (of an even count, the smaller of the two middle values).

    `median(x)`: a 0-d tensor, NaN if any element is NaN; elements equal to it share the
    gradient. `median(x, dim, keepdim=False)`: `return_types.median(values, indices)` along
    `dim`, NaN (and the first NaN's index) in a slice holding one; the gradient goes to the
    element at the index.
    """
    return _median("median", x, dim, keepdim, skip_nan=False)


def nanmedian(x, dim=None, keepdim=False):
    """`median` ignoring NaN: NaN only where every element of the slice is NaN."""
    return _median("nanmedian", x, dim, keepdim, skip_nan=True)


def mode(x, dim=-1, keepdim=False):
    """`return_types.mode(values, indices)`: the most frequent value of each slice along `dim`
    (the smallest of those equally frequent) and the index of its last occurrence, as in
    PyTorch. NaN is never equal to NaN here, so each NaN counts once."""
    return _order_statistic("mode", x, dim, keepdim, _mode_position)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct elements of x, sorted (always, as PyTorch on CPU does); not differentiable.

    Parameters
    ----------
    dim : int, optional
        Distinct slices along `dim` instead of distinct elements of the flattened x.
    return_inverse : bool
        Also return, for each element (slice) of x, the int64 index of its value in the
        result: x's shape (or `(x.shape[dim],)`).
    return_counts : bool
        Also return how often each distinct value occurs (int64).

    Returns the values alone, or a tuple `(values, inverse, counts)` of those asked for. Each
    NaN is distinct, as in PyTorch.
    """
    axis = None if dim is None or x.ndim == 0 else _args.dim("unique", x, dim)
    values, inverse, counts = np.unique(
        x.data, return_inverse=True, return_counts=True, axis=axis, equal_nan=False
    )
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(index_tensor(inverse.reshape(x.shape if axis is None else -1)))
    if return_counts:
        out.append(index_tensor(counts))
    return out[0] if len(out) == 1 else tuple(out)


# ---- helpers -----------------------------------------------------------------------------------


def _order(a, d, descending):
    """The indices that sort array `a` along `d`: stable, NaN last (first when descending)."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    # a stable ascending sort of the reversed slices, reversed back: descending, ties in their
    # order, NaN first; no negation, which would overflow unsigned and bool arrays
    reversed_order = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return a.shape[d] - 1 - np.flip(reversed_order, d)


def _order_statistic(op, x, dim, keepdim, position):
    """`return_types.<op>(values, indices)` of the element that sits at `position(s, d)` (an int
    array of s's shape with `d` of size 1) in the ascending sort `s` of each slice along dim."""
    d = _args.dim(op, x, dim)
    if x.ndim == 0:
        return with_0d_as_1d(lambda t: _order_statistic(op, t, 0, keepdim, position), x)
    require_elements(op, x, (d,))
    order = _order(x.data, d, False)
    index = np.take_along_axis(order, position(np.take_along_axis(x.data, order, d), d), d)
    values = select_along(x, index, d)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return getattr(return_types, op)(values, index_tensor(index))


def _median(op, x, dim, keepdim, skip_nan):
    if dim is None:
        require_elements(op, x, None)
        return Median.apply(x, skip_nan=skip_nan)

    def position(s, d):
        nans = np.isnan(s).sum(axis=d, keepdims=True) if s.dtype.kind == "f" else 0
        return np.broadcast_to(
            _median_position(s.shape[d], nans, skip_nan), _kept_shape(s.shape, d)
        )

    return _order_statistic(op, x, dim, keepdim, position)


def _median_position(n, nans, skip_nan):
    """Where the median of n elements, `nans` of them NaN, sits in their ascending sort (NaN
    last): the lower median; the first NaN if there is one (skipping NaN: if all are NaN)."""
    if skip_nan:
        return np.maximum((n - nans - 1) // 2, 0)
    return np.where(nans > 0, n - nans, (n - 1) // 2)


def _mode_position(s, d):
    """The end of the first longest run of equal values in each sorted slice of s along d."""
    s = np.moveaxis(s, d, -1)
    n = s.shape[-1]
    steps = np.arange(n)
    change = s[..., 1:] != s[..., :-1]
    edge = np.ones(s.shape[:-1] + (1,), bool)
    starts = np.concatenate([edge, change], axis=-1)
    ends = np.concatenate([change, edge], axis=-1)
    run_start = np.maximum.accumulate(np.where(starts, steps, 0), axis=-1)
    length = np.where(ends, steps - run_start + 1, 0)
    # argmax takes the first longest run: the smallest of the most frequent values
    return np.moveaxis(np.argmax(length, axis=-1)[..., None], -1, d)


def _kept_shape(shape, d):
    return shape[:d] + (1,) + shape[d + 1 :]


from autodiff.tensor import Tensor  # noqa: E402
