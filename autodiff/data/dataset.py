"""Map-style data sets: the `Dataset` interface, array-backed data sets, subsets and splits."""

import abc
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autodiff.random import resolve
from autodiff.tensor import Tensor

# What `generator` arguments accept throughout `autodiff.data`, as in `autodiff.rand`: a seed, a
# numpy Generator (used as is, so several consumers can share one stream), or None for the
# library's global generator (reseeded by `autodiff.manual_seed`).
GeneratorLike = int | np.random.Generator | None


class Dataset(abc.ABC):
    """A map-style data set: a length and an example for each index in ``range(len(self))``.

    Subclasses implement `__getitem__` and `__len__`. Examples are usually tuples of numpy
    arrays or numbers, e.g. ``(x, y)``; `DataLoader` stacks them into batch Tensors.
    """

    @abc.abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Return example ``index``; raise IndexError past the end."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """Return the number of examples."""


class TensorDataset(Dataset):
    """Examples are the rows (along the first axis) of one or more arrays of equal length.

    Parameters
    ----------
    *tensors : ndarray, Tensor or array-like
        Arrays of shapes ``(N, ...)``, all with the same ``N``; for instance images
        ``(N, C, H, W)`` float32 and labels ``(N,)`` int64. Tensors are stored as their `.data`
        arrays and numpy arrays are stored without copying; dtypes are kept.

    Attributes
    ----------
    arrays : tuple of ndarray
        The stored arrays, in the order given.

    Raises
    ------
    ValueError
        If no array is given, an array is 0-d, or the first dimensions differ.

    Notes
    -----
    ``dataset[i]`` is the tuple ``(arrays[0][i], arrays[1][i], ...)`` of numpy rows (numpy
    scalars for 1-d arrays). `DataLoader` does not go through it: it indexes `arrays` with
    a whole batch of indices at once.
    """

    def __init__(self, *tensors: ArrayLike | Tensor):
        arrays = tuple(np.asarray(t) for t in tensors)
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        shapes = ", ".join(str(a.shape) for a in arrays)
        if any(a.ndim == 0 for a in arrays):
            raise ValueError(f"TensorDataset: arrays need a first (example) axis; got {shapes}")
        if len({a.shape[0] for a in arrays}) > 1:
            raise ValueError(
                f"TensorDataset: all arrays need the same first dimension (number of examples); "
                f"got shapes {shapes}"
            )
        self.arrays = arrays

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order.

    Parameters
    ----------
    dataset : Dataset
        The underlying data set (not copied).
    indices : sequence of int or ndarray of shape (M,)
        Indices into ``dataset``, each in ``[0, len(dataset))``; stored as int64.

    Raises
    ------
    ValueError
        If ``indices`` is not 1-d or an index is out of range.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray):
        indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if indices.ndim != 1:
            raise ValueError(f"Subset: indices must be 1-d, got shape {indices.shape}")
        bad = indices[(indices < 0) | (indices >= n)]
        if bad.size:
            raise ValueError(
                f"Subset: index {bad[0]} out of range for a data set of length {n} "
                f"({bad.size} bad indices)"
            )
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Turn ``lengths`` (counts summing to ``n``, or fractions summing to 1) into counts."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if all(isinstance(x, numbers.Integral) for x in lengths):
        if sum(lengths) != n:
            raise ValueError(
                f"random_split: lengths {lengths} sum to {sum(lengths)}, not to the data set "
                f"length {n}"
            )
        return [int(x) for x in lengths]
    total = math.fsum(lengths)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(
            f"random_split: fractional lengths {lengths} sum to {total}, not to 1 "
            f"(or give integer counts summing to {n})"
        )
    # Floor, then hand the remainder out one each to the first splits, as PyTorch does, so
    # [0.5, 0.5] of 5 gives [3, 2].
    counts = [math.floor(n * x) for x in lengths]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Dataset, lengths: Sequence[float], generator: GeneratorLike = None
) -> list[Subset]:
    """Split ``dataset`` into disjoint random subsets, e.g. train / dev / test.

    Parameters
    ----------
    dataset : Dataset
        The data set to split (not copied).
    lengths : sequence of int or of float
        Either counts summing to ``len(dataset)``, or fractions summing to 1; fractions are
        floored and the leftover examples go one each to the first splits (as in PyTorch).
    generator : int, numpy Generator or None
        Source of the shuffle: a seed or Generator makes the split reproducible; None uses
        the global generator (see `autodiff.manual_seed`).

    Returns
    -------
    list of Subset
        One per entry of ``lengths``; together they cover every index exactly once.

    Raises
    ------
    ValueError
        If a length is negative or the lengths do not sum to ``len(dataset)`` (or to 1).
    """
    counts = _split_lengths(len(dataset), lengths)
    order = resolve(generator).permutation(len(dataset))
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
