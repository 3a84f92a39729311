"""nn.SyncBatchNorm on one process (a LocalCommunicator, or None): plain batch norm of any
(N, C, *) input, its gradients, its errors, and `convert_sync_batchnorm`. The multi-rank
behaviour is tested in tests/distributed/test_sync_batchnorm.py and test_mpi_sync_batchnorm.py."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.distributed import LocalCommunicator


class CountingCommunicator(LocalCommunicator):
    """A world of one that counts its collectives."""

    def __init__(self):
        self.calls = 0

    def allreduce_(self, array, op="sum"):
        self.calls += 1
        return super().allreduce_(array, op)


def _x(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return ad.tensor(rng.standard_normal(shape) * 2 + 3, dtype=dtype, requires_grad=True)


def _run(layer, x, seed=1):
    """Output, input gradient, weight and bias gradients of `sum(layer(x) * r)`."""
    x.grad = None
    layer.zero_grad()
    y = layer(x)
    r = np.random.default_rng(seed).standard_normal(y.shape).astype(y.dtype)
    (y * ad.tensor(r)).sum().backward()
    return [y.numpy().copy(), x.grad.numpy().copy()] + [
        p.grad.numpy().copy() for p in layer.parameters()
    ]


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 5), (2, 3, 2, 4), (2, 3, 2, 1, 3)], ids=str)
@pytest.mark.parametrize("process_group", [None, LocalCommunicator()], ids=["None", "local"])
def test_one_process_is_batch_norm_in_training_mode(shape, process_group):
    sync = nn.SyncBatchNorm(3, momentum=0.2, process_group=process_group, dtype=ad.float64)
    plain = nn.BatchNorm2d(3, momentum=0.2, dtype=ad.float64)
    plain._check_input_dim = lambda x: None  # the reference for any rank: F.batch_norm's
    for layer in (sync, plain):
        layer.weight.data[...] = [0.5, -1.0, 2.0]
        layer.bias.data[...] = [0.0, 1.0, -2.0]
    x = _x(shape)
    for step in range(2):
        for ours, ref in zip(_run(sync, x, seed=step), _run(plain, x, seed=step)):
            np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(sync, name).numpy(), getattr(plain, name).numpy())


def test_gradcheck_in_float64():
    layer = nn.SyncBatchNorm(3, process_group=LocalCommunicator(), dtype=ad.float64)
    layer.weight.data[...] = [0.5, -1.0, 2.0]
    r = ad.tensor(np.random.default_rng(2).standard_normal((3, 3, 2, 2)))
    # a nonlinear loss, so that the terms through the batch statistics do not cancel
    ad.gradcheck(lambda x, w, b: (layer(x) * r).tanh(), [_x((3, 3, 2, 2)), *layer.parameters()])


def test_float32_matches_torch_batch_norm():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((4, 3, 3, 2)).astype(np.float32) * 3 + 1
    ours = nn.SyncBatchNorm(3, momentum=None, process_group=LocalCommunicator())
    theirs = torch.nn.BatchNorm2d(3, momentum=None)
    xa, xt = ad.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    for _ in range(2):
        ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (ya * ya).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for name in ("weight", "bias"):
        ours_grad, theirs_grad = getattr(ours, name).grad, getattr(theirs, name).grad
        np.testing.assert_allclose(ours_grad.numpy(), theirs_grad.numpy(), rtol=1e-4, atol=1e-4)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        ours_buffer, theirs_buffer = getattr(ours, name), getattr(theirs, name)
        np.testing.assert_allclose(ours_buffer.numpy(), theirs_buffer.numpy(), rtol=1e-5)


def test_eval_mode_uses_the_running_statistics_without_communicating():
    comm = CountingCommunicator()
    layer = nn.SyncBatchNorm(3, process_group=comm, dtype=ad.float64)
    layer(_x((4, 3, 2)))
    assert comm.calls == 1  # training forward without a graph: no backward allreduce
    layer.eval()
    x = _x((4, 3, 2), seed=5)
    expected = F.batch_norm(x, layer.running_mean, layer.running_var, layer.weight, layer.bias)
    np.testing.assert_array_equal(layer(x).numpy(), expected.numpy())
    assert comm.calls == 1


def test_without_running_statistics_or_affine_parameters():
    comm = CountingCommunicator()
    layer = nn.SyncBatchNorm(2, affine=False, track_running_stats=False, process_group=comm)
    assert layer.running_mean is None and layer.weight is None and not layer.state_dict()
    x = _x((3, 2, 4), dtype=np.float32)
    y = layer(x)
    y.sum().backward()
    assert comm.calls == 2 and y.dtype == x.grad.dtype == ad.float32
    np.testing.assert_allclose(y.numpy().mean(axis=(0, 2)), 0, atol=1e-6)
    layer.eval()  # no running statistics: the batch's own, uncommunicated, as in PyTorch
    np.testing.assert_array_equal(layer(x).numpy(), F.batch_norm(x, None, None, training=True))
    assert comm.calls == 2


def test_an_empty_batch_gives_an_empty_output():
    layer = nn.SyncBatchNorm(3, process_group=LocalCommunicator())
    x = ad.tensor(np.zeros((0, 3, 2), np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="more than 1 value per channel in the global batch"):
        layer(x)  # alone, the global batch is empty too
    assert layer.num_batches_tracked.item() == 0
    layer.eval()
    assert layer(x).shape == (0, 3, 2)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(3, np.float32), r"SyncBatchNorm: expected at least 2D input .* \(3,\) float32"),
        (
            np.zeros((2, 4, 3), np.float32),
            r"SyncBatchNorm: input of shape \(2, 4, 3\) float32 has 4",
        ),
        (np.zeros((1, 3), np.float32), "sync_batch_norm: expected more than 1 value per channel"),
    ],
    ids=["1d", "channels", "one value"],
)
def test_bad_input_raises_before_any_state_changes(x, match):
    comm = CountingCommunicator()
    layer = nn.SyncBatchNorm(3, process_group=comm)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        layer(ad.tensor(x))
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert comm.calls == (1 if x.shape == (1, 3) else 0)  # only the global count can tell


def test_dtypes_and_process_group_are_checked():
    layer = nn.SyncBatchNorm(3)
    with pytest.raises(TypeError, match="running_mean has dtype float32 but input is float64"):
        layer(ad.tensor(np.zeros((2, 3, 3))))
    assert layer.num_batches_tracked.item() == 0
    with pytest.raises(TypeError, match="sync_batch_norm: expected a float tensor"):
        nn.SyncBatchNorm(3)(ad.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(TypeError, match="SyncBatchNorm: process_group must be .* got str"):
        nn.SyncBatchNorm(3, process_group="world")
    with pytest.raises(TypeError, match="convert_sync_batchnorm: module must be an nn.Module"):
        nn.SyncBatchNorm.convert_sync_batchnorm([nn.BatchNorm2d(3)])


def test_convert_sync_batchnorm_keeps_parameters_buffers_and_settings():
    ad.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4, eps=1e-3, momentum=None),
        nn.Sequential(nn.Flatten(), nn.Linear(16, 5), nn.BatchNorm1d(5, affine=False)),
    )
    model[1].running_mean.data[...] = 0.5
    model[2][2].eval()
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 1, 4, 4)).astype(np.float32))
    expected = model(x).numpy().copy()
    keys = list(model.state_dict())
    params = list(model.parameters())
    old_norm = model[1]
    comm = LocalCommunicator()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model, comm)
    assert converted is model  # children replaced in place
    first, second = model[1], model[2][2]
    assert isinstance(first, nn.SyncBatchNorm) and isinstance(second, nn.SyncBatchNorm)
    assert first.process_group is comm and second.process_group is comm
    assert (first.eps, first.momentum, second.affine) == (1e-3, None, False)
    assert first.training and not second.training
    assert first.weight is old_norm.weight and first.running_mean is old_norm.running_mean
    assert list(model.parameters()) == params and list(model.state_dict()) == keys
    np.testing.assert_array_equal(model(x).numpy(), expected)


def test_convert_sync_batchnorm_of_a_batch_norm_layer_returns_the_new_layer():
    layer = nn.BatchNorm1d(4, dtype=ad.float64, bias=False)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(layer)
    assert isinstance(converted, nn.SyncBatchNorm) and converted.process_group is None
    assert converted.weight is layer.weight and converted.bias is None
    assert converted.running_var.dtype == ad.float64
    assert "process_group=None" in repr(converted)
