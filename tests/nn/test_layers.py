"""Layers against torch.nn with copied weights: forward, input and parameter gradients, train and
eval mode, BatchNorm running statistics; PyTorch's default initialisation; reprs and errors."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn

try:
    import torch
except ImportError:  # the torch comparisons skip; the rest still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _copy_state(ours, theirs):
    """Load our module's parameters and buffers into the torch module."""
    state = {k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _check_step(ours, theirs, x, seed=1, rtol=1e-5, atol=1e-5):
    """One forward and backward through both modules; compare outputs and every gradient."""
    xt = ad.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    out, t_out = ours(xt), theirs(tx)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=rtol, atol=atol)
    gy = _rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(gy)
    t_out.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, t_params[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )
    ours.zero_grad()
    theirs.zero_grad()


def _check_buffers(ours, theirs):
    t_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.data, t_buffers[name].numpy(), rtol=1e-5, atol=1e-6)


# ---- Linear ------------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(bias):
    ours, theirs = nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias)
    _copy_state(ours, theirs)
    _check_step(ours, theirs, _rng(1).standard_normal((4, 5)).astype(np.float32))
    _check_step(ours, theirs, _rng(2).standard_normal((2, 4, 5)).astype(np.float32))
    assert repr(ours) == repr(theirs)


def test_linear_default_init_is_pytorchs():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) on fan_in 400
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


def test_linear_init_follows_the_seed_and_dtype():
    ad.manual_seed(4)
    a = nn.Linear(3, 2)
    ad.manual_seed(4)
    b = nn.Linear(3, 2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    layer = nn.Linear(3, 2, dtype=np.float64)
    assert layer.weight.dtype == layer.bias.dtype == np.float64
    assert layer(ad.randn(4, 3, dtype=np.float64)).dtype == np.float64
    assert nn.Linear(3, 2, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 2).named_parameters()] == ["weight", "bias"]


# ---- BatchNorm ----------------------------------------------------------------------------------


def _bn_pair(cls, n, **kwargs):
    ours = getattr(nn, cls)(n, **kwargs)
    theirs = getattr(torch.nn, cls)(n, **kwargs)
    rng = _rng(5)
    if ours.weight is not None:  # non-trivial affine parameters
        ours.weight.data[:] = rng.uniform(0.5, 2, n)
    if ours.bias is not None:
        ours.bias.data[:] = rng.standard_normal(n)
    _copy_state(ours, theirs)
    return ours, theirs


@needs_torch
@pytest.mark.parametrize(
    ("cls", "shape"),
    [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (4, 4, 5)), ("BatchNorm2d", (4, 4, 3, 5))],
)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": 0.3, "eps": 1e-3}, {"momentum": None}, {"affine": False}, {"bias": False}],
    ids=["default", "momentum-eps", "cumulative", "no-affine", "no-bias"],
)
def test_batch_norm_layers_match_torch_in_train_and_eval(cls, shape, kwargs):
    ours, theirs = _bn_pair(cls, shape[1], **kwargs)
    rng = _rng(6)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        _check_step(ours, theirs, x, seed=step, atol=1e-4)
        _check_buffers(ours, theirs)
    assert ours.num_batches_tracked.item() == 4
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    _check_step(ours, theirs, x, atol=1e-4)
    _check_buffers(ours, theirs)  # unchanged in eval mode
    assert ours.num_batches_tracked.item() == 4


@needs_torch
def test_batch_norm_without_running_stats_uses_batch_stats_in_eval_too():
    ours, theirs = _bn_pair("BatchNorm2d", 3, track_running_stats=False)
    assert list(ours.named_buffers()) == []
    x = _rng(7).standard_normal((4, 3, 2, 2)).astype(np.float32)
    _check_step(ours, theirs, x, atol=1e-4)
    ours.eval()
    theirs.eval()
    _check_step(ours, theirs, x, atol=1e-4)


@needs_torch
def test_batch_norm_state_dict_and_repr_match_torch():
    ours, theirs = nn.BatchNorm2d(6), torch.nn.BatchNorm2d(6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert repr(nn.BatchNorm1d(3, momentum=None, affine=False)) == repr(
        torch.nn.BatchNorm1d(3, momentum=None, affine=False)
    )


def test_batch_norm_float64_and_reset():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn(ad.randn(5, 3, dtype=np.float64) + 4)
    assert bn.running_mean.dtype == np.float64 and bn.running_mean.data.max() > 0.1
    assert bn.num_batches_tracked.dtype == np.int64
    bn.weight.data[:] = 3
    bn.reset_parameters()
    np.testing.assert_array_equal(bn.running_mean.data, 0)
    np.testing.assert_array_equal(bn.running_var.data, 1)
    np.testing.assert_array_equal(bn.weight.data, 1)
    assert bn.num_batches_tracked.item() == 0


def test_batch_norm_layers_check_their_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input, got 2D input"):
        nn.BatchNorm2d(3)(ad.zeros(4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input, got 4D"):
        nn.BatchNorm1d(3)(ad.zeros(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"BatchNorm1d: input of shape \(4, 5\) float32 has 5 "):
        nn.BatchNorm1d(3)(ad.zeros(4, 5))


# ---- Dropout and activations ---------------------------------------------------------------------


def test_dropout_layer_train_and_eval():
    layer = nn.Dropout(0.25)
    x = ad.ones(10_000)
    y = layer(x).data
    assert 0.2 < np.mean(y == 0) < 0.3
    np.testing.assert_allclose(y[y != 0], 1 / 0.75)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "Dropout(p=0.25)"
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability"):
        nn.Dropout(-0.1)


@needs_torch
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
        (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
        (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
        (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
        (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
        (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
        (lambda: nn.Dropout(0.5).eval(), lambda: torch.nn.Dropout(0.5).eval()),
    ],
    ids=["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout-eval"],
)
def test_activation_layers_match_torch(ours, theirs):
    x = _rng(8).standard_normal((4, 3, 2)).astype(np.float32)
    _check_step(ours(), theirs(), x)


def test_activation_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


# ---- a small model, end to end -------------------------------------------------------------------


@needs_torch
def test_mlp_with_batch_norm_and_cross_entropy_matches_torch():
    def build(lib):
        return lib.Sequential(
            lib.Linear(6, 8), lib.BatchNorm1d(8), lib.ReLU(), lib.Dropout(0.0), lib.Linear(8, 3)
        )

    ours, theirs = build(nn), build(torch.nn)
    _copy_state(ours, theirs)
    rng = _rng(9)
    x = rng.standard_normal((10, 6)).astype(np.float32)
    t = rng.integers(0, 3, 10)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(ours(ad.tensor(x)), t)
    t_loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(
        theirs(torch.from_numpy(x)), torch.from_numpy(t)
    )
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-5)
    loss.backward()
    t_loss.backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), atol=1e-5)
    _check_buffers(ours, theirs)


# ---- Conv2d and pooling --------------------------------------------------------------------------


def test_conv2d_parameters_init_and_repr():
    conv = nn.Conv2d(4, 6, (3, 5), stride=2, padding=1, groups=2)
    assert conv.weight.shape == (6, 2, 3, 5) and conv.bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 5)  # fan_in = in_channels / groups * kh * kw
    assert np.abs(conv.weight.data).max() <= bound
    assert np.abs(conv.bias.data).max() <= bound
    big = nn.Conv2d(64, 64, 3)
    assert big.weight.data.std() == pytest.approx(1 / math.sqrt(64 * 9 * 3), rel=0.02)
    expected = "Conv2d(4, 6, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), groups=2)"
    assert repr(conv) == expected
    assert repr(nn.Conv2d(1, 2, 3, padding="same", bias=False)) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same, bias=False)"
    )
    assert nn.Conv2d(1, 2, 3, padding="valid").padding == "valid"


def test_conv2d_constructor_errors():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) .* divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"padding must be an int, a pair, 'same' or 'valid'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int >= 1"):
        nn.Conv2d(3, 4, 0)


def test_pool_layer_reprs():
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((2, 3))) == "AdaptiveAvgPool2d(output_size=(2, 3))"
    assert not isinstance(nn.AvgPool2d(2), nn.MaxPool2d)


@needs_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 2, "padding": 1},
        {"padding": "same", "dilation": 2},
        {"padding": (1, 0), "groups": 2, "bias": False},
    ],
)
def test_conv2d_layer_matches_torch(kwargs):
    pytest.importorskip("autodiff.ops.conv")
    ours, theirs = nn.Conv2d(4, 6, 3, **kwargs), torch.nn.Conv2d(4, 6, 3, **kwargs)
    _copy_state(ours, theirs)
    _check_step(ours, theirs, _rng(10).standard_normal((2, 4, 7, 6)).astype(np.float32), atol=1e-4)


@needs_torch
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("MaxPool2d", (2,)),
        ("MaxPool2d", (3, 2, 1)),
        ("AvgPool2d", (2,)),
        ("AvgPool2d", (3, 1, 1)),
        ("AdaptiveAvgPool2d", (1,)),
        ("AdaptiveAvgPool2d", ((2, 3),)),
    ],
)
def test_pool_layers_match_torch(name, args):
    pytest.importorskip("autodiff.ops.pool")
    x = _rng(11).standard_normal((2, 3, 6, 6)).astype(np.float32)
    _check_step(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x)
