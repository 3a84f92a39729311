"""Data-parallel training over MPI: the digits CNN of train_digits.py, one replica per rank.

Launched as PyTorch users launch DDP, one process per rank:

    mpiexec -n 2 python -m mpi4py examples/train_ddp.py

(`pip install 'autodiff[mpi]'` installs mpi4py and the MPICH wheel, whose `mpiexec` lands next
to `python`; `-m mpi4py` makes an error on one rank abort the whole job instead of hanging it.
On one machine, `UCX_NET_DEVICES=lo` keeps MPICH on the loopback interface.) Each rank trains on
its shard of every epoch (`DistributedSampler`), and each backward through the
`DistributedDataParallel` wrapper ends by averaging the gradients over the ranks, so all
replicas take the same steps: N ranks with `--batch-size B` train like one process with batches
of N * B. Rank 0 alone prints (each rank's
and the averaged training metrics, then dev and test accuracy) and writes the checkpoint.
Run without mpiexec (or without mpi4py), it is a world of one.

Run: mpiexec -n 2 python -m mpi4py examples/train_ddp.py [--epochs N] [--checkpoint PATH]
"""

import argparse
import time

import numpy as np
from train_digits import make_model

import autodiff as ad
import nn
import optim
from autodiff.data import DataLoader, digits_splits
from autodiff.distributed import (
    DistributedDataParallel,
    DistributedSampler,
    LocalCommunicator,
    MPICommunicator,
)
from nn.training import evaluate


def communicator():
    """The MPI world when mpi4py is installed, else a world of one."""
    try:
        return MPICommunicator()
    except ImportError:
        print("mpi4py is not installed (pip install 'autodiff[mpi]'): training in one process")
        return LocalCommunicator()


def train_epoch(ddp, loader, loss_fn, optimizer):
    """One pass over this rank's shard: (loss sum, correct, examples) of this rank."""
    loss_sum = correct = count = 0
    for x, y in loader:
        optimizer.zero_grad()
        out = ddp(x)
        loss = loss_fn(out, y)
        loss.backward()  # ends with the gradients averaged over the ranks
        optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += int((out.data.argmax(1) == y.data).sum())
        count += len(y)
    return loss_sum, correct, count


def gather_metrics(comm, loss_sum, correct, count):
    """(world_size, 3) array of every rank's (loss sum, correct, examples), on every rank: an
    all-reduce of a table where each rank fills its own row."""
    table = np.zeros((comm.world_size, 3))
    table[comm.rank] = loss_sum, correct, count
    return comm.allreduce_(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default="digits_ddp.npz")
    args = parser.parse_args()

    comm = communicator()
    rank0 = comm.rank == 0
    ad.manual_seed(args.seed + comm.rank)  # any seed: DDP copies rank 0's weights everywhere
    train, dev, test = digits_splits(generator=args.seed, normalize=True)
    sampler = DistributedSampler(train, comm, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    ddp = DistributedDataParallel(make_model(), comm)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(ddp.parameters(), lr=args.lr)
    if rank0:
        print(
            f"{comm.world_size} rank(s), {len(sampler)} of {len(train)} training images each, "
            f"global batch {args.batch_size * comm.world_size}"
        )

    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        table = gather_metrics(comm, *train_epoch(ddp, loader, loss_fn, optimizer))
        if rank0:
            ranks = "  ".join(
                f"rank {r}: loss {s / n:.4f} acc {c / n:.1%}" for r, (s, c, n) in enumerate(table)
            )
            s, c, n = table.sum(0)
            dev_loss, dev_acc = evaluate(ddp.module, DataLoader(dev, batch_size=256), loss_fn)
            print(
                f"epoch {epoch + 1:2d}  {ranks}  | all: loss {s / n:.4f} acc {c / n:.1%}  "
                f"| dev acc {dev_acc:.1%}",
                flush=True,
            )
    elapsed = time.perf_counter() - start

    if rank0:
        test_loss, test_acc = evaluate(ddp.module, DataLoader(test, batch_size=256), loss_fn)
        print(f"trained {args.epochs} epochs in {elapsed:.1f} s; test accuracy {test_acc:.1%}")
        ddp.module.save(args.checkpoint)  # the module's keys, loadable without DDP
        print(f"checkpoint written to {args.checkpoint}")
    comm.barrier()  # no rank exits (and tears MPI down) while rank 0 still writes


if __name__ == "__main__":
    main()
