"""Ops that copy a tensor's elements into a new arrangement: repeat, tile, repeat_interleave,
flip, roll and rot90.

Every result is a new tensor, as in PyTorch (never a view of the input), so writing into it in
place leaves the input alone.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.elementwise import clone
from autodiff.ops.shape import AdvancedIndex, reshape

__all__ = [
    "repeat",
    "tile",
    "repeat_interleave",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "rot90",
]


class Repeat(Function):
    """x tiled `reps` times along each dim (`numpy.tile`; len(reps) == x.ndim).

    Its own rule: the gradient is a reshape and a sum over the copies, where an indexing
    composition would scatter every element with add.at.
    """

    @staticmethod
    def forward(ctx, x, reps):
        ctx.reps, ctx.shape = reps, x.shape
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        # (r0 * n0, r1 * n1, ...) -> (r0, n0, r1, n1, ...), summed over the r axes
        split = [m for pair in zip(ctx.reps, ctx.shape, strict=True) for m in pair]
        return g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))


class Flip(Function):
    """A copy of x with the order of elements reversed along `dims`."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims)


class Rot90(Function):
    """x rotated k * 90 degrees in the plane `dims` (numpy's rot90, copied). Its own rule, where
    a flip and a transpose would give a view of a temporary, which PyTorch's result is not."""

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.k, ctx.dims = k, dims
        return np.rot90(x, k, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.rot90(g, -ctx.k, ctx.dims)


class Roll(Function):
    """x with elements shifted by `shifts` along `dims` (wrapping around); dims None rolls the
    flattened tensor."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        back = -ctx.shifts if ctx.dims is None else tuple(-s for s in ctx.shifts)
        return np.roll(g, back, ctx.dims)


def repeat(x, *sizes):
    """x repeated `sizes[d]` times along each dim (PyTorch's `Tensor.repeat`, numpy's `tile`).

    Parameters
    ----------
    x : Tensor of shape (n0, ..., nk)
    *sizes : ints, or one tuple; at least x.ndim of them. Extra leading sizes add new dims.

    Returns
    -------
    A new tensor of shape (sizes[0] * m0, ...), where m is x's shape padded with leading 1s.
    """
    sizes = _args.shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ShapeError(
            f"repeat: {len(sizes)} repeat sizes {sizes} for a tensor of shape {x.shape} "
            f"{x.dtype}; give at least one per dim"
        )
    if any(not isinstance(n, int | np.integer) or n < 0 for n in sizes):
        raise ValueError(f"repeat: sizes {sizes} must be non-negative ints")
    if len(sizes) > x.ndim:
        x = reshape(x, *(1,) * (len(sizes) - x.ndim), *x.shape)
    return Repeat.apply(x, reps=tuple(int(n) for n in sizes))


def tile(x, *sizes, dims=None):
    """x repeated `dims[d]` times along each dim (`tile(x, (2, 2))`, `x.tile(2, 2)` or
    `dims=`); fewer dims than x.ndim are padded with leading 1s (so `tile` accepts what
    `repeat` refuses), as in PyTorch."""
    dims = _args.shape_arg(sizes) if dims is None else tuple(dims)
    return repeat(x, *(1,) * (x.ndim - len(dims)), *dims)


def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times in place (PyTorch's `repeat_interleave`).

    Parameters
    ----------
    x : Tensor
        With `repeats=None`, x is itself the repeat counts (a 1-D integer tensor) and the
        result is `repeat_interleave(arange(len(x)), x)`, as in PyTorch.
    repeats : int or 1-D integer tensor
        How often to repeat each element (one count per element along `dim`, or one for all).
    dim : int, optional
        The dim to repeat along; None flattens x first.
    output_size : int, optional
        The total length along `dim`, checked if given.

    Returns
    -------
    A new tensor; composed of advanced indexing, so its gradient sums over the copies.
    """
    if repeats is None:
        counts = np.asarray(x.data)
        picks = np.repeat(np.arange(counts.size), _counts(x, counts, counts.size))
        return Tensor._wrap(picks.astype(np.int64))
    if dim is None:
        x, dim = reshape(x, -1), 0
    d = _args.dim("repeat_interleave", x, dim)
    n = x.shape[d] if x.ndim else 1
    counts = np.asarray(repeats)
    picks = np.repeat(np.arange(n), _counts(x, counts, n))
    if output_size is not None and output_size != picks.size:
        raise ShapeError(
            f"repeat_interleave: output_size {output_size} but the repeats give {picks.size}"
        )
    if x.ndim == 0:
        x = reshape(x, 1)
    return AdvancedIndex.apply(x, index=(slice(None),) * d + (picks,))


def _counts(x, counts, n):
    """Repeat counts checked: integers, >= 0, one per element (or one for all)."""
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or counts.size not in (1, n):
        raise ValueError(
            f"repeat_interleave: repeats must be an int or a 1-D integer tensor of length 1 or "
            f"{n}, got {counts.dtype} of shape {counts.shape} (tensor {x.shape} {x.dtype})"
        )
    if np.any(counts < 0):
        raise ValueError(f"repeat_interleave: repeats must be >= 0, got {counts.tolist()}")
    return counts.reshape(-1) if counts.size == n else int(counts.reshape(()))


def flip(x, *args, dims=None):
    """A copy of x with the element order reversed along each of `dims` (`flip(x, (0, 1))`,
    `x.flip(0, 1)` or `dims=`)."""
    dims = _args.shape_arg(args) if dims is None else dims
    return Flip.apply(x, dims=_args.dims("flip", x, dims) or ())


def fliplr(x):
    """x flipped left to right (along dim 1); x needs at least 2 dims."""
    if x.ndim < 2:
        raise ShapeError(f"fliplr: needs at least 2 dims, got shape {x.shape} {x.dtype}")
    return flip(x, 1)


def flipud(x):
    """x flipped upside down (along dim 0); x needs at least 1 dim."""
    if x.ndim < 1:
        raise ShapeError(f"flipud: needs at least 1 dim, got shape {x.shape} {x.dtype}")
    return flip(x, 0)


def roll(x, shifts, dims=None):
    """x with its elements shifted by `shifts` along `dims`, wrapping around.

    `shifts` and `dims` are ints or tuples of one length; with dims None, x is rolled as if
    flattened and keeps its shape.
    """
    if dims is None:
        if not isinstance(shifts, int | np.integer):
            if len(shifts) != 1:
                raise ValueError(f"roll: shifts {shifts} needs dims (tensor shape {x.shape})")
            (shifts,) = shifts
        return Roll.apply(x, shifts=int(shifts), dims=None)
    shifts = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have one length")
    dims = tuple(_args.dim("roll", x, d) for d in dims)
    if x.ndim == 0:
        return clone(x)  # nothing to roll; a copy, as in PyTorch
    return Roll.apply(x, shifts=tuple(int(s) for s in shifts), dims=dims)


def rot90(x, k=1, dims=(0, 1)):
    """x rotated by k * 90 degrees in the plane of `dims`, from dims[0] towards dims[1]; a new
    tensor (for k = 0 too)."""
    if len(dims) != 2 or x.ndim < 2:
        raise ShapeError(
            f"rot90: needs 2 dims and a tensor of >= 2 dims, got dims {dims} and shape {x.shape}"
        )
    d0, d1 = (_args.dim("rot90", x, d) for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims}")
    return Rot90.apply(x, k=int(k) % 4, dims=(d0, d1))


from autodiff.tensor import Tensor  # noqa: E402
