"""`DistributedDataParallel`: one model replica per process, gradients averaged every step.

Every rank builds the same model, wraps it, and trains on its own shard of each batch
(`DistributedSampler`); `loss.backward()` ends by replacing each parameter's gradient by its
average over the ranks, so the optimizer takes the same step everywhere and the replicas stay
identical. With the per-rank loss a mean over the rank's examples, the averaged gradient is the
gradient of the mean loss over the global batch: N ranks with batch B train as one process with
batch N * B.

How backward averages: each parameter has a post-accumulate-grad hook; the first to fire in a
backward that follows a synced forward queues one callback for the end of that backward
(`autodiff.engine.queue_callback`, as PyTorch's reducer queues `finalize_backward`), which
all-reduces every gradient in a few flat buckets. PyTorch overlaps each bucket's all-reduce with
the rest of the backward; here the buckets go once the walk is over.
"""

import contextlib
import weakref
from collections.abc import Iterator

from autodiff.distributed.buckets import broadcast_tensors_, plan
from autodiff.distributed.communicator import Communicator, MPICommunicator
from autodiff.engine import is_grad_enabled, no_grad, queue_callback
from autodiff.tensor import Tensor
from nn.module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data-parallel training: wraps `module`, whose forward it runs unchanged.

    At construction, every parameter and buffer is overwritten with rank 0's values (one
    `broadcast_` per bucket), so the replicas start equal whatever each rank's seed.

    Each training step on every rank, as in PyTorch::

        optimizer.zero_grad()
        loss = loss_fn(ddp(x_shard), y_shard)
        loss.backward()  # ends with every .grad averaged over the ranks
        optimizer.step()

    A backward averages the gradients when the last forward through `ddp` with grad mode on
    ran outside `no_sync()`; every rank must run it, at the same step.

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

    Notes
    -----
    A parameter that got no gradient on a rank in a step (unused in that forward) takes part
    with zeros, and ends with the average of the ranks' gradients (zeros if unused
    everywhere): PyTorch needs `find_unused_parameters=True` for this (and raises without
    it); here it is always so, at no cost, since the whole buffer is reduced anyway. A
    parameter whose `.grad` is None on every rank gets a zero gradient, which optimizers with
    weight decay or momentum do act on. `autodiff.grad` writes no `.grad` and averages
    nothing (PyTorch's DDP does not support `torch.autograd.grad` either).

    Batch norm normalises with each rank's own batch statistics (as PyTorch's `BatchNorm2d`
    under DDP), so a model with batch norm in training mode is not the same as one process on
    the global batch; in eval mode, or without batch norm, it is.
    `nn.SyncBatchNorm.convert_sync_batchnorm(module, comm)` before wrapping makes it so.
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
        self._sync_next_backward = False  # the last tracked forward ran outside no_sync()
        self._queued = False  # the average is queued for the end of the running backward
        broadcast_tensors_(comm, _unique([*module.parameters(), *module.buffers()]), cap_bytes)
        # a weak reference: the hooks live as long as the parameters, and must not keep a
        # wrapper alive that the user has dropped (re-wrapping a model must not sync twice)
        ready = _GradReady(weakref.ref(self))
        for p in self._params:
            p.register_post_accumulate_grad_hook(ready)

    def forward(self, *args, **kwargs):
        """`module(*args, **kwargs)`. With grad mode on, decides whether the next backward
        averages the gradients (not inside `no_sync()`); in training mode with
        `broadcast_buffers`, first takes rank 0's buffers."""
        if is_grad_enabled():
            self._sync_next_backward = self._sync_enabled
            self._queued = False
            if self.training and self.broadcast_buffers and self.comm.world_size > 1:
                buffers = _unique(self.module.buffers())
                if buffers:
                    broadcast_tensors_(self.comm, buffers, int(self.bucket_cap_mb * 2**20))
        return self.module(*args, **kwargs)

    def _grad_ready(self) -> None:
        """A parameter's `.grad` was accumulated: queue the average once per backward."""
        if self._sync_next_backward and not self._queued:
            self._queued = True
            queue_callback(self._finish_backward)

    def _finish_backward(self) -> None:
        self._queued = False
        self.sync_gradients()

    def sync_gradients(self) -> None:
        """Replace every parameter's `.grad` by its average over the ranks (one `allreduce_`
        per bucket), in place where `.grad` exists; a missing `.grad` counts as zeros and is
        created. Every backward after a synced forward ends with it; call it yourself only in
        a custom loop (gradients accumulated under `no_sync()` with no synced backward after
        them, or `.grad` set by hand). Every rank must call it, with the same model, at the
        same step."""
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

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """A block whose forwards' backwards accumulate gradients locally, unaveraged
        (gradient accumulation over micro-batches, as in PyTorch): the backward of the next
        forward outside the block averages the accumulated sum::

            with ddp.no_sync():
                for x, y in micro_batches[:-1]:
                    loss_fn(ddp(x), y).backward()  # local
            loss_fn(ddp(x_last), y_last).backward()  # averages the sum of all of them
        """
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


class _GradReady:
    """The post-accumulate-grad hook of a wrapper's parameters: tells the wrapper, if alive."""

    def __init__(self, ddp_ref):
        self.ddp_ref = ddp_ref

    def __call__(self, param) -> None:
        ddp = self.ddp_ref()
        if ddp is not None:
            ddp._grad_ready()
