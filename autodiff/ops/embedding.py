"""Lookups by integer index: `embedding` (rows of a weight matrix) and `one_hot`."""

import numpy as np

from autodiff import dtypes
from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from autodiff.function import Function

__all__ = ["embedding", "one_hot"]


class Embedding(Function):
    """weight[indices]: the rows of a `(num_embeddings, dim)` weight picked by an integer array.

    Its own rule: the gradient of a row accumulates over every position that picked it, is 0
    for `padding_idx`, and is divided by the row's count in `indices` with `scale_grad_by_freq`.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=None, scale_grad_by_freq=False):
        ctx.indices, ctx.padding_idx, ctx.scale = indices, padding_idx, scale_grad_by_freq
        ctx.shape, ctx.dtype = weight.shape, weight.dtype
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        rows = ctx.indices.reshape(-1)
        g = g.reshape(rows.size, ctx.shape[1])
        if ctx.scale:
            counts = np.bincount(rows, minlength=ctx.shape[0])
            g = g / counts[rows, None].astype(ctx.dtype)
        gw = np.zeros(ctx.shape, ctx.dtype)
        np.add.at(gw, rows, g)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None


def embedding(
    input,  # noqa: A002 - PyTorch's names
    weight,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Rows of `weight` looked up by the integer indices in `input`, as PyTorch's `F.embedding`.

    Parameters
    ----------
    input : Tensor or array of integers, any shape `(*)`, each in [0, num_embeddings).
    weight : Tensor `(num_embeddings, embedding_dim)`, float.
    padding_idx : int, optional
        This row gets no gradient (negative counts from the end).
    max_norm : float, optional
        Rows that `input` picks and whose `norm_type`-norm exceeds max_norm are first scaled
        down to norm max_norm, IN PLACE in `weight` (as PyTorch; this bumps its version).
    norm_type : float
        The p of that norm.
    scale_grad_by_freq : bool
        Divide each row's gradient by how often `input` picks it.
    sparse : bool
        Accepted; the gradient is always a dense array of weight's shape.

    Returns
    -------
    Tensor `(*, embedding_dim)` of weight's dtype.

    Raises
    ------
    TypeError : non-integer indices.  ShapeError : weight not 2-d.
    IndexError : an index, or padding_idx, out of range.
    """
    indices = _indices("embedding", input)
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-d, got shape {weight.shape}")
    n = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise IndexError(f"embedding: padding_idx {padding_idx} is out of range for {n} rows")
        padding_idx %= n
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    return Embedding.apply(
        weight, indices, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq
    )


def one_hot(tensor, num_classes: int = -1):
    """Class indices as one-hot vectors: `out[..., c] = 1` where `tensor[...] == c`.

    Parameters
    ----------
    tensor : int64 Tensor of any shape `(*)`, values in [0, num_classes).
    num_classes : int
        -1: one more than the largest value.

    Returns
    -------
    int64 Tensor `(*, num_classes)` (not differentiable).

    Raises
    ------
    TypeError : a tensor that is not int64 (PyTorch's rule).  ValueError : negative values,
    values >= num_classes, or num_classes = -1 with an empty tensor.
    """
    indices = _indices("one_hot", tensor)
    if indices.dtype != dtypes.int64:
        raise TypeError(f"one_hot: expected an int64 tensor, got {indices.dtype}")
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor")
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {indices.min()}")
    if indices.size and indices.max() >= num_classes:
        raise ValueError(
            f"one_hot: class value {indices.max()} is not smaller than num_classes={num_classes}"
        )
    return Tensor(indices[..., None] == np.arange(num_classes), dtype=dtypes.int64)


def _indices(op, x):
    """The integer array of an index tensor (or array); TypeError for other dtypes."""
    array = np.asarray(x)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must be an integer tensor, got {array.dtype} (shape {array.shape})"
        )
    return array


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Scale the rows of weight that `indices` picks down to norm max_norm, in place."""
    rows = np.unique(indices)
    picked = weight.data[rows]
    norms = np.linalg.norm(picked, ord=norm_type, axis=1)
    too_long = norms > max_norm
    if too_long.any():
        scale = max_norm / (norms[too_long] + 1e-7)  # PyTorch's epsilon
        with no_grad():
            weight[rows[too_long]] = picked[too_long] * scale[:, None]


from autodiff.tensor import Tensor  # noqa: E402 - tensor.py imports the ops
