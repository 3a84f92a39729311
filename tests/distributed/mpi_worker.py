"""Run by tests/distributed/test_mpi.py as `mpiexec -n 2 python -m mpi4py mpi_worker.py OUT`:
checks the MPI communicator's collectives, trains with DDP, and writes each rank's final
weights (and rank 0 the single-process reference) to OUT/rank{r}.npz and OUT/single.npz."""

import sys
from pathlib import Path

import numpy as np
from training import train_ddp, train_single

from autodiff.distributed import MPICommunicator


def check_collectives(comm):
    r, n = comm.rank, comm.world_size
    x = np.full((2, 3), r + 1, np.float32)
    comm.allreduce_(x)
    assert (x == n * (n + 1) / 2).all(), x
    m = np.array([r, -r], np.int64)
    comm.allreduce_(m, op="max")
    assert m.tolist() == [n - 1, 0], m
    b = np.arange(4.0) if r == 0 else np.zeros(4)
    comm.broadcast_(b, root=0)
    assert b.tolist() == [0.0, 1.0, 2.0, 3.0], b
    comm.barrier()


def main():
    out = Path(sys.argv[1])
    comm = MPICommunicator()
    check_collectives(comm)
    weights = train_ddp(comm)
    np.savez(out / f"rank{comm.rank}.npz", *weights)
    if comm.rank == 0:
        np.savez(out / "single.npz", *train_single(comm.world_size))


if __name__ == "__main__":
    main()
