"""SyncBatchNorm on a world of threads (no MPI): ranks holding shares of a batch compute what
one BatchNorm2d computes on the whole batch (outputs, input gradients, the sum of the weight
and bias gradients, running statistics), with one allreduce each way; DDP with SyncBatchNorm
trains as one process on the global batch."""

import numpy as np
import pytest

import autodiff as ad
import nn
from tests.distributed.sync_bn_cases import (
    check_against_one_process,
    layer_data,
    single_layer,
    sync_layer,
    train_ddp,
    train_single,
)
from tests.distributed.threads import run_ranks


@pytest.mark.parametrize("shares", [(3, 3), (4, 1, 2), (3, 0, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ranks_compute_batch_norm_of_the_global_batch(shares, dtype):
    results, calls = run_ranks(len(shares), sync_layer, dtype, shares)
    tolerance = 1e-10 if dtype == np.float64 else 2e-5
    check_against_one_process(results, single_layer(dtype, sum(shares)), tolerance, tolerance)
    assert results[0]["y0"].dtype == results[0]["gx0"].dtype == dtype
    # per training step one allreduce forward and one backward; eval communicates nothing
    kinds = [(kind, nbytes) for rank, kind, nbytes in calls if rank == 0]
    forward = ("allreduce_", len(shares) * (1 + 2 * 3) * 8)
    backward = ("allreduce_", 2 * 3 * 8)
    assert kinds == [forward, backward] * 2


def test_matches_torch_batch_norm_on_the_concatenated_batch():
    torch = pytest.importorskip("torch")

    results, _ = run_ranks(2, sync_layer, np.float64, (2, 3))
    x, upstream = layer_data(5, np.float64, 0)
    layer = torch.nn.BatchNorm2d(3, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        layer.weight[:] = torch.tensor([1.5, -0.5, 2.0], dtype=torch.float64)
        layer.bias[:] = torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64)
    xt = torch.from_numpy(x).requires_grad_()
    y = layer(xt)
    (y * torch.from_numpy(upstream)).sum().backward()
    np.testing.assert_allclose(np.concatenate([r["y0"] for r in results]), y.detach().numpy())
    np.testing.assert_allclose(np.concatenate([r["gx0"] for r in results]), xt.grad.numpy())
    gw = results[0]["gw0"] + results[1]["gw0"]
    np.testing.assert_allclose(gw, layer.weight.grad.numpy())


def test_a_global_batch_of_one_value_raises_on_every_rank():
    def step(comm):
        layer = nn.SyncBatchNorm(2, process_group=comm)
        x = np.ones((1 - comm.rank, 2), np.float32)  # rank 0 one example, rank 1 none
        try:
            layer(ad.tensor(x))
        except ValueError as error:
            return str(error), layer.num_batches_tracked.item()

    results, _ = run_ranks(2, step)
    for message, tracked in results:
        assert "more than 1 value per channel in the global batch" in message
        assert "world_size 2" in message and tracked == 0


@pytest.mark.parametrize("world_size", [1, 2])
def test_ddp_with_sync_batchnorm_trains_as_one_process(world_size):
    results, _ = run_ranks(world_size, train_ddp)
    for state in results[1:]:
        for a, b in zip(results[0], state):
            np.testing.assert_array_equal(a, b)  # bit-identical replicas
    reference = train_single(world_size)
    assert len(results[0]) == len(reference) == 9  # 6 parameters, 3 buffers
    for a, ref in zip(results[0], reference):
        np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-5)
