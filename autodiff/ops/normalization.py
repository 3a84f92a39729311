"""Batch normalisation over the channel dim 1 of `(N, C)`, `(N, C, L)` or `(N, C, H, W)`."""

import numpy as np

from autodiff.engine import no_grad
from autodiff.function import Function
from autodiff.kernels.batchnorm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_stats,
)
from autodiff.tensor import Tensor

__all__ = ["batch_norm"]


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    `mean` and `var` are per-channel arrays `(C,)`: the batch's own statistics
    (`batch_stats=True`, so the gradient flows through them) or running estimates (constants).
    Its own rule: one kernel pass each way (`autodiff/kernels/batchnorm.py`) instead of a dozen
    recorded nodes, and the batch-statistics gradient in its compact form
    gx = weight / std * (g - mean(g) - xhat * mean(g * xhat)).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps=1e-5, batch_stats=True):
        inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        # backward recomputes xhat from x and these: the mean is copied, since in eval mode it
        # is the running buffer; x itself is saved (not a view) for the engine's version check
        ctx.save(x, mean.copy(), inv_std, weight)
        ctx.batch_stats = batch_stats
        return batch_norm_forward(_as_ncl(x), mean, inv_std, weight, bias).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        gx, gw, gb = batch_norm_backward(
            _as_ncl(g), _as_ncl(x), mean, inv_std, weight, ctx.batch_stats, need_x
        )
        return (
            None if gx is None else gx.reshape(g.shape),
            gw if need_w else None,
            gb if need_b else None,
        )


def batch_norm(
    input,  # noqa: A002 - PyTorch's name
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch normalisation of each channel (dim 1), as PyTorch's `F.batch_norm`.

    In training mode the batch's mean and biased variance normalise the input, and the running
    estimates (when given) are updated in place: r = (1 - momentum) * r + momentum * stat, with
    the unbiased variance for `running_var`. Otherwise the running estimates normalise.

    Parameters
    ----------
    input : Tensor
        `(N, C)`, `(N, C, L)` or `(N, C, H, W)`; float32 or float64.
    running_mean, running_var : Tensor or None
        `(C,)` buffers of `input`'s dtype; required when `training` is False.
    weight, bias : Tensor, optional
        `(C,)` affine scale and shift (differentiable).
    training : bool
        Use (and track) batch statistics.
    momentum : float
        Weight of the new batch statistic in the running update.
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : fewer than 2 dims, a `(C,)` argument of another size, a missing running
        estimate in eval mode, or a single value per channel in training mode.
    TypeError : a non-float input, or arguments of another dtype.
    """
    op = "batch_norm"
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be float32 or float64, got {input.dtype} (shape {input.shape})"
        )
    if input.ndim < 2:
        raise ValueError(f"{op}: input needs shape (N, C, ...), got {input.shape}")
    n_channels = input.shape[1]
    named = {
        "running_mean": running_mean,
        "running_var": running_var,
        "weight": weight,
        "bias": bias,
    }
    for name, t in named.items():
        if name.startswith("running") and t is not None and not isinstance(t, Tensor):
            raise TypeError(
                f"{op}: {name} must be a Tensor (it is updated in place), got {type(t).__name__}"
            )
        if t is not None and t.shape != (n_channels,):
            raise ValueError(
                f"{op}: {name} must have shape ({n_channels},) for input of shape "
                f"{input.shape} {input.dtype}, got {t.shape} {t.dtype}"
            )
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{op}: {name} has dtype {t.dtype} but input is {input.dtype} "
                f"(input {input.shape}, {name} {t.shape})"
            )
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var are needed when not training")
        stats = {"mean": running_mean.data, "var": running_var.data}
        return BatchNorm.apply(input, weight, bias, **stats, eps=eps, batch_stats=False)
    x = input.data
    count = x.size // n_channels
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of "
            f"shape {input.shape}"
        )
    mean, var = batch_norm_stats(_as_ncl(x))
    out = BatchNorm.apply(input, weight, bias, mean=mean, var=var, eps=eps, batch_stats=True)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean)
        if running_var is not None:
            unbiased = var * (count / (count - 1))
            running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
    return out


def _as_ncl(a):
    """``a (N, C, ...)`` as a C-contiguous ``(N, C, L)`` array (``L = 1`` for 2-D input)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)
