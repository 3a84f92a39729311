"""`SyncBatchNorm`: batch norm whose training statistics are those of the global batch over the
ranks of a data-parallel job, as PyTorch's `torch.nn.SyncBatchNorm`."""

from autodiff.errors import ShapeError
from autodiff.ops.sync_batch_norm import check_process_group, sync_batch_norm
from nn.module import Module
from nn.norm import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of `(N, C, *)` input (any number of trailing dims) whose statistics
    in training mode are the global batch's: the concatenation of every rank's input.

    With each rank holding its share of the batch, the output, the input gradient and the
    running estimates are those of one `BatchNorm2d` (or 1d) on the whole batch; each training
    forward makes one `allreduce_` of `world_size * (2C + 1)` numbers, and its backward one of
    `2C`. The `weight` and `bias` gradients are this rank's share (as in PyTorch), which
    `DistributedDataParallel` averages like every other gradient. In eval mode the running
    estimates normalise and nothing is communicated (without running estimates, each rank's
    own batch statistics are used, as in PyTorch).

    Parameters
    ----------
    num_features, eps, momentum, affine, track_running_stats, device, dtype, bias
        As `BatchNorm2d`'s (see `nn.norm._NormBase`).
    process_group : communicator or None
        The ranks whose batches form the global batch: an `autodiff.distributed` communicator
        (`MPICommunicator()`); None: this process alone, i.e. plain batch norm (PyTorch's None
        is the whole default group instead; pass the communicator).

    Every rank must run each training forward (and backward) at the same step, with the
    same C and dtype; a rank's batch may be smaller than the others', or empty.

    Example::

        comm = MPICommunicator()
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model, comm)
        ddp = DistributedDataParallel(model, comm)
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        check_process_group("SyncBatchNorm", process_group)
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.process_group = process_group

    def _check_input_dim(self, x) -> None:
        if x.ndim < 2:
            raise ShapeError(
                f"SyncBatchNorm: expected at least 2D input (N, C, *), got {x.ndim}D input of "
                f"shape {x.shape} {x.dtype}"
            )

    def forward(self, input):  # noqa: A002 - PyTorch's name
        if not self.training:
            return super().forward(input)
        momentum = self._begin_batch(input)
        out = sync_batch_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            momentum,
            self.eps,
            self.process_group,
        )
        self._count_batch()
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """`module` with every batch-norm layer in its tree (BatchNorm1d, BatchNorm2d, any
        `_BatchNorm`) replaced by a `SyncBatchNorm` over `process_group`, as PyTorch's.

        The new layers take over the old ones' settings, training mode, and their parameter
        and buffer tensors themselves (an optimizer built on the old parameters still trains
        the new layers). Children are replaced in place; a batch-norm `module` itself is
        returned converted, so use the return value.

        Raises
        ------
        TypeError
            `module` is not an nn.Module, or `process_group` is not a communicator.
        """
        if not isinstance(module, Module):
            raise TypeError(
                "SyncBatchNorm.convert_sync_batchnorm: module must be an nn.Module, got "
                f"{type(module).__name__}"
            )
        check_process_group("SyncBatchNorm.convert_sync_batchnorm", process_group)
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
                bias=module.bias is not None,
            )
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(converted, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(converted, name, getattr(module, name))
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, process_group={self.process_group!r}"
