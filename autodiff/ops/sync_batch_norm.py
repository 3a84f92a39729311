"""Synchronised batch norm: batch normalisation with the statistics of the global batch, the
union of every rank's batch in a data-parallel job (PyTorch's `SyncBatchNorm`), for training
where each rank's share of the batch is too small for good statistics.

With ``M`` the global number of values per channel, ``xhat = (x - mean) * inv_std`` and the
sums over the global batch::

    forward    mean, var = global statistics          one allreduce of (world_size, 1 + 2C)
    backward   gx = weight * inv_std * (g - sum(g) / M - xhat * sum(g * xhat) / M)
                                                      one allreduce of (2C,)

The process group is any object with `rank`, `world_size` and `allreduce_(array, op)` (an
`autodiff.distributed` communicator); this module imports no MPI. None is this process alone.
"""

import numpy as np

from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels.batchnorm import (
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_stats,
)
from autodiff.ops.normalization import _as_ncl, _check_input, _check_param, normalize_channels

__all__ = ["sync_batch_norm"]

_ARGS = ("running_mean", "running_var", "weight", "bias")


class SyncBatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1), with `mean` and
    `var` (`(C,)`) the statistics of the global batch of `count` values per channel.

    Its own rule, as `BatchNorm`'s, whose kernels it runs: the gradient through the global
    statistics needs the global sums of g and g * xhat, so backward all-reduces this rank's
    two sums before forming gx. The weight and bias gradients are this rank's own sums, as in
    PyTorch: `DistributedDataParallel` averages them with the other parameters' gradients.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, count, process_group, eps=1e-5):
        ctx.count = count
        ctx.process_group = process_group
        return normalize_channels(ctx, x, weight, bias, mean, var, eps)

    @staticmethod
    def backward(ctx, g):
        x, mean, inv_std, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        x3 = _as_ncl(x)
        # with fixed statistics the kernel gives gx = g * weight * inv_std, and this rank's sums
        gx, sum_g_xhat, sum_g = batch_norm_backward(
            _as_ncl(g), x3, mean, inv_std, weight, False, need_x
        )
        if need_x:
            sums = np.concatenate([sum_g, sum_g_xhat]).astype(np.float64)
            if ctx.process_group is not None:
                ctx.process_group.allreduce_(sums, op="sum")
            mean_g, mean_g_xhat = (sums / ctx.count).astype(x.dtype).reshape(2, -1)
            scale = inv_std if weight is None else inv_std * weight
            # the terms through the statistics, scale * (mean_g + xhat * mean_g_xhat), are an
            # affine map of x per channel: one more pass of the forward kernel
            gx -= batch_norm_forward(x3, mean, inv_std, scale * mean_g_xhat, scale * mean_g)
            gx = gx.reshape(g.shape)
        return gx, (sum_g_xhat if need_w else None), (sum_g if need_b else None)


def sync_batch_norm(
    input,  # noqa: A002 - PyTorch's name
    running_mean,
    running_var,
    weight=None,
    bias=None,
    momentum: float = 0.1,
    eps: float = 1e-5,
    process_group=None,
):
    """Batch normalisation in training mode with the statistics of the global batch: the
    concatenation of every rank's `input` along dim 0 (PyTorch's `SyncBatchNorm` forward).

    Every rank of `process_group` must call it at the same point, with the same C and dtype
    (its batch size may differ, even be 0); each call makes one `allreduce_` forward and, when
    the input needs a gradient, one in backward. The running estimates, when given, are
    updated in place with the global mean and the global unbiased variance:
    r = (1 - momentum) * r + momentum * stat, the same on every rank.

    Parameters
    ----------
    input : Tensor
        `(N, C, *)`, this rank's share of the batch; float32 or float64.
    running_mean, running_var : Tensor or None
        `(C,)` buffers of `input`'s dtype.
    weight, bias : Tensor, optional
        `(C,)` affine scale and shift (differentiable); their gradients are this rank's share.
    momentum : float
        Weight of the new batch statistic in the running update.
    eps : float
        Added to the variance before the square root.
    process_group : communicator or None
        An `autodiff.distributed` communicator; None: this process alone (plain batch norm).

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : fewer than 2 dims or no channels, a `(C,)` argument of another size, or a
        single value per channel in the whole global batch (raised on every rank).
    TypeError : a non-float input, arguments of another dtype, or a `process_group` that is
        not a communicator.
    """
    op = "sync_batch_norm"
    _check_input(op, input, 2, "(N, C, *)")
    if input.shape[1] == 0:
        raise ShapeError(f"{op}: input has no channels, shape {input.shape} {input.dtype}")
    check_process_group(op, process_group)
    n_channels = input.shape[1]
    for name, t in zip(_ARGS, (running_mean, running_var, weight, bias)):
        _check_param(op, input, name, t, (n_channels,))
    count, mean, var = _global_stats(op, input.data, process_group)
    out = SyncBatchNorm.apply(
        input, weight, bias, mean=mean, var=var, count=count, process_group=process_group, eps=eps
    )
    with no_grad():
        if running_mean is not None:
            running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean)
        if running_var is not None:
            unbiased = var * (count / (count - 1))
            running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
    return out


def check_process_group(where: str, process_group) -> None:
    """TypeError unless `process_group` is None or has a communicator's rank, world_size and
    allreduce_."""
    if process_group is None:
        return
    missing = [a for a in ("rank", "world_size", "allreduce_") if not hasattr(process_group, a)]
    if missing:
        raise TypeError(
            f"{where}: process_group must be an autodiff.distributed communicator (rank, "
            f"world_size, allreduce_) or None, got {type(process_group).__name__} without "
            f"{', '.join(missing)}"
        )


def stats_from_inputs(arrays, attrs) -> dict:
    """`SyncBatchNorm`'s attributes recomputed from its inputs (for `gradcheck_graph`, which
    re-runs a node on perturbed inputs): the statistics of `arrays[0]` alone, as on one
    process. With more ranks they depend on the others' inputs, so this raises."""
    group = attrs["process_group"]
    if group is not None and group.world_size > 1:
        raise ValueError(
            f"sync_batch_norm: over {group.world_size} ranks the statistics depend on the "
            "other ranks' inputs; check the gradient with a LocalCommunicator"
        )
    count, mean, var = _global_stats("sync_batch_norm", arrays[0], None)
    return {**attrs, "count": count, "mean": mean, "var": var}


def _global_stats(op, x, process_group) -> tuple[int, np.ndarray, np.ndarray]:
    """The global count per channel, and the global mean and biased variance `(C,)` in the
    dtype of `x (N, C, *)`, this rank's share of the batch.

    Each rank fills its own row of a zero `(world_size, 1 + 2C)` buffer with its count, mean
    and variance, and one sum-allreduce hands every rank all the rows (an allgather, as
    PyTorch's). The rows are combined as Chan et al.'s parallel variance, from each rank's
    deviations about its own mean rather than from sums of squares, which cancel for data
    far from zero; every rank computes the same numbers in the same order.
    """
    c = x.shape[1]
    alone = process_group is None
    rank = 0 if alone else process_group.rank
    world_size = 1 if alone else process_group.world_size
    rows = np.zeros((world_size, 1 + 2 * c))
    local = x.size // c
    if local:
        mean, var = batch_norm_stats(_as_ncl(x))
        rows[rank, 0] = local
        rows[rank, 1 : 1 + c] = mean
        rows[rank, 1 + c :] = var
    if not alone:
        process_group.allreduce_(rows, op="sum")
    counts, means, variances = rows[:, :1], rows[:, 1 : 1 + c], rows[:, 1 + c :]
    count = int(counts.sum())
    if count <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel in the global batch when training, "
            f"got {count} (this rank's input {x.shape} {x.dtype}, "
            f"world_size {world_size})"
        )
    mean = (counts * means).sum(axis=0) / count
    var = (counts * (variances + np.square(means - mean))).sum(axis=0) / count
    return count, mean.astype(x.dtype), var.astype(x.dtype)
