"""Norm-based comparisons of vectors along one dim: normalize, cosine_similarity and
pairwise_distance, composed of the vector norm (whose gradient at a zero vector is 0, as
PyTorch's) and elementwise ops, with PyTorch's formulas so that results agree to rounding."""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops import _args
from autodiff.ops._args import require_float
from autodiff.ops.elementwise import add, clamp, div, mul, sub
from autodiff.ops.linalg import norm
from autodiff.ops.reduce import sum as reduce_sum
from autodiff.ops.shape import expand

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):  # noqa: A002
    """x / max(||x||_p, eps) along `dim`: unit vectors (zero vectors stay zero).

    Parameters
    ----------
    input : Tensor, float, any shape with `dim`.
    p : float
        The norm's exponent (inf for max |x|).
    dim : int
        The dim the vectors lie along (1: the features of an `(N, C, ...)` batch).
    eps : float
        Lower bound of the divisor.

    Returns
    -------
    Tensor of input's shape and dtype.

    Raises
    ------
    DimError (an IndexError) : dim out of range.  TypeError : a non-float input.
    """
    require_float("normalize", input)
    d = _args.dim("normalize", input, dim)
    return div(input, clamp(norm(input, p, d, keepdim=True), min=eps))


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between x1 and x2 along `dim`: <x1, x2> / (||x1|| ||x2||).

    Computed as PyTorch's: each input is divided by its 2-norm clamped to at least eps (a clamp
    outside the graph, so the norm's gradient passes unchanged), then the products are summed;
    the result is always in [-1, 1].

    Parameters
    ----------
    x1, x2 : Tensor, broadcastable to each other; at least one float (integers are promoted).
    dim : int
        A dim of the broadcast shape.
    eps : float

    Returns
    -------
    Tensor of the broadcast shape without `dim`, of the promoted float dtype.

    Raises
    ------
    TypeError : both inputs integer.  ShapeError : shapes that do not broadcast.
    DimError : dim out of range.
    """
    x1, x2 = _args.promote(x1, x2)
    require_float("cosine_similarity", x1)
    shape = _broadcast_shape("cosine_similarity", x1, x2)
    x1, x2 = expand(x1, shape), expand(x2, shape)
    d = _args.dim("cosine_similarity", x1, dim)
    return reduce_sum(mul(_unit(x1, d, eps), _unit(x2, d, eps)), d)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p over the last dim (of the input with more dims), as PyTorch's.

    Parameters
    ----------
    x1, x2 : Tensor `(N, D)` or `(D,)`, broadcastable; integers are promoted with eps.
    p : float
        The norm's exponent.
    eps : float
        Added to the difference, so the 2-norm of equal vectors has a gradient.
    keepdim : bool
        Keep the last dim as size 1.

    Returns
    -------
    Tensor `(N,)` (or `(N, 1)` with keepdim), float.

    Raises
    ------
    ShapeError : shapes that do not broadcast.
    """
    _broadcast_shape("pairwise_distance", x1, x2)
    return norm(add(sub(x1, x2), eps), p, -1, keepdim)


def _unit(x, dim, eps):
    """x / max(||x||_2, eps), the max taken on the values only (PyTorch clamps the norm in
    place under no_grad): adding a constant keeps the norm's own gradient."""
    n = norm(x, 2, dim, keepdim=True)
    return div(x, add(n, np.maximum(n.data, eps) - n.data))


def _broadcast_shape(op, x1, x2):
    try:
        return np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {x1.shape} {x1.dtype} and {x2.shape} {x2.dtype} do not broadcast"
        ) from None
