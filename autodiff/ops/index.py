"""Indexing ops with an index tensor: gather and scatter along a dim, index_* along a dim,
masked_fill and masked_select, take, take_along_dim and nonzero.

Gather and scatter address one element of x per element of `index` (for dim=1 of a 3-D x,
position (i, j, k) of index addresses x[i, index[i, j, k], k]); `_along` turns that into a numpy
advanced index, so they are compositions of getitem's and index_put's ops (AdvancedIndex,
IndexPut, IndexPutAccumulate). Only the prod, amax and amin reductions of scatter_reduce need
rules of their own. Indices must be integer tensors (or arrays); any integer dtype is accepted,
where PyTorch wants int64 for some ops.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.elementwise import Where, mul, to_dtype
from autodiff.ops.shape import (
    AdvancedIndex,
    IndexPut,
    IndexPutAccumulate,
    expand,
    getitem,
    reshape,
)

__all__ = [
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "index_select",
    "index_add",
    "index_copy",
    "index_fill",
    "masked_fill",
    "masked_select",
    "take",
    "take_along_dim",
    "nonzero",
]


class ScatterProd(Function):
    """x with the elements of src multiplied in where index sends them (scatter_reduce "prod");
    without include_self, the positions src reaches start from 1 instead of x.

    Its own rule: the gradient of each factor is the product of the other factors, which is
    found without dividing by zero by counting the zero factors at every position.
    """

    @staticmethod
    def forward(ctx, x, src, index, include_self):
        ctx.save(x, src)
        ctx.index, ctx.include_self = index, include_self
        out = x.copy()
        if not include_self:
            out[index] = 1
        np.multiply.at(out, index, src)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src = ctx.saved
        index = ctx.index
        joins = _joins(x.shape, index, ctx.include_self)
        factors = np.where(joins, x, 1)
        # per position: the product of its nonzero factors, and how many factors are zero
        product = np.where(factors == 0, 1, factors)
        np.multiply.at(product, index, np.where(src == 0, 1, src))
        zeros = (factors == 0).astype(np.intp)
        np.add.at(zeros, index, src == 0)
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = np.where(joins, g * _product_of_others(x, product, zeros), 0)
        if ctx.needs_input_grad[1]:
            gsrc = g[index] * _product_of_others(src, product[index], zeros[index])
        return gx, gsrc


class ScatterExtreme(Function):
    """x with the largest (amax) or smallest (amin) of itself and the src elements sent to each
    position; without include_self, x's own element at such a position does not count.

    Its own rule: the gradient goes to the elements equal to the result, shared evenly between
    ties, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, src, index, include_self, reduce):
        ctx.index, ctx.include_self = index, include_self
        out = x.copy()
        if not include_self:
            out[index] = src  # one of the competitors, so the extreme below is theirs alone
        (np.maximum if reduce == "amax" else np.minimum).at(out, index, src)
        ctx.save(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved
        index = ctx.index
        x_wins = _joins(x.shape, index, ctx.include_self) & (x == out)
        src_wins = src == out[index]
        winners = x_wins.astype(g.dtype)
        np.add.at(winners, index, src_wins)
        share = g / np.maximum(winners, 1)
        return np.where(x_wins, share, 0), np.where(src_wins, share[index], 0)


def _joins(shape, index, include_self):
    """Which elements of x take part in a scatter reduction."""
    joins = np.ones(shape, bool)
    if not include_self:
        joins[index] = False
    return joins


def _product_of_others(v, product, zeros):
    """For each factor v: the product of the other factors at its position (`product` is that
    of the nonzero factors there, `zeros` the number of zero factors)."""
    safe = np.where(v == 0, 1, v)
    return np.where(
        v == 0, np.where(zeros == 1, product, 0), np.where(zeros == 0, product / safe, 0)
    )


# ---- gather and scatter ----------------------------------------------------------------------


def gather(x, dim, index, *, sparse_grad=False):
    """`out[i][j][k] = x[index[i][j][k]][j][k]` for dim=0 (likewise for the other dims).

    Parameters
    ----------
    x : Tensor
    index : integer tensor with x's number of dims; index.size(d) <= x.size(d) for d != dim;
        its values in [0, x.size(dim)). `sparse_grad` is accepted and ignored. A 0-d x counts as
        one element along dim 0 (or -1), as in PyTorch, and takes a 0-d or 1-D index of zeros.

    Returns
    -------
    A new tensor of index's shape and x's dtype; the gradient adds up at repeated indices.
    """
    if x.ndim == 0:
        idx = _scalar_index("gather", x, dim, index)
        return gather(x.reshape(1), 0, idx.reshape(-1)).reshape(idx.shape)
    along = _along("gather", x, dim, index)
    return AdvancedIndex.apply(x, index=along)


def scatter(x, dim, index, src=None, *, value=None, reduce=None):
    """A copy of x with the elements of `src` (or the number `value`) written where `index`
    sends them: `out[index[i][j]][j] = src[i][j]` for dim=0.

    `src` is a tensor of x's dtype and at least index's size in every dim (only its first
    index.shape elements are used), or a number. Where index repeats a position, one of the
    writes wins (the last, here). `reduce="add"` or `"multiply"` combines instead, as
    scatter_add and scatter_reduce("prod") do (and, unlike PyTorch's, is differentiable).
    """
    if src is None:
        src = value
    if reduce == "add":
        return scatter_add(x, dim, index, src if _args.is_tensor(src) else _full(x, index, src))
    if reduce == "multiply":
        src = src if _args.is_tensor(src) else _full(x, index, src)
        return scatter_reduce(x, dim, index, src, "prod")
    if reduce is not None:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if not _args.is_tensor(src):
        return IndexPut.apply(x, src, index=_along("scatter", x, dim, index))
    along = _along("scatter", x, dim, index, src)
    return IndexPut.apply(x, _first(src, along), index=along)


def scatter_add(x, dim, index, src):
    """A copy of x with the elements of `src` added where `index` sends them (repeated
    positions add up); `src` as for `scatter`."""
    along = _along("scatter_add", x, dim, index, src)
    return IndexPutAccumulate.apply(x, _first(src, along), index=along)


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    """x with the elements of `src` combined into the positions `index` sends them to.

    Parameters
    ----------
    reduce : "sum", "prod", "mean", "amax" or "amin"
        How the elements sent to one position (and x's own, if include_self) are combined.
        "mean" of an integer tensor rounds down, as in PyTorch.
    include_self : bool
        Whether x's element at a position that receives elements takes part; positions that
        receive none keep x's element either way.

    Returns
    -------
    A new tensor of x's shape and dtype. The gradient of amax/amin is shared evenly between
    the elements equal to the result.
    """
    along = _along("scatter_reduce", x, dim, index, src)
    part = _first(src, along)
    if reduce == "sum":
        base = x if include_self else IndexPut.apply(x, 0, index=along)
        return IndexPutAccumulate.apply(base, part, index=along)
    if reduce == "mean":
        total = scatter_reduce(x, dim, index, src, "sum", include_self=include_self)
        count = np.full(x.shape, int(include_self))
        np.add.at(count, along, 1)
        count = np.maximum(count, 1)
        if x.dtype.kind != "f":
            return Tensor._wrap(np.floor_divide(total.data, count).astype(x.dtype))
        return mul(total, (1 / count).astype(x.dtype))
    if reduce == "prod":
        return ScatterProd.apply(x, part, index=along, include_self=include_self)
    if reduce in ("amax", "amin"):
        return ScatterExtreme.apply(x, part, index=along, include_self=include_self, reduce=reduce)
    raise ValueError(
        f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}"
    )


def _along(op, x, dim, index, src=None):
    """The numpy index of the elements of x that gather/scatter's `index` addresses along dim,
    after checking index (and src, if given) against x as PyTorch does."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: needs a tensor with at least 1 dim, got a 0-d {x.dtype} tensor")
    d = _args.dim(op, x, dim)
    idx = _index_array(op, index)
    if idx.ndim != x.ndim or any(
        i > n for e, (i, n) in enumerate(zip(idx.shape, x.shape, strict=True)) if e != d
    ):
        raise ShapeError(
            f"{op}: index of shape {idx.shape} does not fit a tensor of shape {x.shape} "
            f"{x.dtype} (same number of dims, no larger in any dim but {d})"
        )
    if src is not None:
        if not _args.is_tensor(src):
            raise TypeError(f"{op}: src must be a tensor, got {type(src).__name__}")
        if src.ndim != x.ndim or any(i > n for i, n in zip(idx.shape, src.shape, strict=True)):
            raise ShapeError(
                f"{op}: src of shape {src.shape} is smaller than the index {idx.shape} "
                f"(tensor {x.shape} {x.dtype})"
            )
        if src.dtype != x.dtype:
            raise TypeError(
                f"{op}: src {src.shape} {src.dtype} must have the dtype of the tensor "
                f"{x.shape} {x.dtype}"
            )
    _check_range(op, idx, x.shape[d], d)
    along = list(np.indices(idx.shape, sparse=True))
    along[d] = idx
    return tuple(along)


def _first(src, along):
    """src cut to the shape of the index (scatter uses only that corner of it)."""
    shape = np.broadcast_shapes(*(a.shape for a in along))
    if src.shape == shape:
        return src
    return getitem(src, tuple(slice(n) for n in shape))


def _full(x, index, value):
    return Tensor._wrap(np.full(np.shape(_index_array("scatter", index)), value, x.dtype))


# ---- index_* along one dim -------------------------------------------------------------------


def index_select(x, dim, index):
    """The slices of x at positions `index` (a 1-D integer tensor) along `dim`, in that order.

    Returns a new tensor of x's shape with dim `dim` of length len(index). A 0-d x takes an
    index of one zero and gives a 0-d copy, as in PyTorch.
    """
    if x.ndim == 0:
        idx = _scalar_index("index_select", x, dim, index)
        if idx.size != 1:
            raise ShapeError(f"index_select: a 0-d tensor takes one index, got {idx.size}")
        return index_select(x.reshape(1), 0, idx.reshape(1)).reshape(())
    d, idx = _dim_index("index_select", x, dim, index)
    return AdvancedIndex.apply(x, index=(slice(None),) * d + (idx,))


def index_add(x, dim, index, source, *, alpha=1):
    """A copy of x with `alpha * source[..., i, ...]` added to the slice `index[i]` along dim
    (repeated indices add up); source is x's shape with len(index) along dim, x's dtype."""
    d, idx = _dim_index("index_add", x, dim, index, source)
    if alpha != 1:
        source = mul(source, alpha)
    return IndexPutAccumulate.apply(x, source, index=(slice(None),) * d + (idx,))


def index_copy(x, dim, index, source):
    """A copy of x with the slice `index[i]` along dim replaced by `source[..., i, ...]`."""
    d, idx = _dim_index("index_copy", x, dim, index, source)
    return IndexPut.apply(x, source, index=(slice(None),) * d + (idx,))


def index_fill(x, dim, index, value):
    """A copy of x with the slices at `index` along dim filled with `value` (a number or a 0-d
    tensor, which then receives the sum of their gradients); negative indices count from the
    end, as in PyTorch."""
    d, idx = _dim_index("index_fill", x, dim, index, negative=True)
    value = _fill_value("index_fill", x, value)
    # each slice once, so that a 0-d tensor value gets each slice's gradient once
    idx = np.unique(idx % max(x.shape[d], 1))
    return IndexPut.apply(x, value, index=(slice(None),) * d + (idx,))


def _dim_index(op, x, dim, index, source=None, negative=False):
    """dim (normalised) and a 1-D index array along it, checked as PyTorch does; and source's
    shape and dtype, if given."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: needs a tensor with at least 1 dim, got a 0-d {x.dtype} tensor")
    d = _args.dim(op, x, dim)
    idx = _index_array(op, index)
    if idx.ndim > 1:
        raise ShapeError(f"{op}: index must be 0-d or 1-D, got shape {idx.shape}")
    idx = idx.reshape(-1)
    _check_range(op, idx, x.shape[d], d, negative)
    if source is not None:
        expected = x.shape[:d] + (idx.size,) + x.shape[d + 1 :]
        if source.shape != expected:
            raise ShapeError(
                f"{op}: source of shape {source.shape} should be {expected} for a tensor of "
                f"shape {x.shape} and {idx.size} indices along dim {d}"
            )
        if source.dtype != x.dtype:
            raise TypeError(
                f"{op}: source {source.shape} {source.dtype} must have the dtype of the "
                f"tensor {x.shape} {x.dtype}"
            )
    return d, idx


# ---- masks -----------------------------------------------------------------------------------


def masked_fill(x, mask, value):
    """x with `value` where `mask` is True (x and mask broadcast together).

    Parameters
    ----------
    mask : bool tensor or array, broadcastable with x.
    value : a number (converted to x's dtype: 2.5 in an integer tensor is 2) or a 0-d tensor
        (which then receives the sum of the gradient at the masked positions).

    Returns
    -------
    A new tensor of x's dtype and the broadcast shape.
    """
    cond = _mask("masked_fill", x, mask)
    return Where.apply(cond, _fill_value("masked_fill", x, value), x)


def masked_select(x, mask):
    """The elements of x where `mask` is True (both broadcast together), as a new 1-D tensor."""
    cond = _mask("masked_select", x, mask)
    shape = np.broadcast_shapes(x.shape, cond.shape)
    if x.shape != shape:
        x = expand(x, *shape)
    return AdvancedIndex.apply(x, index=np.broadcast_to(cond, shape))


def _mask(op, x, mask):
    cond = np.asarray(mask)
    if cond.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be bool, got {cond.dtype} (shape {cond.shape})")
    try:
        np.broadcast_shapes(x.shape, cond.shape)
    except ValueError as e:
        raise ShapeError(
            f"{op}: mask of shape {cond.shape} does not broadcast with the tensor's shape "
            f"{x.shape} {x.dtype}"
        ) from e
    return cond


def _fill_value(op, x, value):
    """A fill value in x's dtype: a 0-d tensor (converted, differentiably) or a 0-d array."""
    if _args.is_tensor(value):
        if value.ndim != 0:
            raise ShapeError(
                f"{op}: a tensor value must be 0-d, got shape {value.shape} (tensor {x.shape})"
            )
        return value if value.dtype == x.dtype else to_dtype(value, x.dtype)
    return np.array(value, dtype=x.dtype)


# ---- flat and per-dim lookups ----------------------------------------------------------------


def take(x, index):
    """The elements of x (read as if flattened) at `index`, in index's shape; negative
    indices count from the end."""
    flat = reshape(x, -1)
    idx = _index_array("take", index)
    _check_range("take", idx, flat.shape[0], None, negative=True)
    return AdvancedIndex.apply(flat, index=idx)


def take_along_dim(x, indices, dim=None):
    """`gather` with numpy's `take_along_axis` conventions: x and indices broadcast in every dim
    but `dim`, and negative indices count from the end. With dim None, both are flattened."""
    idx = _index_array("take_along_dim", indices)
    if dim is None:
        x, idx, dim = reshape(x, -1), idx.reshape(-1), 0
    d = _args.dim("take_along_dim", x, dim)
    if idx.ndim != x.ndim:
        raise ShapeError(
            f"take_along_dim: indices of shape {idx.shape} need the {x.ndim} dims of the "
            f"tensor {x.shape} {x.dtype}"
        )
    n = x.shape[d]
    _check_range("take_along_dim", idx, n, d, negative=True)
    try:
        common = list(np.broadcast_shapes(_with(x.shape, d, 1), _with(idx.shape, d, 1)))
    except ValueError as e:
        raise ShapeError(
            f"take_along_dim: indices {idx.shape} and tensor {x.shape} do not broadcast "
            f"outside dim {d}"
        ) from e
    x_shape, idx_shape = _with(common, d, n), _with(common, d, idx.shape[d])
    if x.shape != x_shape:
        x = expand(x, *x_shape)
    return gather(x, d, np.broadcast_to(idx % max(n, 1), idx_shape))


def _with(shape, d, n):
    return tuple(shape[:d]) + (n,) + tuple(shape[d + 1 :])


def nonzero(x, *, as_tuple=False):
    """The indices of the nonzero elements of x, in row-major order (not differentiable).

    Returns an int64 tensor of shape (count, x.ndim), or with `as_tuple=True` a tuple of x.ndim
    1-D int64 tensors, one per dim (a 0-d x counts as 1-D there, as in PyTorch).
    """
    data = np.asarray(x)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(data)))
    return Tensor._wrap(np.argwhere(data).astype(np.int64))


# ---- shared checks ---------------------------------------------------------------------------


def _scalar_index(op, x, dim, index):
    """The index array for gathering from a 0-d x: dim 0 or -1, at most 1-D."""
    _args.dim(op, x, dim)
    idx = _index_array(op, index)
    if idx.ndim > 1:
        raise ShapeError(f"{op}: index of a 0-d tensor must be 0-d or 1-D, got {idx.shape}")
    return idx


def _index_array(op, index):
    idx = np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {idx.dtype} {idx.shape}")
    return idx


def _check_range(op, idx, n, d, negative=False):
    """IndexError unless every index is in [0, n) (or [-n, n) when negatives count from the
    end)."""
    if idx.size == 0:
        return
    low, high = int(idx.min()), int(idx.max())
    if low < (-n if negative else 0) or high >= n:
        where = "" if d is None else f" along dim {d}"
        bad = low if low < (-n if negative else 0) else high
        raise IndexError(f"{op}: index {bad} is out of range for size {n}{where}")


from autodiff.tensor import Tensor  # noqa: E402
