"""Views of parts of a tensor: narrow, select, split, chunk, unbind, and `Tensor.unfold`.

Every result is a view, as in PyTorch: it shares x's memory and version counter, so writing into
it under no_grad changes x. Split, chunk and unbind are compositions of basic indexing, one node
per piece.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.shape import BasicIndex

__all__ = ["narrow", "select", "split", "chunk", "unbind"]


class Unfold(Function):
    """The windows of length `size`, `step` apart, along dim `dim`, as a new last dim (a view).

    For x of shape (..., n, ...) the result has shape (..., m, ..., size) with
    m = (n - size) // step + 1 and out[..., i, ..., k] = x[..., i * step + k, ...].
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        windows = (x.shape[dim] - size) // step + 1
        shape = x.shape[:dim] + (windows,) + x.shape[dim + 1 :] + (size,)
        strides = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1 :]
        return np.lib.stride_tricks.as_strided(
            x, shape, strides + (x.strides[dim],), writeable=x.flags.writeable
        )

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, g.dtype)
        windows = g.shape[ctx.dim]
        lead = (slice(None),) * ctx.dim
        for k in range(ctx.size):  # offset k of every window: one strided slice of x
            gx[lead + (slice(k, k + ctx.step * (windows - 1) + 1, ctx.step),)] += g[..., k]
        return gx


def narrow(x, dim, start, length):
    """The `length` elements of dim `dim` from `start` on (negative: from the end); a view."""
    d = _args.dim("narrow", x, dim)
    n = x.shape[d] if x.ndim else 1
    start = int(start)
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(
            f"narrow: start {start} and length {length} do not fit in dim {d} of size {n} "
            f"(tensor {x.shape} {x.dtype})"
        )
    return _slice(x, d, slice(start, start + length))


def select(x, dim, index):
    """x[..., index, ...] at position `index` of dim `dim`, dropping that dim; a view."""
    if x.ndim == 0:
        raise ShapeError(f"select: cannot select from a 0-d {x.dtype} tensor")
    d = _args.dim("select", x, dim)
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {d} of size {n}")
    return _slice(x, d, int(index))


def split(x, split_size_or_sections, dim=0):
    """x cut along `dim` into pieces (views): of `split_size_or_sections` elements each (an
    int; the last piece may be shorter), or of the listed sizes (which must sum to the dim's
    length)."""
    d = _args.dim("split", x, dim)
    if x.ndim == 0:
        raise ShapeError(f"split: cannot split a 0-d {x.dtype} tensor")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0 and n:
            raise ValueError(f"split: split_size must be positive, got {size} (dim of {n})")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ShapeError(
                f"split: sizes {sizes} must be >= 0 and sum to {n}, the length of dim {d} "
                f"(tensor {x.shape} {x.dtype})"
            )
    bounds = np.cumsum([0, *sizes])
    return tuple(_slice(x, d, slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def chunk(x, chunks, dim=0):
    """x cut along `dim` into `chunks` pieces of ceil(n / chunks) elements (views); fewer
    pieces when they run out first, as in PyTorch."""
    if not isinstance(chunks, int | np.integer) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    d = _args.dim("chunk", x, dim)
    n = x.shape[d] if x.ndim else 0
    if n == 0 and x.ndim:
        return split(x, [0] * chunks, d)
    return split(x, math.ceil(n / chunks), d)


def unbind(x, dim=0):
    """The slices of x along `dim`, that dim removed, as a tuple of views."""
    if x.ndim == 0:
        raise ShapeError(f"unbind: cannot unbind a 0-d {x.dtype} tensor")
    d = _args.dim("unbind", x, dim)
    return tuple(_slice(x, d, i) for i in range(x.shape[d]))


def unfold(x, dimension, size, step):
    """`Tensor.unfold`: the windows of `size` elements, `step` apart, along `dimension`, as a
    new last dim (a view; see `Unfold`). A method only, as in PyTorch (`F.unfold` is im2col).

    Parameters
    ----------
    x : Tensor of shape (..., n, ...); a 0-d x is read as shape (1,).
    size : window length, at most n. step : distance between window starts, >= 1.

    Returns
    -------
    A view of shape (..., (n - size) // step + 1, ..., size).
    """
    d = _args.dim("unfold", x, dimension)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= size <= n or step < 1:
        raise ValueError(
            f"unfold: size {size} must be in [0, {n}] and step {step} >= 1 (dim {d} of "
            f"a tensor of shape {x.shape} {x.dtype})"
        )
    if x.ndim == 0:
        return BasicIndex.apply(x, index=None)
    return Unfold.apply(x, dim=d, size=int(size), step=int(step))


def _slice(x, d, item):
    return BasicIndex.apply(x, index=(slice(None),) * d + (item,))
