"""Samplers: what they yield, their lengths, reproducibility, and their use by DataLoader."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

DATA = list(range(10))


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_and_batch_samplers_match_torch(batch_size, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    ours = BatchSampler(SequentialSampler(DATA), batch_size, drop_last)
    theirs = torch_data.BatchSampler(torch_data.SequentialSampler(DATA), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    assert list(SequentialSampler(DATA)) == list(range(10)) and len(SequentialSampler(DATA)) == 10


def test_random_sampler_permutes_anew_every_epoch_and_reproducibly():
    sampler = RandomSampler(DATA, generator=0)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == DATA and first != second
    again = RandomSampler(DATA, generator=0)
    assert [list(again), list(again)] == [first, second]
    ad.manual_seed(3)
    shared = list(RandomSampler(DATA))
    ad.manual_seed(3)
    assert list(RandomSampler(DATA)) == shared
    assert all(type(i) is int for i in first)


def test_random_sampler_num_samples_and_replacement():
    chained = list(RandomSampler(DATA, num_samples=25, generator=1))
    assert len(chained) == 25
    assert sorted(chained[:10]) == sorted(chained[10:20]) == DATA  # whole permutations first
    assert len(set(chained[20:])) == 5
    drawn = RandomSampler(DATA, replacement=True, num_samples=200, generator=1)
    values = list(drawn)
    assert len(drawn) == len(values) == 200 and set(values) == set(DATA)
    assert len(RandomSampler(DATA)) == 10


def test_subset_random_sampler():
    indices = [7, 3, 9, 1]
    sampler = SubsetRandomSampler(indices, generator=2)
    epochs = [list(sampler) for _ in range(5)]
    assert all(sorted(e) == sorted(indices) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1 and len(sampler) == 4


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.0, 1.0, 3.0, 0.0]
    values = np.array(list(WeightedRandomSampler(weights, 4000, generator=0)))
    assert set(values.tolist()) == {1, 2}
    assert abs((values == 2).mean() - 0.75) < 0.03
    unique = list(WeightedRandomSampler([1, 1, 1, 5], 3, replacement=False, generator=0))
    assert len(set(unique)) == 3


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RandomSampler(DATA, num_samples=0), "num_samples must be a positive int"),
        (lambda: RandomSampler(DATA, replacement=1), "replacement must be a bool"),
        (lambda: BatchSampler(DATA, 0, False), "batch_size must be a positive int"),
        (lambda: BatchSampler(DATA, 2, None), "drop_last must be a bool"),
        (lambda: WeightedRandomSampler([1.0, -1.0], 2), "weights must be finite, >= 0"),
        (lambda: WeightedRandomSampler([0.0, 0.0], 2), "not all zero"),
        (lambda: WeightedRandomSampler([[1.0]], 2), "weights must be 1-d"),
        (lambda: WeightedRandomSampler([1.0], 2.5), "num_samples must be a positive int"),
        (lambda: WeightedRandomSampler([1, 0, 1], 3, replacement=False), "cannot draw 3"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_loader_with_a_sampler_and_a_batch_sampler():
    x = np.arange(10, dtype=np.float32)
    ds = TensorDataset(x, np.arange(10))
    loader = DataLoader(ds, batch_size=4, sampler=[9, 0, 8, 1, 7])
    assert [yb.data.tolist() for _, yb in loader] == [[9, 0, 8, 1], [7]]
    loader = DataLoader(ds, batch_sampler=[[3, 4], [0]])
    assert [yb.data.tolist() for _, yb in loader] == [[3, 4], [0]] and len(loader) == 2
    loader = DataLoader(ds, batch_size=None, sampler=[2, 5])
    examples = list(loader)
    assert [y.data.tolist() for _, y in examples] == [2, 5] and examples[0][0].shape == ()
    assert len(loader) == 2
