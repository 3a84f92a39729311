import numpy as np
import pytest

import autodiff as ad
from autodiff.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from autodiff.tensor import Tensor


def _dataset(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(x, np.arange(n))


def _epoch_labels(loader):
    return np.concatenate([yb.data for _, yb in loader]).tolist()


class _Squares(Dataset):
    """A data set with no arrays behind it, so the loader collates example by example."""

    def __getitem__(self, index):
        if not 0 <= index < 7:
            raise IndexError(index)
        return {"x": np.full(2, index, dtype=np.float64), "y": index * index}

    def __len__(self):
        return 7


def test_batches_in_order_without_shuffle():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32
    assert yb.dtype == np.int64
    assert [b[1].data.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_drop_last():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(yb) for _, yb in loader] == [4, 4]
    assert len(DataLoader(_dataset(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(_dataset(3), batch_size=4, drop_last=True)) == 0


def test_shuffle_visits_every_example_once_per_epoch_in_a_new_order():
    loader = DataLoader(_dataset(50), batch_size=8, shuffle=True, generator=0)
    first, second = _epoch_labels(loader), _epoch_labels(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second


def test_shuffle_is_reproducible_with_a_seed():
    def epochs(seed):
        loader = DataLoader(_dataset(30), batch_size=7, shuffle=True, generator=seed)
        return [_epoch_labels(loader) for _ in range(3)]

    assert epochs(1) == epochs(1)
    assert epochs(1) != epochs(2)
    rng = np.random.default_rng(5)
    shared = DataLoader(_dataset(30), batch_size=7, shuffle=True, generator=rng)
    assert _epoch_labels(shared) == epochs(np.random.default_rng(5))[0]


def test_without_a_generator_manual_seed_makes_shuffling_reproducible():
    loader = DataLoader(_dataset(30), batch_size=7, shuffle=True)
    ad.manual_seed(0)
    first = [_epoch_labels(loader), _epoch_labels(loader)]
    ad.manual_seed(0)  # after construction: the loader looks the global generator up per epoch
    assert [_epoch_labels(loader), _epoch_labels(loader)] == first
    ad.manual_seed(0)
    split = random_split(_dataset(30), [20, 10])[0].indices
    ad.manual_seed(0)
    np.testing.assert_array_equal(random_split(_dataset(30), [20, 10])[0].indices, split)


def test_inputs_stay_paired_with_labels_under_shuffle():
    loader = DataLoader(_dataset(20), batch_size=6, shuffle=True, generator=0)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.data[:, 0], 3 * yb.data)


def test_fast_path_matches_collating_examples_one_by_one():
    ds = Subset(_dataset(20), np.arange(20)[::-1])
    fast = list(DataLoader(ds, batch_size=6, shuffle=True, generator=0))
    slow = list(DataLoader(ds, batch_size=6, shuffle=True, generator=0, collate_fn=default_collate))
    assert len(fast) == len(slow)
    for fb, sb in zip(fast, slow, strict=True):
        for f, s in zip(fb, sb, strict=True):
            assert f.dtype == s.dtype
            np.testing.assert_array_equal(f.data, s.data)


def test_subsets_of_random_split_load_their_own_examples():
    train, test = random_split(_dataset(20), [15, 5], generator=0)
    labels = _epoch_labels(DataLoader(test, batch_size=2))
    assert labels == test.indices.tolist()


def test_batches_do_not_alias_the_dataset():
    ds = _dataset(4)
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    xb.data[...] = -1
    assert ds.arrays[0].min() >= 0


def test_generic_dataset_with_dict_examples():
    loader = DataLoader(_Squares(), batch_size=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert batches[0]["x"].shape == (3, 2) and batches[0]["x"].dtype == np.float64
    assert batches[0]["y"].dtype == np.int64
    assert batches[2]["y"].data.tolist() == [36]


def test_custom_collate_receives_examples():
    loader = DataLoader(_dataset(5), batch_size=2, collate_fn=len)
    assert list(loader) == [2, 2, 1]


def test_default_collate_numbers_and_tensors():
    assert default_collate([1.5, 2.0]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([Tensor(np.ones(2)), Tensor(np.zeros(2))]).shape == (2, 2)
    assert default_collate(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(("batch_size", "error"), [(0, ValueError), (2.0, TypeError)])
def test_bad_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size"):
        DataLoader(_dataset(), batch_size=batch_size)


def test_an_empty_data_set_shuffled_gives_an_empty_epoch():
    loader = DataLoader(TensorDataset(np.zeros((0, 2), np.float32)), batch_size=4, shuffle=True)
    assert list(loader) == [] and len(loader) == 0
