"""Convolution, pooling, padding, upsampling and fold layers against PyTorch's, with the same
weights: outputs, input and parameter gradients, state_dict keys and shapes, reprs. Also the
non-differentiable outputs (max-pool indices) and the argument errors PyTorch raises too."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

LAYERS = [
    # (constructor arguments shared by both libraries, input shape)
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv1d", (4, 6, 3), {"groups": 2, "dilation": 2, "padding": "same"}, (2, 4, 7)),
    ("Conv1d", (2, 3, 3), {"padding": 2, "padding_mode": "reflect"}, (3, 2, 6)),
    ("Conv2d", (3, 4, 3), {"padding": 1, "padding_mode": "circular"}, (2, 3, 5, 6)),
    ("Conv2d", (2, 3, (3, 2)), {"padding": (2, 1), "padding_mode": "replicate"}, (2, 5, 4)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "output_padding": 1, "groups": 2}, (2, 4, 3, 5)),
    (
        "ConvTranspose2d",
        (3, 2, (2, 3)),
        {"padding": (0, 1), "dilation": 2, "bias": False},
        (1, 3, 4, 4),
    ),
    ("ConvTranspose1d", (3, 2, 4), {"stride": 3, "padding": 1, "output_padding": 2}, (2, 3, 5)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool2d", (2,), {"dilation": 2}, (1, 2, 7, 7)),
    ("MaxPool1d", (3,), {"stride": 2, "ceil_mode": True}, (2, 3, 8)),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 6, 7)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (3, 5, 5)),
    ("AvgPool1d", (3, 2, 1), {"ceil_mode": True}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((4, 3),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("ZeroPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    ("ConstantPad2d", (2, 1.5), {}, (2, 3, 4)),
    ("ConstantPad1d", ((2, 0), -1.0), {}, (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 3, 0),), {}, (2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), {}, (3, 4)),
    ("ReplicationPad2d", (2,), {}, (1, 2, 3, 3)),
    ("ReplicationPad1d", ((0, 3),), {}, (2, 3, 4)),
    ("CircularPad2d", ((1, 0, 2, 1),), {}, (2, 1, 3, 4)),
    ("CircularPad1d", (3,), {}, (2, 3, 4)),
    ("ZeroPad1d", (1,), {}, (2, 3, 4)),
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 4, 5)),
    ("Upsample", (), {"size": (5, 9), "mode": "bilinear"}, (2, 3, 4, 5)),
    (
        "Upsample",
        (),
        {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True},
        (1, 2, 3, 5),
    ),
    ("Upsample", (), {"size": 7, "mode": "linear"}, (2, 3, 4)),
    ("UpsamplingNearest2d", (), {"size": (3, 7)}, (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}, (2, 3, 4, 5)),
    ("Unfold", ((2, 3),), {"padding": 1, "stride": 2}, (2, 3, 5, 6)),
    ("Fold", ((5, 6), 2), {"padding": 1}, (2, 12, 42)),
]


def _ids(case):
    name, args, kwargs, _ = case
    return f"{name}{args}{kwargs}"


@pytest.mark.parametrize("case", LAYERS, ids=[_ids(c) for c in LAYERS])
def test_layer_matches_torch_with_the_same_weights(case):
    name, args, kwargs, shape = case
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    for key, value in state.items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
        ours.state_dict()[key].data[...] = value.numpy()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    assert ya.shape == tuple(yt.shape) and ya.dtype == np.float32
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    gy = np.random.default_rng(1).standard_normal(ya.shape).astype(np.float32)
    ya.backward(ad.tensor(gy))
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=key)


def test_conv_transpose_init_matches_torchs_fan_in():
    layer = nn.ConvTranspose2d(64, 8, 3)  # fan_in = 8 * 3 * 3 (dim 1), as PyTorch computes
    assert layer.weight.shape == (64, 8, 3, 3)
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(72) + 1e-7
    assert np.abs(layer.bias.data).max() <= 1 / np.sqrt(72) + 1e-7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": (2, 3), "dilation": (2, 1)},
    ],
)
def test_max_pool_indices_match_torch_and_unpool_inverts(kwargs):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(np.float32)
    y, index = F.max_pool2d(ad.tensor(x), **kwargs, return_indices=True)
    yt, index_t = torch.nn.functional.max_pool2d(torch.tensor(x), **kwargs, return_indices=True)
    assert index.dtype == np.int64 and not index.requires_grad
    np.testing.assert_array_equal(index.data, index_t.numpy())
    np.testing.assert_array_equal(y.data, yt.numpy())
    if kwargs.get("dilation") is None:
        window = {k: v for k, v in kwargs.items() if k in ("kernel_size", "stride", "padding")}
        up = F.max_unpool2d(y, index, **window, output_size=x.shape)
        up_t = torch.nn.functional.max_unpool2d(yt, index_t, **window, output_size=x.shape)
        np.testing.assert_array_equal(up.data, up_t.numpy())
    unbatched = F.max_pool2d(ad.tensor(x[0]), **kwargs, return_indices=True)
    np.testing.assert_array_equal(unbatched[1].data, index_t[0].numpy())


def test_1d_and_adaptive_indices_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 9)).astype(np.float32)
    xt = torch.tensor(x)
    ours = F.max_pool1d(ad.tensor(x), 3, 2, 1, return_indices=True)[1]
    theirs = torch.nn.functional.max_pool1d(xt, 3, 2, 1, return_indices=True)[1]
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours = F.adaptive_max_pool1d(ad.tensor(x), 4, return_indices=True)[1]
    theirs = torch.nn.functional.adaptive_max_pool1d(xt, 4, return_indices=True)[1]
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    x4 = np.random.default_rng(1).standard_normal((2, 3, 7, 5)).astype(np.float32)
    ours = F.adaptive_max_pool2d(ad.tensor(x4), (3, 4), return_indices=True)[1]
    theirs = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x4), (3, 4), True)[1]
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    layer = nn.MaxPool1d(2, return_indices=True)
    values, index = layer(ad.tensor(x))
    up = nn.MaxUnpool1d(2)(values, index, output_size=(9,))
    up_t = torch.nn.MaxUnpool1d(2)(*torch.nn.MaxPool1d(2, return_indices=True)(xt), (9,))
    np.testing.assert_array_equal(up.data, up_t.numpy())


def _x(*shape):
    return ad.tensor(np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    "call,torch_call,words",
    [
        (lambda f, x: f.max_pool2d(x(1, 1, 5, 5), 2, 1, 2), ValueError, ["max_pool2d", "half"]),
        (lambda f, x: f.max_pool2d(x(5, 5), 2), ValueError, ["max_pool2d", "(5, 5)"]),
        (lambda f, x: f.max_pool1d(x(5), 2), ValueError, ["max_pool1d", "(5,)"]),
        (
            lambda f, x: f.avg_pool2d(x(1, 1, 5, 5), 2, divisor_override=0),
            ValueError,
            ["avg_pool2d", "divisor_override"],
        ),
        (
            lambda f, x: f.max_pool2d(x(1, 1, 7, 4), 3, 1, 0, 2),
            ValueError,
            ["max_pool2d", "larger than the padded input"],
        ),
        (
            lambda f, x: f.conv_transpose2d(
                x(2, 4, 5, 5), x(4, 3, 3, 3), stride=2, output_padding=2
            ),
            ValueError,
            ["conv_transpose2d", "output_padding (2, 2)", "(2, 4, 5, 5)"],
        ),
        (
            lambda f, x: f.conv_transpose2d(x(2, 4, 5, 5), x(3, 3, 3, 3)),
            ValueError,
            ["conv_transpose2d", "(3, 3, 3, 3)", "(2, 4, 5, 5)"],
        ),
        (
            lambda f, x: f.conv_transpose2d(x(2, 4, 5, 5), x(4, 3, 3, 3), groups=3),
            ValueError,
            ["conv_transpose2d", "groups=3"],
        ),
        (
            lambda f, x: f.conv_transpose2d(x(2, 4, 5, 5), x(4, 3, 3, 3), padding=4),
            ValueError,
            ["conv_transpose2d", "output size"],
        ),
        (lambda f, x: f.conv1d(x(5), x(3, 4, 3)), ValueError, ["conv1d", "(5,)"]),
        (
            lambda f, x: f.conv1d(x(2, 4, 5), x(3, 4, 3), padding=(1, 2)),
            ValueError,
            ["conv1d", "padding"],
        ),
        (lambda f, x: f.pad(x(5), (1, 1), mode="reflect"), ValueError, ["pad", "reflect", "(5,)"]),
        (
            lambda f, x: f.pad(x(1, 2, 5), (5, 1), mode="reflect"),
            ValueError,
            ["pad", "reflect", "(1, 2, 5)"],
        ),
        (lambda f, x: f.pad(x(1, 2, 5), (6, 1), mode="circular"), ValueError, ["pad", "circular"]),
        (
            lambda f, x: f.pad(x(1, 2, 5), (1, 1), mode="reflect", value=1.0),
            ValueError,
            ["pad", "value"],
        ),
        (lambda f, x: f.pad(x(1, 2, 5), (1, 2, 3)), ValueError, ["pad", "(1, 2, 3)"]),
        (lambda f, x: f.pad(x(1, 2, 5), (-3, -3)), ValueError, ["pad", "negative"]),
        (lambda f, x: f.fold(x(2, 13, 20), (5, 6), 2), ValueError, ["fold", "13"]),
        (lambda f, x: f.fold(x(2, 12, 21), (5, 6), 2), ValueError, ["fold", "21"]),
        (
            lambda f, x: f.interpolate(x(1, 1, 4, 4), size=3, mode="linear"),
            ValueError,
            ["interpolate", "linear"],
        ),
        (
            lambda f, x: f.interpolate(x(1, 1, 4, 4), size=3, align_corners=True),
            ValueError,
            ["interpolate", "align_corners"],
        ),
        (lambda f, x: f.interpolate(x(1, 1, 4, 4)), ValueError, ["interpolate", "size"]),
    ],
)
def test_errors_torch_raises_too(call, torch_call, words):
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        call(torch.nn.functional, lambda *s: torch.zeros(s))
    with pytest.raises(torch_call) as info:
        call(F, _x)
    for word in words:
        assert word in str(info.value)


def test_unpool_errors_torch_raises_too():
    functional = torch.nn.functional
    x, bad = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 16)
    with pytest.raises(RuntimeError):
        functional.max_unpool2d(x, bad, 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: found an invalid max index 16"):
        F.max_unpool2d(_x(1, 1, 2, 2), ad.tensor(bad.numpy()), 2)
    with pytest.raises(ValueError):
        functional.max_unpool2d(x, bad * 0, 2, output_size=(6, 6))
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(6, 6\)"):
        F.max_unpool2d(_x(1, 1, 2, 2), ad.tensor(bad.numpy() * 0), 2, output_size=(6, 6))
    with pytest.raises(TypeError, match="max_unpool2d: indices must be int64"):
        F.max_unpool2d(_x(1, 1, 2, 2), ad.tensor(np.zeros((1, 1, 2, 2), np.int32)), 2)
