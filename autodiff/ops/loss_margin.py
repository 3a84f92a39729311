"""Margin losses with labels y in {1, -1}: ranking of two inputs, soft-margin classification and
cosine embedding; and the triplet loss of embeddings (anchor, positive, negative); as in PyTorch.

Compositions of graph ops; `soft_margin_loss` reuses binary cross-entropy's stable rule from
logits, since log(1 + e^-z) composed naively overflows for large -z.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops._args import require_float
from autodiff.ops._loss_args import check_reduction, check_same, reduce, shape
from autodiff.ops.activation import relu
from autodiff.ops.distance import pairwise_distance
from autodiff.ops.elementwise import clamp_min, minimum, sqrt, where
from autodiff.ops.loss import BinaryCrossEntropyWithLogits

__all__ = [
    "margin_ranking_loss",
    "soft_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
]

_COSINE_EPS = 1e-12  # added to each squared norm, as PyTorch does


def margin_ranking_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
):
    """max(0, -y (x1 - x2) + margin): y = 1 asks x1 to rank above x2 by `margin`, y = -1 below.

    `input1`, `input2` and `target` (all differentiable) of one shape and float dtype; returns
    0-d, or that shape for "none".
    """
    op = "margin_ranking_loss"
    check_reduction(op, reduction)
    require_float(op, input1)
    check_same(op, input1, input2, "input2")
    check_same(op, input1, target, "target")
    return reduce(relu(-target * (input1 - input2) + margin), reduction)


def soft_margin_loss(input, target, *, reduction: str = "mean"):  # noqa: A002 - PyTorch's name
    """Two-class logistic loss log(1 + exp(-y x)) for labels y in {1, -1}, stable for any x.

    `input` and `target` (labels, a constant as in PyTorch) of one shape and float dtype;
    returns 0-d, or `input`'s shape for "none".
    """
    op = "soft_margin_loss"
    check_reduction(op, reduction)
    require_float(op, input)
    check_same(op, input, target, "target")
    z = input * np.asarray(target)
    loss = BinaryCrossEntropyWithLogits.apply(z, np.ones(z.shape, z.dtype))
    return reduce(loss, reduction)


def cosine_embedding_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1, 0 elsewhere.

    Parameters
    ----------
    input1, input2 : Tensor
        `(N, D)` or `(D,)` of one float dtype; the cosine is over D.
    target : Tensor or array
        `(N,)` (or `()` for 1-D inputs) labels 1 or -1 of any numeric dtype (a constant).
    margin : float
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor of the inputs' dtype: 0-d, or `(N,)` for "none".
    """
    op = "cosine_embedding_loss"
    check_reduction(op, reduction)
    require_float(op, input1)
    check_same(op, input1, input2, "input2")
    y = np.asarray(target)
    if input1.ndim not in (1, 2) or shape(target) != input1.shape[:-1]:
        raise ShapeError(
            f"{op}: inputs must be (N, D) or (D,) with target (N,) or (), got inputs "
            f"{input1.shape} {input1.dtype} and target {shape(target)} {y.dtype}"
        )
    dot = (input1 * input2).sum(-1)
    norms = ((input1 * input1).sum(-1) + _COSINE_EPS) * ((input2 * input2).sum(-1) + _COSINE_EPS)
    cos = dot / sqrt(norms)
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, relu(cos - margin), 0.0)
    return reduce(loss, reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
):
    """max(0, d(a, p) - d(a, n) + margin), d the p-norm distance: PyTorch's triplet loss (the
    course's face-verification loss with alpha = margin, on distances rather than squared ones).

    d(x, y) = ||x - y + eps||_p over the last dim, as `pairwise_distance`. With `swap`, d(a, n)
    becomes min(d(a, n), d(p, n)) (the "distance swap" of Balntas et al., 2016).

    Parameters
    ----------
    anchor, positive, negative : Tensor
        Embeddings `(N, D)` or `(D,)` (any number of dims, the same for all three; shapes
        broadcast as in `pairwise_distance`), of one float dtype; all differentiable.
    margin : float
        > 0.
    p : float
        The norm's exponent.
    eps : float
    swap : bool
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor of the inputs' dtype: 0-d, or the broadcast shape without D for "none".

    Raises
    ------
    ValueError : margin <= 0, different numbers of dims, or a bad reduction.
    TypeError : non-float inputs.
    """
    op = "triplet_margin_loss"
    check_reduction(op, reduction)
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    for x in (anchor, positive, negative):
        require_float(op, x)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(
            f"{op}: anchor, positive and negative must have the same number of dims, got "
            f"anchor {anchor.shape} {anchor.dtype}, positive {positive.shape} {positive.dtype}, "
            f"negative {negative.shape} {negative.dtype}"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    # clamp_min, not relu: its gradient at 0 is 1, as PyTorch's
    return reduce(clamp_min(d_pos - d_neg + margin, 0.0), reduction)
