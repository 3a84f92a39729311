"""`DistributedDataParallel`: one model replica per process, gradients averaged every step.

Every rank builds the same model, wraps it, and trains on its own shard of each batch
(`DistributedSampler`); after `loss.backward()`, `sync_gradients()` replaces each parameter's
gradient by its average over the ranks, so the optimizer takes the same step everywhere and the
replicas stay identical. With the per-rank loss a mean over the rank's examples, the averaged
gradient is the gradient of the mean loss over the global batch: N ranks with batch B train as
one process with batch N * B.

Why an explicit call: PyTorch starts the all-reduce from hooks that fire as each gradient is
accumulated. Here a leaf's gradient hooks run before its `.grad` is written and see only their
own tensor, so they cannot average one flat buffer for the whole model; the call between
`backward()` and `optimizer.step()` is one line, and forgetting it raises (see
`DistributedDataParallel`) instead of letting the replicas drift apart silently.
"""

import contextlib
from collections.abc import Iterator

from autodiff.distributed.buckets import broadcast_tensors_, plan
from autodiff.distributed.communicator import Communicator, MPICommunicator
from autodiff.engine import is_grad_enabled, no_grad
from autodiff.tensor import Tensor
from nn.module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data-parallel training: wraps `module`, whose forward it runs unchanged.

    At construction, every parameter and buffer is overwritten with rank 0's values (one
    `broadcast_` per bucket), so the replicas start equal whatever each rank's seed.

    Each training step on every rank::

        optimizer.zero_grad()
        loss = loss_fn(ddp(x_shard), y_shard)
        loss.backward()
        ddp.sync_gradients()  # average the gradients over the ranks
        optimizer.step()

    Parameters
    ----------
    module : nn.Module
        The model; reachable as `ddp.module` (save `ddp.module.state_dict()`, as in PyTorch).
    comm : Communicator, optional
        The process group; default `MPICommunicator()` (every process mpiexec started).
    broadcast_buffers : bool
        Before each forward in training mode, overwrite the buffers (batch norm's running
        statistics) with rank 0's, as PyTorch does, so all ranks hold the same state.
    bucket_cap_mb : float
        Gradients are packed into flat buffers of at most this many megabytes (2**20 bytes)
        per dtype, one `allreduce_` each; PyTorch's default 25.

    Raises
    ------
    TypeError
        `module` is not an nn.Module, or `comm` lacks a communicator's methods.
    ValueError
        `bucket_cap_mb` is not positive.
    RuntimeError
        From forward: the previous training forward's backward was not followed by
        `sync_gradients()` (outside `no_sync()`).

    Notes
    -----
    A parameter that got no gradient on a rank in a step (unused in that forward) takes part
    with zeros, and ends with the average of the ranks' gradients (zeros if unused
    everywhere): PyTorch needs `find_unused_parameters=True` for this; here it is always so,
    at no cost, since the whole buffer is reduced anyway. A parameter whose `.grad` is None on
    every rank gets a zero gradient, which optimizers with weight decay or momentum do act on.

    Batch norm normalises with each rank's own batch statistics (as PyTorch's `BatchNorm2d`
    under DDP), so a model with batch norm in training mode is not the same as one process on
    the global batch; in eval mode, or without batch norm, it is.
    """

    def __init__(
        self,
        module: Module,
        comm: Communicator | None = None,
        *,
        broadcast_buffers: bool = True,
        bucket_cap_mb: float = 25.0,
    ):
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}"
            )
        if not bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}"
            )
        comm = MPICommunicator() if comm is None else comm
        if not isinstance(comm, Communicator):
            raise TypeError(
                "DistributedDataParallel: comm must have rank, world_size, allreduce_, "
                f"broadcast_ and barrier, got {type(comm).__name__}"
            )
        super().__init__()
        self.module = module
        self.comm = comm
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        cap_bytes = int(bucket_cap_mb * 2**20)
        self._params = _unique(p for p in module.parameters() if p.requires_grad)
        self._buckets = plan(self._params, cap_bytes)
        self._sync_enabled = True
        self._unsynced = False  # a synced forward's backward ran; sync_gradients() is due
        broadcast_tensors_(comm, _unique([*module.parameters(), *module.buffers()]), cap_bytes)

    def forward(self, *args, **kwargs):
        """`module(*args, **kwargs)`; in training mode, first checks the last step was synced
        and (with `broadcast_buffers`) takes rank 0's buffers."""
        tracked = self.training and is_grad_enabled()
        if tracked and self._sync_enabled and self._unsynced:
            raise RuntimeError(
                "DistributedDataParallel: the gradients of the previous backward were not "
                "averaged; call ddp.sync_gradients() between loss.backward() and "
                "optimizer.step() (or run the forward and backward inside ddp.no_sync() to "
                "accumulate gradients locally)"
            )
        if tracked and self.broadcast_buffers and self.comm.world_size > 1:
            buffers = _unique(self.module.buffers())
            if buffers:
                broadcast_tensors_(self.comm, buffers, int(self.bucket_cap_mb * 2**20))
        out = self.module(*args, **kwargs)
        if tracked and self._sync_enabled:
            for t in _tensors(out):
                t.register_hook(self._note_backward)
        return out

    def _note_backward(self, grad):
        """Gradient hook on the outputs: a backward through a synced forward has run."""
        self._unsynced = True

    def sync_gradients(self) -> None:
        """Replace every parameter's `.grad` by its average over the ranks (one `allreduce_`
        per bucket), in place where `.grad` exists; a missing `.grad` counts as zeros and is
        created. Every rank must call it, with the same model, at the same step."""
        world_size = self.comm.world_size
        with no_grad():
            for positions, bucket in self._buckets:
                grads = [self._params[i].grad for i in positions]
                buffer = bucket.pack([None if g is None else g.data for g in grads])
                self.comm.allreduce_(buffer, op="sum")
                if world_size > 1:
                    buffer /= world_size
                for i, g, view in zip(positions, grads, bucket.views()):
                    if g is None:
                        self._params[i].grad = Tensor(view.copy())
                    else:
                        g.copy_(view)
        self._unsynced = False

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """A block whose forwards and backwards accumulate gradients locally, without the
        check that `sync_gradients()` follows (gradient accumulation over micro-batches); call
        `sync_gradients()` after the last backward, outside the block."""
        previous = self._sync_enabled
        self._sync_enabled = False
        try:
            yield
        finally:
            self._sync_enabled = previous

    def extra_repr(self) -> str:
        return f"world_size={self.comm.world_size}, rank={self.comm.rank}"


def _unique(tensors) -> list[Tensor]:
    """`tensors` without repeats (a tied weight appears once), in order."""
    seen = {}
    for t in tensors:
        seen.setdefault(id(t), t)
    return list(seen.values())


def _tensors(out) -> list[Tensor]:
    """The graph outputs in a forward's output (a Tensor, or a tuple, list or dict of them)."""
    if isinstance(out, Tensor):  # a leaf (a parameter returned as is) would keep the hook
        return [out] if out.grad_fn is not None else []
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, tuple | list):
        return [t for item in out for t in _tensors(item)]
    return []
