"""Diagonals and triangles of matrices: diagonal, diag_embed, diag, trace, tril, triu.

`diagonal(x, offset, dim1, dim2)` picks the elements x[..., i, ..., i + offset, ...] of the
plane (dim1, dim2), appended as the last dim; `diag_embed` is its adjoint, writing a last dim
onto such a diagonal of zeros. Each is the other's backward.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.index import masked_fill
from autodiff.ops.reduce import sum as _sum
from autodiff.ops.shape import AdvancedIndex

__all__ = ["diagonal", "diag_embed", "diag", "trace", "tril", "triu"]


class Diagonal(Function):
    """The diagonal `offset` of the plane (dim1, dim2) of x, as a last dim (a writable view)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.plane = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, g.dtype)
        _diagonal_view(gx, *ctx.plane)[...] = g
        return gx


class DiagEmbed(Function):
    """Zeros of `shape` with x's last dim written onto the diagonal `offset` of (dim1, dim2)."""

    @staticmethod
    def forward(ctx, x, shape, offset, dim1, dim2):
        ctx.plane = (offset, dim1, dim2)
        out = np.zeros(shape, x.dtype)
        _diagonal_view(out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return np.diagonal(g, *ctx.plane)


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` (> 0 above the main one) of the plane of dims (dim1, dim2).

    Parameters
    ----------
    x : Tensor with at least 2 dims.

    Returns
    -------
    A view (writes through it change x, as in PyTorch) whose shape is x's without dim1 and
    dim2, followed by the diagonal's length (0 if `offset` is past the plane's edge).
    """
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 dims, got shape {x.shape} {x.dtype}")
    d1, d2 = _args.dim("diagonal", x, dim1), _args.dim("diagonal", x, dim2)
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return Diagonal.apply(x, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(x, offset=0, dim1=-2, dim2=-1):
    """Matrices with x's last dim (length n) on their diagonal `offset`, zeros elsewhere.

    Parameters
    ----------
    x : Tensor of shape (*, n)
    dim1, dim2 : the dims of the result, of ndim x.ndim + 1, that hold the matrices.

    Returns
    -------
    A new tensor of shape (*) with two dims of size n + |offset| inserted at dim1 and dim2.
    """
    if x.ndim == 0:
        raise ShapeError(f"diag_embed: needs at least 1 dim, got a 0-d {x.dtype} tensor")
    ndim = x.ndim + 1  # the result's
    d1, d2 = (_args.dim("diag_embed", x, d, ndim=ndim) for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    n = x.shape[-1] + abs(int(offset))
    shape = list(x.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagEmbed.apply(x, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)


def diag(x, diagonal=0):
    """A 1-D x as the diagonal `diagonal` of a square matrix (side n + |diagonal|), or the
    diagonal `diagonal` of a 2-D x as a new 1-D tensor (a copy, unlike `diagonal`)."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim != 2:
        raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got shape {x.shape} {x.dtype}")
    row, col = max(-diagonal, 0), max(diagonal, 0)
    i = np.arange(max(0, min(x.shape[0] - row, x.shape[1] - col)))
    return AdvancedIndex.apply(x, index=(i + row, i + col))


def trace(x):
    """The sum of the main diagonal of a 2-D tensor (a 0-d tensor)."""
    if x.ndim != 2:
        raise ShapeError(f"trace: expects a 2-D tensor, got shape {x.shape} {x.dtype}")
    return _sum(diagonal(x))


def tril(x, diagonal=0):
    """x with the elements above the diagonal `diagonal` of its last two dims set to 0."""
    rows, cols = _matrix_shape("tril", x)
    return masked_fill(x, ~np.tri(rows, cols, diagonal, bool), 0)


def triu(x, diagonal=0):
    """x with the elements below the diagonal `diagonal` of its last two dims set to 0."""
    rows, cols = _matrix_shape("triu", x)
    return masked_fill(x, np.tri(rows, cols, diagonal - 1, bool), 0)


def _matrix_shape(op, x):
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dims, got shape {x.shape} {x.dtype}")
    return x.shape[-2:]


def _diagonal_view(a, offset, dim1, dim2):
    """numpy's diagonal of `a`, made writable when `a` is (numpy returns it read-only)."""
    d = np.diagonal(a, offset, dim1, dim2)
    if a.flags.writeable:
        d.flags.writeable = True
    return d
