"""`DataLoader`: mini-batches of a data set, optionally reshuffled every epoch, optionally
loaded by worker processes (see `autodiff.data.worker`)."""

import itertools
import multiprocessing
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autodiff.data.dataset import Dataset, GeneratorLike, Subset, TensorDataset
from autodiff.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from autodiff.data.worker import WorkerError, WorkerPool, default_context
from autodiff.random import own, resolve
from autodiff.tensor import Tensor


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of examples into a batch, recursing into tuples, lists and dicts.

    Parameters
    ----------
    samples : sequence
        Examples of one structure: numpy arrays of equal shape ``S``, Tensors, numpy scalars,
        Python numbers, or tuples / lists / dicts of these.

    Returns
    -------
    Tensor, tuple, dict or list
        Arrays and Tensors become one Tensor of shape ``(len(samples), *S)`` with the
        examples' dtype; Python ints become int64, floats float32 and bools bool; a tuple or
        list of fields becomes a tuple of batches, a dict a dict of batches. Anything else
        (strings, say) is returned as a list.

    Raises
    ------
    ValueError
        If the arrays of one field differ in shape (numpy names the shapes).
    """
    first = samples[0]
    if isinstance(first, Tensor):
        return Tensor(np.stack([s.data for s in samples]))
    if isinstance(first, np.ndarray | np.generic):
        return Tensor(np.stack(samples))
    # bool before int: bool is an Integral too.
    if isinstance(first, bool):
        return Tensor(np.array(samples, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(samples, dtype=np.float32))
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, tuple | list):
        return tuple(default_collate(field) for field in zip(*samples, strict=True))
    return list(samples)


def default_convert(sample: Any) -> Any:
    """Turn one example into Tensors without batching (the collate_fn for batch_size=None).

    numpy arrays and numpy scalars become Tensors of their dtype; tuples, lists and dicts are
    converted field by field; anything else (Python numbers, strings) is returned unchanged.
    """
    if isinstance(sample, np.ndarray | np.generic):
        return Tensor(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple | list):
        converted = [default_convert(value) for value in sample]
        return type(sample)(*converted) if hasattr(sample, "_fields") else type(sample)(converted)
    return sample


def _array_source(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """The arrays behind a TensorDataset (seen through Subsets) and the row map, else None."""
    if isinstance(dataset, TensorDataset):
        return dataset.arrays, None
    if isinstance(dataset, Subset):
        inner = _array_source(dataset.dataset)
        if inner is None:
            return None
        arrays, rows = inner
        return arrays, dataset.indices if rows is None else rows[dataset.indices]
    return None


class _Fetcher:
    """Turns the indices of one batch (or one index, without auto-batching) into the batch.

    Runs in the main process or, pickled with the data set, in a worker.
    """

    def __init__(self, dataset: Dataset, collate_fn: Callable | None, batched: bool):
        self.dataset = dataset
        self.collate_fn = collate_fn
        self.batched = batched
        # once, not per batch: through nested Subsets it builds a row map as long as the data
        self.source = _array_source(dataset) if batched and collate_fn is None else None

    def __call__(self, indices):
        if not self.batched:
            return (self.collate_fn or default_convert)(self.dataset[indices])
        if self.source is None:
            return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in indices])
        arrays, rows = self.source
        index = np.asarray(indices, dtype=np.int64)
        return tuple(Tensor(a[index if rows is None else rows[index]]) for a in arrays)


def _check_count(name: str, value, low: int) -> int:
    """`value` as an int, or TypeError / ValueError naming `name` unless an int >= low."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"DataLoader: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"DataLoader: {name} must be >= {low}, got {value}")
    return int(value)


class DataLoader:
    """Iterate over a data set in mini-batches, as `torch.utils.data.DataLoader`.

    Parameters
    ----------
    dataset : Dataset
        Any map-style data set.
    batch_size : int or None, default 1
        Examples per batch; the last batch is smaller unless ``drop_last``. None turns
        batching off: each example is yielded on its own, through `default_convert`.
    shuffle : bool, default False
        Visit the examples in a new random order every epoch (every ``iter(loader)``).
    sampler : Sampler or iterable of int, optional
        The order of the indices; excludes ``shuffle``.
    batch_sampler : Sampler or iterable of lists of int, optional
        Yields each batch's indices; excludes batch_size, shuffle, sampler and drop_last.
    num_workers : int, default 0
        Worker processes loading batches in parallel; 0 loads them in this process.
    collate_fn : callable, optional
        Turns a list of examples into a batch; defaults to `default_collate`.
    pin_memory : bool
        Accepted for PyTorch scripts; no effect (there is no device memory).
    drop_last : bool, default False
        Skip the final batch if it has fewer than ``batch_size`` examples.
    timeout : float, default 0
        With workers, seconds to wait for a batch before raising RuntimeError; 0 waits as
        long as the workers live.
    worker_init_fn : callable, optional
        Called in each worker with its id, after seeding and before loading.
    multiprocessing_context : str or multiprocessing context, optional
        How workers start: "forkserver" (the default where available, else "spawn"), "spawn"
        or "fork"; see `autodiff.data.worker` for why the default is not "fork".
    generator : int, numpy Generator or None
        Source of the shuffling and of the workers' base seed: loaders built with the same
        seed yield the same sequence of epochs. None uses the global generator at the start of
        each epoch, so `autodiff.manual_seed` makes the run reproducible.
    prefetch_factor : int, optional
        Batches each worker loads ahead, default 2; only with workers.
    persistent_workers : bool, default False
        Keep the workers alive between epochs instead of starting them for every epoch; only
        with workers.
    pin_memory_device : str
        Accepted for PyTorch scripts; no effect.
    in_order : bool, default True
        Yield the batches in sampler order; False yields each as soon as a worker has it.

    Raises
    ------
    TypeError
        batch_size, num_workers or prefetch_factor is not an int.
    ValueError
        A count out of range, or options that exclude each other (named, as PyTorch does).

    Notes
    -----
    A batch of a `TensorDataset` (or a `Subset` of one, as `random_split` makes) with the
    default collate is built by indexing the stored arrays with the batch's index array, one
    copy per array, and yielded as a tuple of Tensors with the arrays' dtypes. That is the
    same result as collating the examples one by one, without the per-example Python loop.

    With workers, batches arrive in sampler order (unless ``in_order=False``), each worker
    holding up to ``prefetch_factor`` requests; an exception in a worker is raised here with
    the worker's traceback in its message, and the loop may go on with the next batch. The
    workers stop at the end of the epoch (unless persistent), when the iterator is deleted
    (a ``break`` out of the loop), when the loader is deleted (persistent), or at exit.
    `get_worker_info()` tells a data set which worker it runs in. Each new iterator that
    starts workers draws their base seed from ``generator`` (or the global generator)
    before shuffling; PyTorch draws it also without workers, so its shuffle with and without
    workers is the same, and here the two differ.

    ``len(loader)`` is the number of batches per epoch.

    Examples
    --------
    >>> from autodiff.data import TensorDataset, load_digits
    >>> x, y = load_digits()
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=0)
    >>> for xb, yb in loader:  # xb: Tensor (64, 1, 8, 8) float32, yb: Tensor (64,) int64
    ...     pass
    >>> len(loader), xb.shape, yb.dtype  # the last batch holds the 1797 - 28 * 64 left over
    (29, (5, 1, 8, 8), dtype('int64'))
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Sampler | Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context=None,
        generator: GeneratorLike = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ):
        if batch_size is not None:
            batch_size = _check_count("batch_size", batch_size, 1)
        num_workers = _check_count("num_workers", num_workers, 0)
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout must be >= 0, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor needs num_workers > 0 (it counts batches each "
                "worker loads ahead)"
            )
        if num_workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers needs num_workers > 0")
        if num_workers > 0:
            prefetch_factor = 2 if prefetch_factor is None else prefetch_factor
            prefetch_factor = _check_count("prefetch_factor", prefetch_factor, 1)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, "
                    "sampler and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None turns batching off and excludes drop_last"
            )
        # A seed becomes one Generator kept for the loader's lifetime, so each epoch draws a
        # fresh permutation; None stays None and means the global generator of that epoch.
        self.generator = own(generator)
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=self.generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if isinstance(multiprocessing_context, str):
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterator = None  # the persistent workers' iterator, reused every epoch

    @property
    def _index_sampler(self):
        """What yields each step's indices: the batch sampler, or the sampler unbatched."""
        return self.sampler if self.batch_sampler is None else self.batch_sampler

    def _fetcher(self) -> _Fetcher:
        return _Fetcher(self.dataset, self.collate_fn, self.batch_sampler is not None)

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            fetch = self._fetcher()
            return (fetch(indices) for indices in self._index_sampler)
        if not self.persistent_workers:
            return _WorkerIterator(self)
        if self._iterator is None:
            self._iterator = _WorkerIterator(self)
        else:
            self._iterator.start_epoch()
        return self._iterator


class _WorkerIterator:
    """One epoch (or, with persistent workers, every epoch) of batches loaded by workers.

    Task i of the epoch goes to worker i % num_workers; each worker has up to prefetch_factor
    tasks in flight, and a batch that arrives early waits in `_arrived` for its turn. Holds
    no reference to the loader, so deleting the loader or the iterator stops the workers.
    """

    def __init__(self, loader: DataLoader):
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._in_flight = loader.num_workers * loader.prefetch_factor
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        base_seed = int(resolve(loader.generator).integers(2**63))
        self._pool = WorkerPool(
            loader._fetcher(),
            loader.dataset,
            loader.num_workers,
            base_seed,
            loader.worker_init_fn,
            loader.multiprocessing_context or default_context(),
            loader.timeout,
        )
        self._next_task = 0  # task ids grow across epochs, so a stale answer is recognised
        self.start_epoch()

    def start_epoch(self) -> None:
        """Start an epoch on the running workers; answers still due from an abandoned epoch
        are dropped when they arrive."""
        self._tasks = iter(self._index_sampler)
        self._pending = set()
        self._arrived = {}
        self._next_out = self._next_task
        self._workers = itertools.cycle(range(self._num_workers))
        for _ in range(self._in_flight):
            self._send()

    def _send(self) -> None:
        """Hand the epoch's next indices to the next worker, if any are left."""
        indices = next(self._tasks, None)
        if indices is None:
            return
        self._pool.put(next(self._workers), self._next_task, indices)
        self._pending.add(self._next_task)
        self._next_task += 1

    def __iter__(self):
        return self

    def __next__(self):
        batch = self._take()
        self._send()
        if isinstance(batch, WorkerError):
            batch.reraise()
        return batch

    def _take(self):
        """The next batch: the one due in sampler order, or (in_order=False) the first to come."""
        while self._next_out not in self._arrived:
            if not self._pending:
                if not self._persistent:
                    self._pool.shutdown()
                raise StopIteration
            task_id, batch = self._pool.get()
            if task_id not in self._pending:
                continue
            self._pending.remove(task_id)
            if not self._in_order:
                return batch
            self._arrived[task_id] = batch
        self._next_out += 1
        return self._arrived.pop(self._next_out - 1)
