"""Ops that move elements without changing them: reshape, permute, expand, indexing, cat, pad."""

import numpy as np

from autodiff.function import Function

__all__ = [
    "reshape",
    "view",
    "flatten",
    "permute",
    "transpose",
    "squeeze",
    "unsqueeze",
    "expand",
    "getitem",
    "index_put",
    "cat",
    "stack",
    "pad",
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
        return x[index]

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


class Pad(Function):
    """x with `widths` ((before, after) per dim) of constant `value` around it."""

    @staticmethod
    def forward(ctx, x, widths, value=0):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.inner]


def reshape(x, *shape):
    """x with a new shape; one entry may be -1. Accepts `reshape(2, 3)` or `reshape((2, 3))`."""
    target = _resolve_shape("reshape", x, _shape_arg(shape))
    return Reshape.apply(x, shape=target)


def view(x, *shape):
    return reshape(x, *shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim merged into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _dim("flatten", x, start_dim), _dim("flatten", x, end_dim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape
    return reshape(x, *shape[:start], -1, *shape[end + 1 :])


def permute(x, *dims):
    dims = _shape_arg(dims)
    if sorted(_dim("permute", x, d) for d in dims) != list(range(x.ndim)):
        raise ValueError(
            f"permute: dims {dims} are not a permutation of the {x.ndim} dims of "
            f"a tensor of shape {x.shape}"
        )
    return Permute.apply(x, dims=tuple(_dim("permute", x, d) for d in dims))


def transpose(x, dim0, dim1):
    """x with dims dim0 and dim1 swapped."""
    dims = list(range(x.ndim))
    a, b = _dim("transpose", x, dim0), _dim("transpose", x, dim1)
    if dims:  # a 0-d tensor accepts dims 0 and -1 and has nothing to swap, as in PyTorch
        dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x, dim=None):
    """x without size-1 dims (all of them, or only `dim`, if it has size 1)."""
    if dim is None:
        return reshape(x, *(n for n in x.shape if n != 1))
    d = _dim("squeeze", x, dim)
    if x.ndim == 0 or x.shape[d] != 1:
        return x
    return reshape(x, *x.shape[:d], *x.shape[d + 1 :])


def unsqueeze(x, dim):
    """x with a new size-1 dim at position `dim` (in the result)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise ValueError(f"unsqueeze: dim {dim} is out of range for a tensor of shape {x.shape}")
    d = dim % (x.ndim + 1)
    return reshape(x, *x.shape[:d], 1, *x.shape[d:])


def expand(x, *sizes):
    """x broadcast to `sizes`; -1 keeps a dim's size. No data is copied."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {sizes} has fewer dims than the tensor's shape {x.shape}")
    if -1 in sizes[:lead]:
        raise ValueError(f"expand: -1 in {sizes} is a new leading dim (tensor shape {x.shape})")
    target = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    if any(n != 1 and n != t for n, t in zip(x.shape, target[lead:], strict=True)):
        raise ValueError(
            f"expand: a tensor of shape {x.shape} cannot be expanded to {sizes} "
            "(only size-1 dims can grow)"
        )
    return Expand.apply(x, shape=target)


def getitem(x, index):
    """x[index] with numpy semantics: ints, slices, None, Ellipsis, int and bool arrays."""
    index = _unwrap_index(index)
    if _is_advanced(index):
        return AdvancedIndex.apply(x, index=index)
    return BasicIndex.apply(x, index=index)


def index_put(x, index, value):
    """A copy of x with x[index] = value; `value` broadcasts to x[index]."""
    return IndexPut.apply(x, value, index=_unwrap_index(index))


def cat(tensors, dim=0):
    """Tensors joined along an existing dim; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: needs at least one tensor")
    first = tensors[0]
    d = _dim("cat", first, dim)
    for t in tensors:
        if (
            t.ndim != first.ndim
            or t.shape[:d] + t.shape[d + 1 :] != first.shape[:d] + first.shape[d + 1 :]
        ):
            shapes = ", ".join(f"{u.shape} {u.dtype}" for u in tensors)
            raise ValueError(f"cat: tensors must match except in dim {dim}; got {shapes}")
    return Cat.apply(*tensors, axis=d)


def stack(tensors, dim=0):
    """Tensors of one shape joined along a new dim, composed as unsqueeze + cat."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: tensors must all have one shape; got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def pad(x, pad, value=0):
    """Constant padding, PyTorch's `F.pad` order: (last_before, last_after, prev_before, ...)."""
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: {pad} must have an even length of at most 2 * ndim for a "
            f"tensor of shape {x.shape}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(x, widths=tuple(widths), value=value)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _resolve_shape(op, x, shape):
    size = x.data.size
    known = int(np.prod([n for n in shape if n != -1]))
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"{op}: invalid shape {shape} for a tensor of shape {x.shape}")
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"{op}: shape {shape} is invalid for a tensor of shape {x.shape}")
        return tuple(size // known if n == -1 else n for n in shape)
    if known != size:
        raise ValueError(
            f"{op}: shape {shape} is invalid for a tensor of shape {x.shape} ({size} elements)"
        )
    return shape


def _dim(op, x, dim):
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor of shape {x.shape}")
    return dim % ndim


def _unwrap_index(index):
    if isinstance(index, tuple):
        return tuple(_unwrap_index_item(i) for i in index)
    return _unwrap_index_item(index)


def _unwrap_index_item(i):
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, list):
        return np.asarray(i)
    return i


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) for i in items)


from autodiff.tensor import Tensor  # noqa: E402
