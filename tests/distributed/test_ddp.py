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
        return {name: p.grad.data.copy() for name, p in ddp.module.named_parameters()}

    (g0, g1), _ = run_ranks(2, step)
    for name in g0:
        np.testing.assert_array_equal(g0[name], g1[name])
    np.testing.assert_array_equal(g0["a.weight"], [[0.5, 0.5]])  # (ones + zeros) / 2
    np.testing.assert_array_equal(g0["b.bias"], [0.5])
    np.testing.assert_array_equal(g0["never.weight"], [[0.0, 0.0]])


def _micro_batches(comm):
    """This rank's 3 micro-batches (2 examples each) and the 12-example global batch."""
    x = np.random.default_rng(3).standard_normal((2, 3, 2, 1, 6, 6)).astype(np.float32)
    return x[comm.rank], x.transpose(1, 0, 2, 3, 4, 5).reshape(12, 1, 6, 6)


def test_no_sync_accumulates_and_the_next_backward_averages_the_sum():
    def accumulate(comm):
        ddp = DistributedDataParallel(make_model(seed=comm.rank), comm)
        micro, _ = _micro_batches(comm)
        with ddp.no_sync():
            for x in micro[:2]:
                ddp(ad.tensor(x)).sum().backward()  # local: no allreduce
            local = [p.grad.data.copy() for p in ddp.parameters()]
        ddp(ad.tensor(micro[2])).sum().backward()  # averages all three
        return local, [p.grad.data.copy() for p in ddp.parameters()]

    results, calls = run_ranks(2, accumulate)
    assert [k for r, k, _ in calls if r == 0] == ["broadcast_", "allreduce_"]
    assert not np.array_equal(results[0][0][0], results[1][0][0])  # unaveraged inside
    reference = make_model(seed=0)
    (reference(ad.tensor(_micro_batches(LocalCommunicator())[1])).sum() / 2).backward()
    for g0, g1, ref in zip(results[0][1], results[1][1], reference.parameters()):
        np.testing.assert_array_equal(g0, g1)
        np.testing.assert_allclose(g0, ref.grad.data, rtol=1e-5, atol=1e-5)


def test_backward_averages_once_whatever_the_forwards_and_hooks():
    def step(comm):
        ddp = DistributedDataParallel(make_model(seed=0), comm)
        x = ad.randn(2, 1, 6, 6) * (comm.rank + 1)
        with ad.no_grad():
            ddp(x)  # evaluation forwards change nothing
        (ddp(x).sum() + ddp(x * 2).sum()).backward()  # two forwards, one backward
        ad.grad(ddp(x).sum(), list(ddp.parameters()))  # writes no .grad: averages nothing
        return [p.grad.data.copy() for p in ddp.parameters()]

    (g0, g1), calls = run_ranks(2, step)
    assert [k for r, k, _ in calls if r == 0] == ["broadcast_", "allreduce_"]
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)


def test_explicit_sync_gradients_keeps_the_average():
    model = make_model(seed=0)
    ddp = DistributedDataParallel(model, LocalCommunicator())
    x = ad.randn(2, 1, 6, 6)
    ddp(x).sum().backward()
    before = [p.grad.data.copy() for p in model.parameters()]
    ddp.sync_gradients()  # for custom loops; after a synced backward it changes nothing
    for p, g in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.grad.data, g)


def test_a_dropped_wrapper_no_longer_averages():
    calls = []

    class Counting(LocalCommunicator):
        def allreduce_(self, array, op="sum"):
            calls.append(array.nbytes)
            return array

    model = make_model(seed=0)
    DistributedDataParallel(model, Counting())
    ddp = DistributedDataParallel(model, Counting())  # the first wrapper is garbage now
    ddp(ad.randn(2, 1, 6, 6)).sum().backward()
    assert len(calls) == 1


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
