"""Regression and distribution losses, each comparing `input` with a `target` of its shape and
dtype elementwise, then reduced: mse, l1, smooth L1, Huber, KL divergence and Poisson NLL.

All are compositions of graph ops (no rule of their own): each is a few elementwise steps whose
composed gradient is already exact and stable. The target is differentiable where PyTorch's is.
Options after `target` that PyTorch places after its deprecated `size_average`/`reduce`
arguments are keyword-only here, so a positional PyTorch call cannot bind the wrong option.
"""

import math
import warnings

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor, require_float
from autodiff.ops._loss_args import (
    REDUCTIONS,
    check_reduction,
    check_same,
    reduce,
)
from autodiff.ops.elementwise import clamp, exp, log, where

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "poisson_nll_loss",
]


def mse_loss(input, target, reduction: str = "mean", *, weight=None):  # noqa: A002
    """Squared error (x - y)^2; `input` and `target` of one shape and float dtype.

    `weight` (optional, `input`'s shape; a tensor is differentiable) multiplies each element's
    loss, and "mean" then divides by the sum of the weights, as in PyTorch.
    """
    op = "mse_loss"
    _check(op, input, target, reduction)
    d = input - target
    return _weighted_reduce(op, d * d, weight, input, reduction, by_weight=True)


def l1_loss(input, target, reduction: str = "mean", *, weight=None):  # noqa: A002
    """Absolute error |x - y| (gradient 0 where x == y); `input` and `target` of one shape.

    `weight` as in `mse_loss` ("mean" divides by the sum of the weights).
    """
    op = "l1_loss"
    _check(op, input, target, reduction)
    return _weighted_reduce(op, (input - target).abs(), weight, input, reduction, by_weight=True)


def huber_loss(
    input,  # noqa: A002 - PyTorch's name
    target,
    reduction: str = "mean",
    delta: float = 1.0,
    weight=None,
):
    """Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = x - y.

    Parameters
    ----------
    input, target : Tensor
        Of one shape and float dtype (target differentiable too).
    reduction : {"mean", "sum", "none"}
    delta : float > 0
        Where the loss turns from quadratic to linear.
    weight : Tensor or array, optional
        Of `input`'s shape (a tensor is differentiable): multiplies each element's loss; "mean"
        still divides by the number of elements (unlike `mse_loss`), as in PyTorch.

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or `input`'s shape for "none".

    Raises
    ------
    ValueError : shapes differ, delta <= 0, or an unknown reduction.
    TypeError : a non-float input or a target of another dtype.
    """
    op = "huber_loss"
    _check(op, input, target, reduction)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    return _weighted_reduce(op, _huber(input - target, delta), weight, input, reduction, False)


def smooth_l1_loss(
    input,  # noqa: A002 - PyTorch's name
    target,
    *,
    reduction: str = "mean",
    beta: float = 1.0,
):
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = x - y.

    The Huber loss divided by beta; beta = 0 gives the L1 loss, as in PyTorch. `input` and
    `target` of one shape and float dtype; returns 0-d, or `input`'s shape for "none".

    Raises
    ------
    ValueError : shapes differ, beta < 0, or an unknown reduction.
    """
    op = "smooth_l1_loss"
    _check(op, input, target, reduction)
    if not beta >= 0:
        raise ValueError(f"{op}: beta must be >= 0, got {beta}")
    d = input - target
    loss = d.abs() if beta == 0 else _huber(d, beta) * (1 / beta)
    return reduce(loss, reduction)


def kl_div(
    input,  # noqa: A002 - PyTorch's name
    target,
    *,
    reduction: str = "mean",
    log_target: bool = False,
):
    """Kullback-Leibler divergence of `input` (log-probabilities) from `target`, pointwise:
    target * (log(target) - input), 0 where target is 0 (`log_target`: the target is given as
    log-probabilities, exp(target) * (target - input)).

    Parameters
    ----------
    input : Tensor
        Log-probabilities, any shape (e.g. `log_softmax` output); float32 or float64.
    target : Tensor
        Probabilities (or log-probabilities) of `input`'s shape and dtype; differentiable.
    reduction : {"mean", "batchmean", "sum", "none"}
        "batchmean" divides the sum by the batch size `input.shape[0]` and gives the true KL
        divergence; "mean" divides by the number of elements and warns, as PyTorch does.
    log_target : bool

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or `input`'s shape for "none".

    Notes
    -----
    Where target is exactly 0, its gradient is -input: the infinite slope of t log t at 0 is
    left out (PyTorch gives nan there).
    """
    op = "kl_div"
    _check(op, input, target, reduction, (*REDUCTIONS, "batchmean"))
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and gives the KL "
            "divergence (PyTorch will make 'mean' behave as 'batchmean')",
            UserWarning,
            stacklevel=2,
        )
    if log_target:
        loss = exp(target) * (target - input)
    else:
        # log(1) where the target is 0: the term is 0 there, with a finite gradient
        safe = where(np.asarray(target) == 0, 1.0, target)
        loss = target * (log(safe) - input)
    if reduction == "batchmean":
        return reduce(loss, "mean", input.shape[0] if input.ndim else 1)
    return reduce(loss, reduction)


def poisson_nll_loss(
    input,  # noqa: A002 - PyTorch's name
    target,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
):
    """Negative log-likelihood of `target` counts under a Poisson distribution of rate `input`.

    log_input: loss = exp(x) - y x (x is the log-rate); else x - y log(x + eps). `full` adds
    Stirling's approximation of log(y!), y log y - y + 0.5 log(2 pi y), where y > 1.
    `input` and `target` of one shape and float dtype; returns 0-d, or the shape for "none".
    """
    op = "poisson_nll_loss"
    _check(op, input, target, reduction)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        # Stirling's term is a constant of the target's where y <= 1 (0 there, as in PyTorch)
        big = np.asarray(target) > 1
        y = where(big, target, 1.0)
        stirling = y * log(y) - y + 0.5 * log(2 * math.pi * y)
        loss = loss + where(big, stirling, 0.0)
    return reduce(loss, reduction)


def _huber(d, delta):
    """Elementwise Huber loss of d: with m = min(|d|, delta), 0.5 m^2 + delta (|d| - m)."""
    a = d.abs()
    m = clamp(a, max=delta)
    return 0.5 * m * m + delta * (a - m)


def _weighted_reduce(op, loss, weight, input, reduction, by_weight):  # noqa: A002
    """`loss` times `weight` (if given), reduced; "mean" over the summed weight if `by_weight`."""
    if weight is None:
        return reduce(loss, reduction)
    w = weight if is_tensor(weight) else np.asarray(weight, input.dtype)
    if w.shape != input.shape:
        raise ShapeError(
            f"{op}: weight of shape {w.shape} {w.dtype} must have input's shape "
            f"{input.shape} {input.dtype}"
        )
    loss = loss * w
    if reduction == "mean" and by_weight:
        return loss.sum() / w.sum()
    return reduce(loss, reduction)


def _check(op, input, target, reduction, allowed=REDUCTIONS):  # noqa: A002 - PyTorch's name
    check_reduction(op, reduction, allowed)
    require_float(op, input)
    check_same(op, input, target, "target")
