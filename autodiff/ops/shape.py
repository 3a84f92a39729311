"""Ops that move elements without changing them: reshape, permute, expand, indexing, cat, pad.

Indexing follows PyTorch where it differs from numpy: an integer (or a 0-d integer tensor) in an
index with index arrays selects first, as a basic index, and the index arrays then follow
numpy's rule on what is left. So `x[0, :, idx]` on a (2, 3, 4) tensor is (3, len(idx)) as in
PyTorch, where numpy, which counts the 0 as an index array separated from `idx` by the slice,
moves the broadcast index dims to the front and gives (len(idx), 3).
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args

__all__ = [
    "reshape",
    "view",
    "flatten",
    "unflatten",
    "permute",
    "transpose",
    "swapaxes",
    "swapdims",
    "movedim",
    "moveaxis",
    "t",
    "squeeze",
    "unsqueeze",
    "expand",
    "broadcast_to",
    "broadcast_tensors",
    "meshgrid",
    "getitem",
    "index_put",
    "cat",
    "stack",
]


class Reshape(Function):
    """x with a new shape of the same size (a view when numpy can make one)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    """x with its dimensions reordered by `dims` (a view)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.dims))


class Expand(Function):
    """x broadcast to `shape` (a read-only view); backward is the engine's broadcast undo."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class BasicIndex(Function):
    """x[index] for ints, slices, None and Ellipsis (a view)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        items = index if isinstance(index, tuple) else (index,)
        # an int for every dim makes numpy copy out a scalar; a trailing Ellipsis keeps a 0-d view
        return x[items if any(i is Ellipsis for i in items) else (*items, Ellipsis)]

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, ctx.dtype)
        gx[ctx.index] = g
        return gx


class AdvancedIndex(Function):
    """x[index] with integer or bool arrays (a copy); repeated indices accumulate gradient."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, ctx.dtype)
        np.add.at(gx, ctx.index, g)
        return gx


class IndexPut(Function):
    """A copy of x with x[index] = value (the out-of-place form of `__setitem__`)."""

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_ndim = index, np.ndim(value)
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g.copy()
            gx[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            gv = g[ctx.index]
            # the assignment drops leading size-1 dims of value; restore them for the engine
            if ctx.value_ndim > gv.ndim:
                gv = gv.reshape((1,) * (ctx.value_ndim - gv.ndim) + gv.shape)
        return gx, gv


class IndexPutAccumulate(Function):
    """A copy of x with `value` added at x[index]; repeated indices add up (numpy's add.at).

    Also the body of scatter_add and index_add, whose `index` addresses one element each."""

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index, ctx.value_ndim = index, np.ndim(value)
        out = x.copy()
        np.add.at(out, index, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gv = None
        if ctx.needs_input_grad[1]:
            gv = g[ctx.index]
            if ctx.value_ndim > gv.ndim:
                gv = gv.reshape((1,) * (ctx.value_ndim - gv.ndim) + gv.shape)
        return g, gv


class Cat(Function):
    """Inputs joined along `axis`."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.bounds, axis=ctx.axis))


def reshape(x, *shape):
    """x with a new shape; one entry may be -1. Accepts `reshape(2, 3)` or `reshape((2, 3))`."""
    target = _resolve_shape("reshape", x.shape, _args.shape_arg(shape))
    return Reshape.apply(x, shape=target)


def view(x, *shape):
    """`x` with shape `shape` (one entry may be -1), sharing its data, as `reshape`."""
    return reshape(x, *shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim merged into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _args.dim("flatten", x, start_dim), _args.dim("flatten", x, end_dim)
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    # the merged length itself, not -1, which an empty tensor could not resolve
    return reshape(x, *shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


def unflatten(x, dim, sizes):
    """x with dim `dim` split into dims of `sizes` (one of them may be -1); a view.

    Raises ShapeError when the sizes do not multiply to that dim's length.
    """
    d = _args.dim("unflatten", x, dim)
    sizes = tuple(sizes)
    if x.ndim == 0 or not sizes:
        raise ShapeError(f"unflatten: cannot split dim {dim} of shape {x.shape} into {sizes}")
    inner = _resolve_shape("unflatten", (x.shape[d],), sizes)
    return reshape(x, *x.shape[:d], *inner, *x.shape[d + 1 :])


def permute(x, *dims):
    """`x` with its dims reordered as `dims` (a permutation of 0..ndim-1); a view."""
    dims = _args.shape_arg(dims)
    if sorted(_args.dim("permute", x, d) for d in dims) != list(range(x.ndim)):
        raise ShapeError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dims of "
            f"a tensor of shape {x.shape}"
        )
    return Permute.apply(x, dims=tuple(_args.dim("permute", x, d) for d in dims))


def transpose(x, dim0, dim1):
    """x with dims dim0 and dim1 swapped."""
    dims = list(range(x.ndim))
    a, b = _args.dim("transpose", x, dim0), _args.dim("transpose", x, dim1)
    if dims:  # a 0-d tensor accepts dims 0 and -1 and has nothing to swap, as in PyTorch
        dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def swapaxes(x, axis0, axis1):
    """`transpose` under numpy's name (PyTorch has both)."""
    return transpose(x, axis0, axis1)


def swapdims(x, dim0, dim1):
    """`transpose` under another of PyTorch's names."""
    return transpose(x, dim0, dim1)


def movedim(x, source, destination):
    """x with dims `source` (an int or a sequence) moved to positions `destination`; a view.

    The other dims keep their order, as in `numpy.moveaxis`.
    """
    src = (source,) if isinstance(source, int | np.integer) else tuple(source)
    dst = (destination,) if isinstance(destination, int | np.integer) else tuple(destination)
    if len(src) != len(dst):
        raise ShapeError(
            f"movedim: source {source} and destination {destination} have different lengths"
        )
    src = [_args.dim("movedim", x, d) for d in src]
    dst = [_args.dim("movedim", x, d) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in source {source} or destination {destination}")
    if x.ndim == 0:  # dims 0 and -1 name the one "dim" of a 0-d tensor, as in PyTorch
        return Permute.apply(x, dims=())
    order = [d for d in range(x.ndim) if d not in src]
    for to, frm in sorted(zip(dst, src, strict=True)):
        order.insert(to, frm)
    return Permute.apply(x, dims=tuple(order))


moveaxis = movedim


def t(x):
    """The transpose of a matrix; a 0-d or 1-D tensor is returned as a view of itself.

    Raises ShapeError for more than 2 dims (use `transpose` or `mT`), as PyTorch does.
    """
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dims, got shape {x.shape} {x.dtype}")
    return Permute.apply(x, dims=tuple(reversed(range(x.ndim))))


def squeeze(x, dim=None):
    """x without size-1 dims: all of them, or those of `dim` (an int or a tuple) that have
    size 1 (the others stay, as in PyTorch)."""
    if dim is None:
        return reshape(x, *(n for n in x.shape if n != 1))
    drop = _args.dims("squeeze", x, dim) or ()
    return reshape(x, *(n for d, n in enumerate(x.shape) if not (d in drop and n == 1)))


def unsqueeze(x, dim):
    """x with a new size-1 dim at position `dim` (in the result)."""
    d = _args.dim("unsqueeze", x, dim, ndim=x.ndim + 1)
    return reshape(x, *x.shape[:d], 1, *x.shape[d:])


def expand(x, *sizes):
    """x broadcast to `sizes`; -1 keeps a dim's size. No data is copied."""
    sizes = _args.shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {sizes} has fewer dims than the tensor's shape {x.shape}")
    if -1 in sizes[:lead]:
        raise ShapeError(f"expand: -1 in {sizes} is a new leading dim (tensor shape {x.shape})")
    target = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    if any(n != 1 and n != t for n, t in zip(x.shape, target[lead:], strict=True)):
        raise ShapeError(
            f"expand: a tensor of shape {x.shape} cannot be expanded to {sizes} "
            "(only size-1 dims can grow)"
        )
    return Expand.apply(x, shape=target)


def broadcast_to(x, shape):
    """x broadcast to `shape` (`expand` with a tuple; -1 keeps a dim); a read-only view."""
    return expand(x, *shape)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape, as a tuple of views.

    Raises ShapeError naming every shape when they do not broadcast together.
    """
    tensors = _args.shape_arg(tensors)
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError as e:
        shapes = ", ".join(f"{t.shape} {t.dtype}" for t in tensors)
        raise ShapeError(f"broadcast_tensors: shapes do not broadcast together: {shapes}") from e
    return tuple(expand(t, *shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors of lengths (n0, n1, ...), as a tuple of views.

    Parameters
    ----------
    *tensors : 1-D (or 0-d) tensors, or one list of them.
    indexing : "ij" gives grids of shape (n0, n1, ...); "xy" (Cartesian, numpy's default)
        swaps the first two: (n1, n0, n2, ...). PyTorch's default is "ij".
    """
    tensors = _args.shape_arg(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"meshgrid: expects 0-d or 1-D tensors, got shapes {shapes}")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0
    lengths = [t.data.size for t in tensors]
    shape = [0] * len(tensors)
    for axis, n in zip(axes, lengths, strict=True):
        shape[axis] = n
    grids = []
    for axis, tensor in zip(axes, tensors, strict=True):
        column = [1] * len(tensors)
        column[axis] = -1
        grids.append(expand(reshape(tensor, *column), *shape))
    return tuple(grids)


def getitem(x, index):
    """x[index] with PyTorch's semantics (see the module docstring).

    `index` may hold ints, slices, None, Ellipsis, and int or bool tensors, arrays or lists.
    Basic indexing gives a view; index arrays give a copy, whose backward accumulates the
    gradient of repeated indices.
    """
    first, index = _torch_order(_unwrap_index(index))
    if first is not None:
        x = BasicIndex.apply(x, index=first)
    if _is_advanced(index):
        return AdvancedIndex.apply(x, index=index)
    return BasicIndex.apply(x, index=index)


def index_put(x, indices, values, accumulate=False):
    """A copy of x with x[indices] = values (PyTorch's `index_put`; `x[i] = v` is its in-place
    form); `values` broadcast to the shape of x[indices].

    With `accumulate=True`, values are added instead, and repeated indices add up. `indices`
    is anything `getitem` accepts: a tuple of index tensors (PyTorch's form), or ints, slices
    and masks.
    """
    first, index = _torch_order(_unwrap_index(indices))
    if first is not None:  # write into the view x[first] of a copy, composed of two puts
        return index_put(x, first, index_put(getitem(x, first), index, values, accumulate))
    if not accumulate:
        return IndexPut.apply(x, values, index=index)
    if _args.is_tensor(values) and values.dtype != x.dtype:
        raise TypeError(
            f"index_put: accumulate needs values of the tensor's dtype: values {values.shape} "
            f"{values.dtype}, tensor {x.shape} {x.dtype}"
        )
    return IndexPutAccumulate.apply(x, values, index=index)


def cat(tensors, dim=0):
    """Tensors joined along an existing dim; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    first = tensors[0]
    d = _args.dim("cat", first, dim)
    for t in tensors:
        if (
            t.ndim != first.ndim
            or t.shape[:d] + t.shape[d + 1 :] != first.shape[:d] + first.shape[d + 1 :]
        ):
            shapes = ", ".join(f"{u.shape} {u.dtype}" for u in tensors)
            raise ShapeError(f"cat: tensors must match except in dim {dim}; got {shapes}")
    return Cat.apply(*tensors, axis=d)


def stack(tensors, dim=0):
    """Tensors of one shape joined along a new dim, composed as unsqueeze + cat."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: tensors must all have one shape; got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def _resolve_shape(op, have, shape):
    """`shape` with its -1 worked out, for data of shape `have`; ShapeError if it does not fit."""
    size = int(np.prod(have))
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ShapeError(f"{op}: invalid shape {shape} for a tensor of shape {have}")
    if -1 in shape:
        if known == 0 or size % known:
            raise ShapeError(f"{op}: shape {shape} is invalid for a tensor of shape {have}")
        return tuple(size // known if n == -1 else n for n in shape)
    if known != size:
        raise ShapeError(
            f"{op}: shape {shape} is invalid for a tensor of shape {have} ({size} elements)"
        )
    return shape


def _unwrap_index(index):
    if isinstance(index, tuple):
        return tuple(_unwrap_index_item(i) for i in index)
    return _unwrap_index_item(index)


def _unwrap_index_item(i):
    if isinstance(i, Tensor):
        i = i.data
    elif isinstance(i, list):
        i = np.asarray(i)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
        return int(i)  # PyTorch selects with a 0-d integer tensor, as with an int
    if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
        raise TypeError(
            f"getitem: index arrays must be integer or bool, got {i.dtype} (shape {i.shape})"
        )
    return i


def _torch_order(index):
    """(first, rest): an index with both ints and index arrays as a basic index to apply first
    (its ints, slices, None and Ellipsis) and what then remains (the arrays, with a full slice
    for every other dim left); (None, index) when numpy's order is already PyTorch's."""
    items = index if isinstance(index, tuple) else (index,)
    if not (_is_advanced(items) and any(isinstance(i, int | np.integer) for i in items)):
        return None, index
    first, rest = [], []
    for i in items:
        if isinstance(i, np.ndarray):
            first += [slice(None)] * (i.ndim if i.dtype == np.bool_ else 1)
            rest.append(i)
        elif isinstance(i, int | np.integer):
            first.append(i)
        else:
            first.append(i)
            rest.append(Ellipsis if i is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) for i in items)


from autodiff.tensor import Tensor  # noqa: E402
