"""Samplers: the order in which `DataLoader` visits a data set's indices, and their batching.

As in `torch.utils.data`: a sampler yields indices (ints), a batch sampler yields lists of them.
Random samplers take `generator` as everything in `autodiff.data` does: a seed (one Generator
kept for the sampler's lifetime, so each epoch draws anew), a numpy Generator, or None for the
library's global generator, looked up at the start of each epoch (see `autodiff.manual_seed`).
"""

import numbers
from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy as np
from numpy.typing import ArrayLike

from autodiff.data.dataset import GeneratorLike
from autodiff.random import own, resolve

__all__ = [
    "BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
    "WeightedRandomSampler",
]  # fmt: skip


def _positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _check_bool(owner: str, name: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be a bool, got {value!r}")


class Sampler:
    """Base class: `__iter__` yields indices (or lists of indices, for a batch sampler);
    `__len__` is optional, and `DataLoader`'s length needs it."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1, in order."""

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a new permutation every epoch, or draws with replacement.

    Parameters
    ----------
    data_source : sized
        The data set; only its length is used.
    replacement : bool
        Draw `num_samples` indices independently (with repeats) instead of permuting.
    num_samples : int, optional
        Indices per epoch, default len(data_source). Without replacement, more than the length
        chains several permutations, as PyTorch's does.
    generator : int, numpy Generator or None
        See the module docstring.

    Raises
    ------
    ValueError
        `replacement` is not a bool, or `num_samples` is not a positive int (ValueError for
        both, as PyTorch).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: GeneratorLike = None,
    ):
        _check_bool("RandomSampler", "replacement", replacement)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        if num_samples is not None:
            _positive_int("RandomSampler", "num_samples", num_samples)
        self.generator = own(generator)

    @property
    def num_samples(self) -> int:
        """Indices per epoch (the data set's current length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, rng = len(self.data_source), resolve(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, size=self.num_samples).tolist())
        if n == 0:  # nothing to draw from (PyTorch refuses at construction; an empty epoch here)
            return iter(())
        full, rest = divmod(self.num_samples, n)
        orders = [rng.permutation(n) for _ in range(full)]
        if rest:
            orders.append(rng.permutation(n)[:rest])
        return iter(np.concatenate(orders).tolist() if orders else [])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order every epoch.

    Parameters
    ----------
    indices : sequence of int
        The indices to visit, each once per epoch.
    generator : int, numpy Generator or None
        See the module docstring.
    """

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None):
        self.indices = indices
        self.generator = own(generator)

    def __iter__(self) -> Iterator[int]:
        order = resolve(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices 0 .. len(weights) - 1 drawn with probabilities proportional to `weights`.

    Parameters
    ----------
    weights : sequence of float, shape (N,)
        Non-negative weights, not necessarily summing to 1, not all zero.
    num_samples : int
        Indices per epoch, >= 1.
    replacement : bool
        Draw with replacement (the default); without, num_samples <= the number of non-zero
        weights.
    generator : int, numpy Generator or None
        See the module docstring.

    Raises
    ------
    ValueError
        `replacement` is not a bool, `weights` is not 1-d, has a negative or non-finite entry
        or sums to zero, or `num_samples` is not a positive int or too large to draw without
        replacement.
    """

    def __init__(
        self,
        weights: ArrayLike,
        num_samples: int,
        replacement: bool = True,
        generator: GeneratorLike = None,
    ):
        name = "WeightedRandomSampler"
        num_samples = _positive_int(name, "num_samples", num_samples)
        _check_bool(name, "replacement", replacement)
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"{name}: weights must be 1-d, got shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(f"{name}: weights must be finite, >= 0 and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"{name}: cannot draw {num_samples} indices without replacement from "
                f"{np.count_nonzero(weights)} non-zero weights"
            )
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = own(generator)

    def __iter__(self) -> Iterator[int]:
        rng = resolve(self.generator)
        p = self.weights / self.weights.sum()
        drawn = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of `sampler` into lists of `batch_size`.

    Parameters
    ----------
    sampler : iterable of int
        A sampler, or any iterable of indices.
    batch_size : int
        Indices per batch, >= 1.
    drop_last : bool
        Drop the last batch if it is shorter than batch_size.

    Raises
    ------
    ValueError
        `batch_size` is not a positive int, or `drop_last` is not a bool.
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool):
        self.batch_size = _positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler = sampler
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
