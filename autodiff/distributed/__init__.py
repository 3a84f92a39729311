"""Data-parallel training over MPI: PyTorch's `torch.nn.parallel.DistributedDataParallel` and
`torch.utils.data.distributed.DistributedSampler`, with communicators instead of process groups.

    comm = MPICommunicator()                       # launched by mpiexec
    ddp = DistributedDataParallel(model, comm)     # rank 0's weights everywhere
    sampler = DistributedSampler(train, comm, seed=0)
    loader = DataLoader(train, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(ddp(x), y).backward()  # ends with the gradients averaged over the ranks
            optimizer.step()

Run `mpiexec -n 2 python -m mpi4py train.py`. mpi4py is imported only when an
`MPICommunicator` is built; without it this package imports and `LocalCommunicator` works.
"""

from autodiff.distributed.communicator import Communicator, LocalCommunicator, MPICommunicator
from autodiff.distributed.ddp import DistributedDataParallel
from autodiff.distributed.sampler import DistributedSampler

__all__ = [
    "Communicator",
    "DistributedDataParallel",
    "DistributedSampler",
    "LocalCommunicator",
    "MPICommunicator",
]
