"""The training run the distributed tests compare: N data-parallel ranks against one process
on the concatenated batch. Shared by the thread tests and `mpi_worker.py` (run by mpiexec)."""

import numpy as np

import autodiff as ad
import nn
import optim
from autodiff.distributed import DistributedDataParallel

STEPS, BATCH_PER_RANK = 4, 6


def make_model(seed):
    """A small CNN without batch norm: (N, 1, 6, 6) -> (N, 3)."""
    ad.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )


def global_batches(world_size):
    """STEPS global batches of world_size * BATCH_PER_RANK examples: (x, y) arrays."""
    rng = np.random.default_rng(7)
    n = world_size * BATCH_PER_RANK
    xs = rng.standard_normal((STEPS, n, 1, 6, 6)).astype(np.float32)
    ys = rng.integers(0, 3, size=(STEPS, n))
    return xs, ys


def _step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(ad.tensor(x)), ad.tensor(y))
    loss.backward()
    return loss


def train_ddp(comm):
    """Rank `comm.rank` trains its block of each global batch; returns its final weights.

    Each rank starts from a different seed: the broadcast at construction must make them equal.
    """
    ddp = DistributedDataParallel(make_model(seed=100 + comm.rank), comm)
    optimizer = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    xs, ys = global_batches(comm.world_size)
    block = slice(comm.rank * BATCH_PER_RANK, (comm.rank + 1) * BATCH_PER_RANK)
    for x, y in zip(xs, ys):
        _step(ddp, optimizer, x[block], y[block])  # backward averages the gradients
        optimizer.step()
    return [p.data.copy() for p in ddp.module.parameters()]


def train_single(world_size):
    """One process, rank 0's initial weights, the whole global batch each step."""
    model = make_model(seed=100)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in zip(*global_batches(world_size)):
        _step(model, optimizer, x, y)
        optimizer.step()
    return [p.data.copy() for p in model.parameters()]
