"""`DataLoader` worker processes: the loop each one runs, its seeding, `get_worker_info`, and
`WorkerPool`, the parent's handle on a set of workers.

Start method: by default "forkserver" (where the platform has it, else "spawn"). Forking the
parent directly is unsafe once numba's or OpenMP's thread pools run in it (a child inherits
locks held by threads that do not exist in it). A fork server is a fresh interpreter that
imports this module once and then forks each worker from itself, so workers start in
milliseconds after the first; "spawn" starts a new interpreter for each worker. With both, the
data set, collate_fn and worker_init_fn are pickled to the workers, so they must be importable
(defined at module level, not lambdas), and a script needs `if __name__ == "__main__":`, as
with PyTorch on macOS and Windows. `multiprocessing_context="fork"` lifts those limits at the
risk above.

Seeding: each iterator that starts workers draws a base seed; worker `i` seeds Python's
`random`, numpy's legacy global generator (`np.random.seed`, modulo 2**32) and the library's
global generator (`autodiff.manual_seed`) with base_seed + i, and `get_worker_info().seed` is
that number. PyTorch's rule is the same for `random` and its own generator; it seeds numpy
from a hash of (base_seed, i) instead, so the numbers differ from PyTorch's (they would
anyway: the base seed comes from a different generator).
"""

import math
import multiprocessing
import os
import pickle
import queue
import random
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff.random import manual_seed

# How often a waiting worker checks that its parent lives, and a waiting parent that its
# workers do: a short wait keeps a dead process from going unnoticed for long.
POLL_SECONDS = 0.5
# How long shutdown waits for a worker to exit on its own before terminating it.
JOIN_SECONDS = 2.0


@dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker process.

    Attributes
    ----------
    id : int
        The worker's number, 0 .. num_workers - 1.
    num_workers : int
        How many workers the loader has.
    seed : int
        base_seed + id, the seed of this worker's random generators.
    dataset : Dataset
        This worker's copy of the data set.
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The `WorkerInfo` of the current `DataLoader` worker, or None in the main process.

    A data set or a worker_init_fn can use it to give each worker its own share of the work
    or its own random stream.
    """
    return _worker_info


class WorkerError:
    """An exception raised in a worker, carried to the parent with the worker's traceback."""

    def __init__(self, error: BaseException, where: str):
        self.message = f"Caught {type(error).__name__} in {where}.\nOriginal " + "".join(
            traceback.format_exception(error)
        )
        self.error_type = type(error)
        try:
            pickle.dumps(self.error_type)
        except Exception:  # a class that cannot reach the parent: re-raised as RuntimeError
            self.error_type = RuntimeError

    def reraise(self):
        """Raise the worker's exception type in the parent, with the traceback in its message."""
        try:
            error = self.error_type(self.message)
        except Exception:  # an exception class whose constructor wants other arguments
            error = RuntimeError(self.message)
        raise error


def seed_worker(seed: int) -> None:
    """Seed Python's, numpy's global and the library's generators in a worker."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    manual_seed(seed)


def _parent_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid was reused by another user's process
        return False
    return True


def worker_loop(
    fetch: Callable,
    dataset: Any,
    index_queue,
    result_queue,
    worker_id: int,
    num_workers: int,
    seed: int,
    init_fn: Callable[[int], None] | None,
    parent_pid: int,
) -> None:
    """Run in a worker: fetch each (task_id, indices) from `index_queue` and put (task_id,
    batch or WorkerError) on `result_queue`, until None arrives or the parent dies."""
    global _worker_info
    seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    pending_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as error:
            pending_error = WorkerError(error, f"worker_init_fn of DataLoader worker {worker_id}")
    try:
        while True:
            try:
                task = index_queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not _parent_alive(parent_pid):
                    break
                continue
            if task is None:
                break
            task_id, indices = task
            if pending_error is not None:
                result, pending_error = pending_error, None
            else:
                try:
                    result = fetch(indices)
                except Exception as error:
                    result = WorkerError(error, f"DataLoader worker process {worker_id}")
            result_queue.put((task_id, result))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent handles it
        pass
    # exit without waiting for the parent to read what is still queued
    result_queue.cancel_join_thread()


def default_context():
    """The multiprocessing context of workers when the loader names none (see the module)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # keep the default '__main__' and add this module, so the server imports the library once
    # and every worker forked from it starts with it loaded; no effect once the server runs
    context.set_forkserver_preload(["__main__", __name__])
    return context


class WorkerPool:
    """`num_workers` processes running `worker_loop`, and the queues to and from them.

    Parameters
    ----------
    fetch : callable
        indices -> batch, run in the workers; pickled to them with `dataset`.
    dataset : Dataset
        For `get_worker_info().dataset`.
    num_workers : int
        >= 1.
    base_seed : int
        Worker i is seeded with base_seed + i.
    init_fn : callable or None
        Called with the worker's id in the worker, after seeding, before any fetch.
    context : multiprocessing context
        How to start the processes.
    timeout : float
        Seconds `get` waits for a batch before raising; 0 waits as long as the workers live.

    The processes are stopped by `shutdown()`, when the pool is garbage-collected, or at exit.
    """

    def __init__(
        self,
        fetch: Callable,
        dataset: Any,
        num_workers: int,
        base_seed: int,
        init_fn: Callable[[int], None] | None,
        context,
        timeout: float,
    ):
        self.timeout = timeout
        self.index_queues = [context.Queue() for _ in range(num_workers)]
        self.result_queue = context.Queue()
        self.workers = []
        for i, index_queue in enumerate(self.index_queues):
            args = (fetch, dataset, index_queue, self.result_queue, i, num_workers)
            args += (base_seed + i, init_fn, os.getpid())
            worker = context.Process(target=worker_loop, args=args, daemon=True)
            self.workers.append(worker)
        # registered before starting, so a failed start still stops the workers already running
        self._finalizer = weakref.finalize(
            self, _stop, self.workers, self.index_queues, self.result_queue
        )
        for worker in self.workers:
            try:
                worker.start()
            except (pickle.PicklingError, AttributeError, TypeError) as error:
                error.add_note(
                    "DataLoader: with this start method the data set, collate_fn and "
                    "worker_init_fn reach the workers pickled: define them at module level "
                    "(not lambdas or local functions), or pass multiprocessing_context='fork' "
                    "(see autodiff.data.worker)"
                )
                raise

    def put(self, worker_id: int, task_id: int, indices) -> None:
        """Ask worker `worker_id` for the batch of `indices`, answered with `task_id`."""
        self.index_queues[worker_id].put((task_id, indices))

    def get(self) -> tuple[int, Any]:
        """The next (task_id, batch or WorkerError) any worker answers, in arrival order.

        Raises
        ------
        RuntimeError
            No answer within `timeout` seconds, or a worker died (its exit code is named).
        """
        deadline = time.monotonic() + self.timeout if self.timeout > 0 else math.inf
        while True:
            wait = min(POLL_SECONDS, deadline - time.monotonic())
            try:
                return self.result_queue.get(timeout=max(wait, 0.0))
            except queue.Empty:
                pass
            dead = [w for w in self.workers if w.exitcode is not None]
            if dead:
                self.shutdown()
                raise RuntimeError(
                    f"DataLoader worker (pid {dead[0].pid}) exited unexpectedly with exit code "
                    f"{dead[0].exitcode}"
                )
            if time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def shutdown(self) -> None:
        """Stop the workers (idempotent)."""
        self._finalizer()


def _stop(workers: list, index_queues: list, result_queue) -> None:
    """Ask each worker to exit, terminate those that do not, and release the queues."""
    for worker, index_queue in zip(workers, index_queues, strict=True):
        if worker.is_alive():
            index_queue.put(None)
    deadline = time.monotonic() + JOIN_SECONDS
    for worker in workers:
        if worker.pid is None:  # never started
            continue
        worker.join(timeout=max(deadline - time.monotonic(), 0.0))
        if worker.is_alive():
            worker.terminate()
            worker.join()
    for q in [*index_queues, result_queue]:
        q.cancel_join_thread()
        q.close()
