"""`DistributedSampler`: each rank's share of every epoch's order of a data set."""

import math
import numbers
from collections.abc import Iterator, Sized

import numpy as np

from autodiff.data.sampler import Sampler
from autodiff.distributed.communicator import Communicator, MPICommunicator

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Shards a data set over the ranks of a job, with PyTorch's `DistributedSampler` rules.

    Every epoch, all ranks compute the same order (a permutation seeded with `seed + epoch`
    when `shuffle`, else 0 .. n - 1); it is padded by repeating its first indices until its
    length divides by `num_replicas` (or, with `drop_last`, cut to the largest length that
    does), and rank r takes positions r, r + num_replicas, ... Each rank gets `len(sampler)`
    indices; together they cover the data set once (plus the padding).

    Parameters
    ----------
    dataset : sized
        The data set; only its length (read at construction, as PyTorch) is used.
    comm : Communicator, optional
        Gives `num_replicas` and `rank` when they are not passed; default `MPICommunicator()`
        when either is missing.
    num_replicas, rank : int, optional
        The number of ranks and this one's, 0 <= rank < num_replicas.
    shuffle : bool
        A new permutation every epoch (call `set_epoch(epoch)` before each).
    seed : int
        The same on every rank, or their orders differ and the shards overlap.
    drop_last : bool
        Drop the tail instead of padding, so no example is seen twice in an epoch.

    Raises
    ------
    TypeError
        `comm` is not a communicator (PyTorch's second argument, num_replicas, is keyword-only
        here in effect: `DistributedSampler(data, num_replicas=2, rank=0)`).
    ValueError
        `num_replicas` not a positive int, `rank` outside [0, num_replicas - 1], or a
        non-integer `seed`.

    Use it as `DataLoader(dataset, batch_size=b, sampler=sampler)` (not with `shuffle=True`),
    and call `sampler.set_epoch(epoch)` at the start of each epoch, as in PyTorch; each rank's
    loader then yields batches of `b`, and the global batch is `b * num_replicas`.
    The permutation is numpy's (`np.random.default_rng(seed + epoch).permutation(n)`), not
    torch's `randperm`, so the orders differ from PyTorch's; padding and sharding are the same.
    """

    def __init__(
        self,
        dataset: Sized,
        comm: Communicator | None = None,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if comm is not None and not isinstance(comm, Communicator):
            raise TypeError(
                f"DistributedSampler: comm must be a Communicator, got {type(comm).__name__} "
                f"{comm!r}; pass num_replicas= and rank= by keyword (the second positional "
                "argument is the communicator, not PyTorch's num_replicas)"
            )
        if num_replicas is None or rank is None:
            comm = MPICommunicator() if comm is None else comm
            num_replicas = comm.world_size if num_replicas is None else num_replicas
            rank = comm.rank if rank is None else rank
        if not _is_int(num_replicas) or num_replicas <= 0:
            raise ValueError(
                f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}"
            )
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        if not _is_int(seed):
            raise ValueError(f"DistributedSampler: seed must be an int, got {seed!r}")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def permutation(self) -> np.ndarray:
        """This epoch's order of the whole data set, the same on every rank (int64, (n,))."""
        n = len(self.dataset)
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(n)
        return np.arange(n)

    def __iter__(self) -> Iterator[int]:
        order = self.permutation()
        if self.drop_last:
            order = order[: self.total_size]
        elif len(order):
            # np.resize repeats the order from its start: PyTorch's padding, for any length
            order = np.resize(order, self.total_size)
        return iter(order[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration shuffles for; call it before each epoch on all ranks."""
        self.epoch = epoch


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
