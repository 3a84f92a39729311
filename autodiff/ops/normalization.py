"""Normalisation: batch norm (statistics per channel over the batch), and layer, group and
instance norm (statistics per example, over its trailing dims, its channel groups or each of
its channels), as PyTorch's `F.batch_norm`, `F.layer_norm`, `F.group_norm`, `F.instance_norm`.

Batch norm and layer norm have their own rules (see their docstrings); group and instance norm
are layer norm over a reshaped input, followed by a per-channel affine map.
"""

import math

import numpy as np

from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels.batchnorm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_stats,
)
from autodiff.ops import _args
from autodiff.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]


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
        ctx.batch_stats = batch_stats
        return normalize_channels(ctx, x, weight, bias, mean, var, eps)

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


def normalize_channels(ctx, x, weight, bias, mean, var, eps):
    """Batch norm's forward with the statistics `mean`, `var` (`(C,)`) given: y of `x`'s shape
    and dtype, saving on `ctx` what the backward kernel reads (x, mean, 1/std, weight)."""
    inv_std = (1 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    # backward recomputes xhat from x and these: the mean is copied, since in eval mode it is
    # the running buffer; x itself is saved (not a view) for the engine's version check
    ctx.save(x, mean.copy(), inv_std, weight)
    return batch_norm_forward(_as_ncl(x), mean, inv_std, weight, bias).reshape(x.shape)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over the last
    `n_dims` dims of x; `weight` and `bias` (or None) have the shape of those dims.

    Its own rule: composed, the statistics would cost a dozen recorded nodes and passes; this
    saves xhat and 1/std, and backward is the compact form
    gx = (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) / std, with gxhat = g * weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, n_dims=1, eps=1e-5):
        axes = tuple(range(x.ndim - n_dims, x.ndim))
        centred = x - x.mean(axis=axes, keepdims=True)
        var = np.square(centred).mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
        xhat = centred * inv_std
        ctx.save(xhat, inv_std, weight)
        ctx.axes = axes
        y = xhat if weight is None else xhat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        axes = ctx.axes
        batch_axes = tuple(range(g.ndim - len(axes)))
        gx = None
        if need_x:
            gxhat = g if weight is None else g * weight
            mean_g = gxhat.mean(axis=axes, keepdims=True)
            mean_gx = (gxhat * xhat).mean(axis=axes, keepdims=True)
            gx = (gxhat - mean_g - xhat * mean_gx) * inv_std
        gw = (g * xhat).sum(axis=batch_axes) if need_w else None
        gb = g.sum(axis=batch_axes) if need_b else None
        return gx, gw, gb


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
    _check_input(op, input, 2, "(N, C, ...)")
    n_channels = input.shape[1]
    named = {
        "running_mean": running_mean,
        "running_var": running_var,
        "weight": weight,
        "bias": bias,
    }
    for name, t in named.items():
        _check_param(op, input, name, t, (n_channels,))
    if input.data.size == 0:
        return _empty_batch(input, weight, bias)
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


def layer_norm(
    input,  # noqa: A002 - PyTorch's name
    normalized_shape,
    weight=None,
    bias=None,
    eps: float = 1e-5,
):
    """Layer normalisation over the trailing dims `normalized_shape`, as PyTorch's.

    Each example (each index of the leading dims) is normalised by the mean and biased variance
    of its last `len(normalized_shape)` dims, then scaled by `weight` and shifted by `bias`.

    Parameters
    ----------
    input : Tensor
        `(*, *normalized_shape)`; float32 or float64.
    normalized_shape : int or sequence of ints
        The trailing shape of `input` to normalise over, e.g. `(D,)` for `(N, L, D)`.
    weight, bias : Tensor, optional
        Of shape `normalized_shape` and `input`'s dtype (differentiable).
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : `normalized_shape` is not `input`'s trailing shape, or weight or bias of
        another shape.
    TypeError : a non-float input, or weight or bias of another dtype.
    """
    op = "layer_norm"
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    _check_input(op, input, len(shape), "(*, *normalized_shape)")
    if input.shape[input.ndim - len(shape) :] != shape:
        raise ShapeError(
            f"{op}: normalized_shape {shape} is not the trailing shape of input "
            f"{input.shape} {input.dtype}"
        )
    _check_param(op, input, "weight", weight, shape)
    _check_param(op, input, "bias", bias, shape)
    return LayerNorm.apply(input, weight, bias, n_dims=len(shape), eps=eps)


def group_norm(
    input,  # noqa: A002 - PyTorch's name
    num_groups: int,
    weight=None,
    bias=None,
    eps: float = 1e-5,
):
    """Group normalisation: the C channels of each example split into `num_groups` groups of
    consecutive channels, each group normalised by its own mean and biased variance, then a
    per-channel `weight` and `bias`, as PyTorch's.

    Parameters
    ----------
    input : Tensor
        `(N, C, *)`, C divisible by `num_groups`; float32 or float64.
    num_groups : int
    weight, bias : Tensor, optional
        `(C,)` of `input`'s dtype (differentiable).
    eps : float

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : fewer than 2 dims, C not divisible by `num_groups`, or a `(C,)` argument of
        another size.
    TypeError : a non-float input, or weight or bias of another dtype.
    """
    op = "group_norm"
    _check_input(op, input, 2, "(N, C, *)")
    n, c = input.shape[:2]
    if not isinstance(num_groups, int) or num_groups <= 0 or c % num_groups:
        raise ShapeError(
            f"{op}: {c} channels (input {input.shape} {input.dtype}) cannot be split into "
            f"num_groups={num_groups!r} groups of equal size"
        )
    _check_param(op, input, "weight", weight, (c,))
    _check_param(op, input, "bias", bias, (c,))
    grouped = input.reshape(n, num_groups, math.prod(input.shape[1:]) // num_groups)
    y = LayerNorm.apply(grouped, None, None, n_dims=1, eps=eps).reshape(input.shape)
    return _channel_affine(y, weight, bias)


def instance_norm(
    input,  # noqa: A002 - PyTorch's name
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Instance normalisation: each channel of each example normalised by its own mean and
    biased variance over the spatial dims, then a per-channel `weight` and `bias`.

    With `use_input_stats` (the default) the example's statistics are used, and the running
    estimates, when given, are updated in place with their mean over the batch:
    r = (1 - momentum) * r + momentum * mean_n(stat), the unbiased variance for `running_var`.
    Otherwise the running estimates normalise, as batch norm does in eval mode. As in PyTorch.

    Parameters
    ----------
    input : Tensor
        `(N, C, *)` with at least one spatial dim; float32 or float64.
    running_mean, running_var : Tensor, optional
        `(C,)` buffers of `input`'s dtype; required when `use_input_stats` is False.
    weight, bias : Tensor, optional
        `(C,)` affine scale and shift (differentiable).
    use_input_stats : bool
    momentum, eps : float

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : fewer than 3 dims, a `(C,)` argument of another size, a single spatial
        element with `use_input_stats`, or no running estimates without it.
    TypeError : a non-float input, or arguments of another dtype.
    """
    op = "instance_norm"
    _check_input(op, input, 3, "(N, C, *spatial)")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_param(op, input, name, t, (c,))
    _check_param(op, input, "weight", weight, (c,))
    _check_param(op, input, "bias", bias, (c,))
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element when training, got input of shape "
            f"{input.shape} {input.dtype}"
        )
    flat = input.reshape(n, c, count)
    y = LayerNorm.apply(flat, None, None, n_dims=1, eps=eps).reshape(input.shape)
    with no_grad():
        x = flat.data
        if running_mean is not None:
            mean = x.mean(axis=2).mean(axis=0)
            running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean)
        if running_var is not None:
            unbiased = x.var(axis=2, ddof=1).mean(axis=0)
            running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
    return _channel_affine(y, weight, bias)


def _channel_affine(y, weight, bias):
    """y (N, C, *) times weight (C,) plus bias (C,), either of them None."""
    shape = (-1,) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _empty_batch(x, weight, bias):
    """Batch norm of an input with no values, as PyTorch's: empty, on the graph of `x`, `weight`
    and `bias` (whose gradients are zeros), the running estimates untouched."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = x.clone() if weight is None else x * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _check_input(op, input, min_ndim, layout):  # noqa: A002 - PyTorch's name
    _args.require_float(op, input)
    if input.ndim < min_ndim:
        raise ShapeError(f"{op}: input needs shape {layout}, got {input.shape} {input.dtype}")


def _check_param(op, input, name, t, shape):  # noqa: A002 - PyTorch's name
    """`t` (None, or a tensor of `shape` and `input`'s dtype) fits; running buffers (named
    running_*) must be tensors, since they are updated in place."""
    if t is None:
        return
    if name.startswith("running") and not isinstance(t, Tensor):
        raise TypeError(
            f"{op}: {name} must be a Tensor (it is updated in place), got {type(t).__name__}"
        )
    if tuple(t.shape) != shape:
        raise ShapeError(
            f"{op}: {name} must have shape {shape} for input of shape {input.shape} "
            f"{input.dtype}, got {tuple(t.shape)} {t.dtype}"
        )
    if t.dtype != input.dtype:
        raise TypeError(
            f"{op}: {name} has dtype {t.dtype} but input is {input.dtype} "
            f"(input {input.shape}, {name} {tuple(t.shape)})"
        )


def _as_ncl(a):
    """``a (N, C, ...)`` as a C-contiguous ``(N, C, L)`` array (``L = 1`` for 2-D input), also
    when N is 0."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:]))
