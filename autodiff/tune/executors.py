"""Where trials run: any `concurrent.futures.Executor`, or a name for a pool the search owns.

- None or "serial": `SerialExecutor`, each trial in this process and thread when submitted (for
  debugging: breakpoints and tracebacks work as in a plain loop).
- "process": a `ProcessPoolExecutor` with one worker per core, each running numba and BLAS on
  one thread (`autodiff.runtime.limit_threads`), started and shut down by the search. Workers
  start as `DataLoader` workers do (fork server, else spawn; see `autodiff.data.worker`), so
  `train_fn` must be importable: defined at module level, not a lambda, and a script needs
  `if __name__ == "__main__":`. numba's on-disk cache means a worker compiles nothing that an
  earlier run has compiled. To size the pool yourself, pass
  `ProcessPoolExecutor(n, initializer=autodiff.runtime.limit_threads, initargs=(cores // n,))`.
- "thread": a `ThreadPoolExecutor`. Grad mode is per thread, but the library's global generator
  is shared, so trials that draw from it (layer initialisation, shuffling) are not reproducible
  in threads; numpy releases the GIL in large array operations only.
- Any other object with `submit(fn, *args)` returning a future: `client.get_executor()` of a
  Dask `distributed.Client` (pip install "dask[distributed]"), `mpi4py.futures.MPIPoolExecutor`
  (pip install mpi4py mpich), or your own pool. The search never shuts down an executor it did
  not create.
"""

import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager

from autodiff.runtime import limit_threads


class SerialExecutor(Executor):
    """Runs each submitted call at once, in the caller's thread; its future is already done."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            if not isinstance(error, Exception):
                raise  # KeyboardInterrupt and SystemExit stop the search at once
            future.set_exception(error)
        return future


def cpu_count() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def open_executor(executor):
    """The executor named or given by `executor`, shut down on exit if it was created here."""
    if executor is None or executor == "serial":
        yield SerialExecutor()
        return
    if isinstance(executor, str):
        pool = _make_pool(executor)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"search: executor must be None, 'serial', 'process', 'thread' or an object with "
            f"submit() such as a concurrent.futures.Executor, got {type(executor).__name__}"
        )
    yield executor


def _make_pool(name):
    if name == "process":
        from autodiff.data.worker import default_context

        workers = cpu_count()
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=default_context(),
            initializer=limit_threads,
            initargs=(1,),
        )
    if name == "thread":
        return ThreadPoolExecutor(max_workers=cpu_count())
    raise ValueError(
        f"search: unknown executor {name!r}; use None, 'serial', 'process', 'thread' or an "
        "Executor (e.g. a Dask client's get_executor())"
    )
