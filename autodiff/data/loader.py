"""`DataLoader`: mini-batches of a data set, optionally reshuffled every epoch."""

import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autodiff.data.dataset import Dataset, GeneratorLike, Subset, TensorDataset
from autodiff.random import resolve
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


class DataLoader:
    """Iterate over a data set in mini-batches.

    Parameters
    ----------
    dataset : Dataset
        Any map-style data set.
    batch_size : int, default 1
        Examples per batch; the last batch is smaller unless ``drop_last``.
    shuffle : bool, default False
        Visit the examples in a new random order every epoch (every ``iter(loader)``).
    drop_last : bool, default False
        Skip the final batch if it has fewer than ``batch_size`` examples.
    collate_fn : callable, optional
        Turns a list of examples into a batch; defaults to `default_collate`.
    generator : int, numpy Generator or None
        Source of the shuffling: loaders built with the same seed yield the same sequence of
        epochs. None uses the global generator at the start of each epoch, so
        `autodiff.manual_seed` makes the run reproducible. Unused without ``shuffle``.

    Notes
    -----
    A batch of a `TensorDataset` (or a `Subset` of one, as `random_split` makes) with the
    default collate is built by indexing the stored arrays with the batch's index array, one
    copy per array, and yielded as a tuple of Tensors with the arrays' dtypes. That is the
    same result as collating the examples one by one, without the per-example Python loop.

    ``len(loader)`` is the number of batches per epoch.

    Examples
    --------
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=0)
    >>> for xb, yb in loader:  # xb: Tensor (64, 1, 8, 8) float32, yb: Tensor (64,) int64
    ...     ...
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: GeneratorLike = None,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        # A seed becomes one Generator kept for the loader's lifetime, so each epoch draws a
        # fresh permutation; None stays None and means the global generator of that epoch.
        self.generator = None if generator is None else resolve(generator)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = resolve(self.generator).permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        source = _array_source(self.dataset) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for start in range(0, stop, self.batch_size):
            batch = order[start : start + self.batch_size]
            if source is None:
                yield collate([self.dataset[int(i)] for i in batch])
            else:
                arrays, rows = source
                index = batch if rows is None else rows[batch]
                yield tuple(Tensor(a[index]) for a in arrays)
