"""Run by tests/distributed/test_mpi_sync_batchnorm.py as
`mpiexec -n 2 python -m mpi4py mpi_sync_bn_worker.py OUT`: each rank runs SyncBatchNorm on its
share of a batch (float64 and float32) and trains a small CNN with DDP and SyncBatchNorm, and
writes OUT/rank{r}_*.npz; rank 0 also writes the single-process references OUT/single_*.npz."""

import sys
from pathlib import Path

import numpy as np
from sync_bn_cases import single_layer, sync_layer, train_ddp, train_single

from autodiff.distributed import MPICommunicator

SHARES = (3, 2)


def main():
    out = Path(sys.argv[1])
    comm = MPICommunicator()
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        np.savez(out / f"rank{comm.rank}_{name}.npz", **sync_layer(comm, dtype, SHARES))
        if comm.rank == 0:
            np.savez(out / f"single_{name}.npz", **single_layer(dtype, sum(SHARES)))
    np.savez(out / f"rank{comm.rank}_ddp.npz", *train_ddp(comm))
    if comm.rank == 0:
        np.savez(out / "single_ddp.npz", *train_single(comm.world_size))


if __name__ == "__main__":
    main()
