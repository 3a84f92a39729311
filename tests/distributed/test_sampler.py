"""DistributedSampler: PyTorch's index lists, shards that cover the data set, DataLoader use."""

import numpy as np
import pytest

from autodiff.data import DataLoader, TensorDataset
from autodiff.distributed import DistributedSampler, LocalCommunicator

CASES = [(n, r, drop) for n in (0, 1, 5, 10, 11, 12) for r in (1, 2, 3, 4) for drop in (0, 1)]


def _torch_lists(torch, n, replicas, shuffle, drop_last, seed=0, epoch=0):
    out = []
    for rank in range(replicas):
        s = torch.utils.data.DistributedSampler(
            range(n), replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last
        )
        s.set_epoch(epoch)
        out.append(list(s))
    return out


def _ours(n, replicas, shuffle, drop_last, seed=0, epoch=0):
    out = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), None, replicas, rank, shuffle, seed, bool(drop_last))
        s.set_epoch(epoch)
        out.append((list(s), len(s)))
    return out


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_same_lists_as_torch_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    ours = _ours(n, replicas, False, drop_last)
    assert [indices for indices, _ in ours] == _torch_lists(torch, n, replicas, False, drop_last)
    assert all(length == len(indices) for indices, length in ours)


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_same_padding_and_sharding_as_torch_with_shuffle(monkeypatch, n, replicas, drop_last):
    """With torch's permutation in place of numpy's, the lists are torch's exactly."""
    torch = pytest.importorskip("torch")

    def torch_permutation(self):
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        return np.array(torch.randperm(len(self.dataset), generator=g).tolist(), dtype=np.int64)

    monkeypatch.setattr(DistributedSampler, "permutation", torch_permutation)
    ours = [indices for indices, _ in _ours(n, replicas, True, drop_last, seed=3, epoch=2)]
    assert ours == _torch_lists(torch, n, replicas, True, drop_last, seed=3, epoch=2)


def test_shards_partition_each_epoch_and_epochs_differ():
    n, replicas = 11, 3
    epochs = []
    for epoch in range(2):
        shards = [indices for indices, _ in _ours(n, replicas, True, False, seed=5, epoch=epoch)]
        flat = sum(shards, [])
        assert len(flat) == 12 and set(flat) == set(range(n))  # one index repeated as padding
        assert len({len(s) for s in shards}) == 1
        epochs.append(shards)
    assert epochs[0] != epochs[1]
    assert epochs[0] == [i for i, _ in _ours(n, replicas, True, False, seed=5, epoch=0)]


def test_plugs_into_dataloader():
    x = np.arange(10, dtype=np.float32)[:, None]
    data = TensorDataset(x, np.arange(10))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(data, num_replicas=2, rank=rank, seed=1)
        sampler.set_epoch(4)
        loader = DataLoader(data, batch_size=2, sampler=sampler)
        assert len(loader) == 3
        seen += [int(i) for _, y in loader for i in y.tolist()]
    assert sorted(seen) == list(range(10))


def test_world_from_communicator():
    sampler = DistributedSampler(range(4), LocalCommunicator(), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_replicas": 0, "rank": 0}, "num_replicas must be a positive int"),
        ({"num_replicas": 2, "rank": 2}, r"invalid rank 2.*\[0, 1\]"),
        ({"num_replicas": 2, "rank": -1}, "invalid rank -1"),
        ({"num_replicas": 2, "rank": 0, "seed": 1.5}, "seed must be an int"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DistributedSampler(range(4), **kwargs)


def test_pytorch_positional_num_replicas_is_refused():
    with pytest.raises(TypeError, match="num_replicas= and rank= by keyword"):
        DistributedSampler(range(4), 2, 0)
