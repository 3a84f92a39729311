import numpy as np
import pytest

from autodiff.data import Dataset, Subset, TensorDataset, random_split
from autodiff.tensor import Tensor


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_tensor_dataset_items_and_length():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([5, 6, 7, 8])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[2]
    np.testing.assert_array_equal(xi, x[2])
    assert yi == 7
    assert ds.arrays[0] is x  # stored without copying


def test_tensor_dataset_accepts_tensors_and_lists():
    ds = TensorDataset(Tensor(np.ones((3, 2), dtype=np.float64)), [1, 2, 3])
    assert ds.arrays[0].dtype == np.float64
    assert ds.arrays[1].tolist() == [1, 2, 3]


def test_tensor_dataset_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\), \(5,\)"):
        TensorDataset(np.zeros((4, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="first"):
        TensorDataset(np.zeros(()))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_maps_indices():
    ds = TensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [7, 2, 2])
    assert len(sub) == 3
    assert [sub[i][0] for i in range(3)] == [70, 20, 20]
    with pytest.raises(ValueError, match="out of range"):
        Subset(ds, [0, 10])


@pytest.mark.parametrize(
    ("lengths", "sizes"),
    [([6, 3, 1], [6, 3, 1]), ([0.6, 0.2, 0.2], [6, 2, 2]), ([0.5, 0.5], [5, 5])],
)
def test_random_split_sizes_and_disjoint(lengths, sizes):
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, lengths, generator=0)
    assert [len(p) for p in parts] == sizes
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))


def test_random_split_fraction_remainder_goes_to_first_splits():
    parts = random_split(TensorDataset(np.arange(5)), [0.5, 0.5], generator=0)
    assert [len(p) for p in parts] == [3, 2]
    parts = random_split(TensorDataset(np.arange(1797)), [0.6, 0.2, 0.2], generator=0)
    assert [len(p) for p in parts] == [1079, 359, 359]


def test_random_split_is_seeded():
    ds = TensorDataset(np.arange(50))
    a = random_split(ds, [30, 20], generator=3)
    b = random_split(ds, [30, 20], generator=3)
    c = random_split(ds, [30, 20], generator=4)
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert not np.array_equal(a[0].indices, c[0].indices)


@pytest.mark.parametrize("lengths", [[6, 3], [0.5, 0.4], [11, -1], []])
def test_random_split_rejects_bad_lengths(lengths):
    with pytest.raises(ValueError, match="random_split"):
        random_split(TensorDataset(np.arange(10)), lengths)
