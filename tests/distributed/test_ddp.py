"""DistributedDataParallel on a world of threads (no MPI): replicas start and stay identical,
and N ranks train as one process on the concatenated batch."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.distributed import DistributedDataParallel, LocalCommunicator
from tests.distributed.threads import run_ranks
from tests.distributed.training import make_model, train_ddp, train_single


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_ranks_match_one_process_on_the_global_batch(world_size):
    results, calls = run_ranks(world_size, train_ddp)
    for weights in results[1:]:
        for w0, w in zip(results[0], weights):
            np.testing.assert_array_equal(w, w0)  # bit-identical replicas
    for w, ref in zip(results[0], train_single(world_size)):
        np.testing.assert_allclose(w, ref, rtol=1e-5, atol=1e-6)
    # one broadcast at construction, then one allreduce per step (the model fits one bucket)
    kinds = [kind for rank, kind, _ in calls if rank == 0]
    assert kinds == ["broadcast_"] + ["allreduce_"] * 4


def test_construction_broadcasts_rank_0_parameters_and_buffers():
    def build(comm):
        ad.manual_seed(comm.rank)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        model[1].running_mean.data[...] = comm.rank + 5.0
        ddp = DistributedDataParallel(model, comm)
        return [t.data.copy() for t in (*ddp.parameters(), *ddp.buffers())]

    (first, second), _ = run_ranks(2, build)
    ad.manual_seed(0)
    expected = nn.Linear(3, 4)
    np.testing.assert_array_equal(first[0], expected.weight.data)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[4], np.full(4, 5.0))  # running_mean, rank 0's


def test_buffers_follow_rank_0_before_each_training_forward():
    def step(comm):
        model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        ddp = DistributedDataParallel(model, comm)
        x = ad.tensor((np.arange(8).reshape(4, 2) * (comm.rank + 1.0)).astype(np.float32))
        ddp(x).sum().backward()
        ddp.sync_gradients()
        ddp(x)  # takes rank 0's running statistics first, then updates them with its own batch
        return model[1].running_mean.data.copy(), model[1].num_batches_tracked.data.copy()

    ((mean0, count0), (mean1, count1)), _ = run_ranks(2, step)
    assert count0 == count1 == 2
    assert not np.array_equal(mean0, mean1)  # the second update used each rank's own batch


def test_bucketing_makes_one_allreduce_per_bucket():
    def sync(comm, cap_mb):
        ad.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 2))
        ddp = DistributedDataParallel(model, comm, bucket_cap_mb=cap_mb)
        ddp(ad.ones(2, 64)).sum().backward()
        ddp.sync_gradients()
        return [p.grad.data.copy() for p in model.parameters()]

    one, calls = run_ranks(2, sync, 25.0)
    assert [n for r, k, n in calls if r == 0 and k == "allreduce_"] == [4 * (2 * 64 * 65 + 130)]
    many, calls = run_ranks(2, sync, 64 * 64 * 4 / 2**20)  # one 64x64 float32 weight per bucket
    assert len([n for r, k, n in calls if r == 0 and k == "allreduce_"]) == 4
    for a, b in zip(one[0], many[0]):
        np.testing.assert_array_equal(a, b)


def test_unused_parameters_get_the_average_or_zeros():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 1)
            self.b = nn.Linear(2, 1)
            self.never = nn.Linear(2, 1)

        def forward(self, x, head):
            return getattr(self, head)(x)

    def step(comm):
        ddp = DistributedDataParallel(TwoHeads(), comm)
        ddp(ad.ones(1, 2), "a" if comm.rank == 0 else "b").sum().backward()
        ddp.sync_gradients()
        return {name: p.grad.data.copy() for name, p in ddp.module.named_parameters()}

    (g0, g1), _ = run_ranks(2, step)
    for name in g0:
        np.testing.assert_array_equal(g0[name], g1[name])
    np.testing.assert_array_equal(g0["a.weight"], [[0.5, 0.5]])  # (ones + zeros) / 2
    np.testing.assert_array_equal(g0["b.bias"], [0.5])
    np.testing.assert_array_equal(g0["never.weight"], [[0.0, 0.0]])


def test_forgetting_sync_raises_and_no_sync_accumulates():
    model = make_model(seed=0)
    ddp = DistributedDataParallel(model, LocalCommunicator())
    x = ad.randn(2, 1, 6, 6)
    ddp(x).sum().backward()
    with pytest.raises(RuntimeError, match="sync_gradients"):
        ddp(x)
    with ad.no_grad():
        ddp(x)  # evaluation forwards are not training steps
    ddp.sync_gradients()
    ddp.zero_grad()
    with ddp.no_sync():
        ddp(x).sum().backward()
        ddp(x).sum().backward()
    ddp(x).sum().backward()
    ddp.sync_gradients()
    reference = make_model(seed=0)
    (reference(x).sum() * 3).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=1e-5, atol=1e-6)


def test_wrapper_forwards_and_saves_like_pytorch():
    model = make_model(seed=0)
    ddp = DistributedDataParallel(model, LocalCommunicator())
    assert ddp.module is model
    assert list(ddp.state_dict()) == [f"module.{k}" for k in model.state_dict()]
    x = ad.randn(3, 1, 6, 6)
    np.testing.assert_array_equal(ddp(x).data, model(x).data)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"module": "model"}, TypeError, "nn.Module, got str"),
        ({"comm": object()}, TypeError, "comm must have rank"),
        ({"bucket_cap_mb": 0}, ValueError, "bucket_cap_mb must be positive"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"module": make_model(seed=0), "comm": LocalCommunicator(), **kwargs}
    with pytest.raises(error, match=match):
        DistributedDataParallel(**args)
