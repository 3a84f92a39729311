"""An in-process world of ranks for tests: one thread per rank, collectives through a barrier.

Only one rank runs library code at a time (a world lock, released while a rank waits inside a
collective), so the ranks interleave like processes without numba's thread-pool being entered
from two threads at once, and every run is deterministic.
"""

import functools
import threading

import numpy as np

from autodiff.distributed.communicator import check_buffer, check_root

_REDUCE = {"sum": np.add, "max": np.maximum, "min": np.minimum, "prod": np.multiply}


class _World:
    def __init__(self, world_size):
        self.barrier = threading.Barrier(world_size, timeout=30)
        self.lock = threading.Lock()
        self.slots = [None] * world_size
        self.calls = []  # (rank, collective, nbytes) in call order


class ThreadCommunicator:
    """Rank `rank` of `world`; implements the `Communicator` protocol."""

    def __init__(self, world, rank):
        self.world = world
        self.rank = rank
        self.world_size = len(world.slots)

    def _exchange(self, value):
        """Every rank's `value`, in rank order, once all ranks have called."""
        self.world.slots[self.rank] = value
        self.world.lock.release()
        try:
            self.world.barrier.wait()
            values = list(self.world.slots)
            self.world.barrier.wait()  # all have read before any slot is written again
        finally:
            self.world.lock.acquire()
        return values

    def allreduce_(self, array, op="sum"):
        check_buffer("ThreadCommunicator.allreduce_", array, op=op)
        self.world.calls.append((self.rank, "allreduce_", array.nbytes))
        values = self._exchange(array.copy())
        array[...] = functools.reduce(_REDUCE[op], values)  # rank order: equal on every rank
        return array

    def broadcast_(self, array, root=0):
        check_buffer("ThreadCommunicator.broadcast_", array)
        check_root("ThreadCommunicator.broadcast_", root, self.world_size)
        self.world.calls.append((self.rank, "broadcast_", array.nbytes))
        array[...] = self._exchange(array.copy())[root]
        return array

    def barrier(self):
        self._exchange(None)


def run_ranks(world_size, fn, *args):
    """`fn(comm, *args)` on each rank of a new thread world; returns (results by rank, the
    world's call log). Re-raises the first rank's exception."""
    world = _World(world_size)
    results, errors = [None] * world_size, [None] * world_size

    def main(rank):
        with world.lock:
            try:
                results[rank] = fn(ThreadCommunicator(world, rank), *args)
            except BaseException as error:
                errors[rank] = error
                world.barrier.abort()  # the others leave their collective instead of hanging

    threads = [threading.Thread(target=main, args=(r,)) for r in range(world_size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for error in errors:
        if error is not None and not isinstance(error, threading.BrokenBarrierError):
            raise error
    for error in errors:
        if error is not None:
            raise error
    return results, world.calls
