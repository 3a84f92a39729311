"""Batch normalisation over the channel dim 1 of `(N, C)`, `(N, C, L)` or `(N, C, H, W)`."""

import numpy as np

from autodiff.engine import no_grad
from autodiff.function import Function
from autodiff.tensor import Tensor


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    `mean` and `var` are per-channel arrays `(C,)`: the batch's own statistics
    (`batch_stats=True`, so the gradient flows through them) or running estimates (constants).
    Its own rule: one pass each way instead of a dozen recorded nodes, and the batch-statistics
    gradient in its compact form gx = weight / std * (g - mean(g) - xhat * mean(g * xhat)).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps=1e-5, batch_stats=True):
        shape = _channel_shape(x.ndim, x.shape[1])
        inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        ctx.save(xhat, inv_std, weight)
        ctx.batch_stats = batch_stats
        y = xhat if weight is None else xhat * weight.reshape(shape)
        return y if bias is None else y + bias.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std, weight = ctx.saved
        axes = _stat_axes(g.ndim)
        shape = _channel_shape(g.ndim, g.shape[1])
        sum_g = g.sum(axis=axes)
        sum_g_xhat = (g * xhat).sum(axis=axes)
        gx = None
        if ctx.needs_input_grad[0]:
            scale = inv_std if weight is None else inv_std * weight
            if ctx.batch_stats:
                m = g.size // g.shape[1]
                gx = g - (sum_g / m).reshape(shape) - xhat * (sum_g_xhat / m).reshape(shape)
                gx *= scale.reshape(shape)
            else:
                gx = g * scale.reshape(shape)
        return (
            gx,
            sum_g_xhat if ctx.needs_input_grad[1] else None,
            sum_g if ctx.needs_input_grad[2] else None,
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
    axes = _stat_axes(x.ndim)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    out = BatchNorm.apply(input, weight, bias, mean=mean, var=var, eps=eps, batch_stats=True)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean)
        if running_var is not None:
            unbiased = var * (count / (count - 1))
            running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
    return out


def _stat_axes(ndim):
    return (0, *range(2, ndim))


def _channel_shape(ndim, n_channels):
    return (1, n_channels) + (1,) * (ndim - 2)
