"""LayerNorm, GroupNorm, InstanceNorm1d/2d and their functionals against torch's: outputs,
gradients, running statistics, state_dict keys, reprs, and the errors they raise."""

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.ops.normalization import LayerNorm as LayerNormOp

torch = pytest.importorskip("torch")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _randomise(ours, theirs, seed=0):
    """Random affine parameters, the same in both modules (loaded through the state_dict)."""
    rng = _rng(seed)
    state = {k: rng.uniform(0.5, 1.5, v.shape).astype(np.float32)
             for k, v in theirs.state_dict().items() if v.dtype == torch.float32}  # fmt: skip
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    ours.load_state_dict({k: ad.tensor(v) for k, v in state.items()}, strict=False)


def _compare(ours, theirs, x, rtol=1e-4, atol=1e-5):
    """Outputs, input gradients and parameter gradients of both modules on x."""
    xa = ad.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=rtol, atol=atol)
    gy = _rng(9).standard_normal(yt.shape).astype(np.float32)
    ya.backward(gy)
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, theirs_params[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((5,), {}, (4, 5)),
        ((5,), {"bias": False}, (2, 3, 5)),
        (([3, 5],), {"eps": 1e-3}, (2, 3, 5)),
        ((5,), {"elementwise_affine": False}, (4, 5)),
    ],
)
def test_layer_norm_module_matches_torch(args, kwargs, shape):
    ours, theirs = nn.LayerNorm(*args, **kwargs), torch.nn.LayerNorm(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _randomise(ours, theirs)
    _compare(ours, theirs, (_rng(1).standard_normal(shape) * 3 + 1).astype(np.float32))


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((2, 4), {}, (3, 4, 5)),
        ((3, 6), {"eps": 1e-3}, (2, 6, 2, 3)),
        ((1, 4), {"affine": False}, (2, 4, 3)),
        ((4, 4), {"bias": False}, (2, 4, 2)),
    ],
)
def test_group_norm_module_matches_torch(args, kwargs, shape):
    ours, theirs = nn.GroupNorm(*args, **kwargs), torch.nn.GroupNorm(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _randomise(ours, theirs)
    _compare(ours, theirs, (_rng(2).standard_normal(shape) * 2).astype(np.float32))


@pytest.mark.parametrize("cls", ["InstanceNorm1d", "InstanceNorm2d"])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("unbatched", [False, True])
def test_instance_norm_module_matches_torch_in_train_and_eval(cls, affine, track, unbatched):
    ours = getattr(nn, cls)(3, affine=affine, track_running_stats=track, momentum=0.3)
    theirs = getattr(torch.nn, cls)(3, affine=affine, track_running_stats=track, momentum=0.3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _randomise(ours, theirs)
    spatial = (5,) if cls == "InstanceNorm1d" else (3, 4)
    shape = (3, *spatial) if unbatched else (2, 3, *spatial)
    for step in range(2):
        _compare(ours, theirs, (_rng(step).standard_normal(shape) * 2 + 1).astype(np.float32))
    for name, buf in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].data, buf.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, (_rng(3).standard_normal(shape)).astype(np.float32))


def test_instance_norm_defaults_and_buffers_as_torch():
    layer = nn.InstanceNorm2d(4)
    assert not layer.affine and not layer.track_running_stats
    assert list(layer.state_dict()) == []
    tracked = nn.InstanceNorm1d(2, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    tracked(ad.tensor(_rng(4).standard_normal((3, 2, 4)).astype(np.float32)))
    assert tracked.num_batches_tracked.item() == 0  # as torch: instance norm does not count


def test_instance_norm_without_affine_warns_on_channel_mismatch_like_torch():
    x = ad.tensor(_rng(5).standard_normal((2, 4, 5)).astype(np.float32))
    with pytest.warns(UserWarning, match="4 channels"):
        y = nn.InstanceNorm1d(3)(x)
    np.testing.assert_allclose(y.data.mean(-1), 0, atol=1e-6)
    with pytest.raises(ValueError, match=r"InstanceNorm1d: input of shape \(2, 4, 5\)"):
        nn.InstanceNorm1d(3, affine=True)(x)


def test_functional_instance_norm_running_stats_match_torch():
    x = _rng(6).standard_normal((4, 3, 6)).astype(np.float32)
    rm, rv = ad.zeros(3), ad.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    F.instance_norm(ad.tensor(x), rm, rv, momentum=0.2)
    torch.nn.functional.instance_norm(torch.from_numpy(x), trm, trv, momentum=0.2)
    np.testing.assert_allclose(rm.data, trm.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(rv.data, trv.numpy(), rtol=1e-5)


def test_layer_norm_is_one_node_with_the_compact_rule():
    x = ad.tensor(_rng(7).standard_normal((4, 6)), requires_grad=True)
    w = ad.tensor(np.ones(6), requires_grad=True)
    y = F.layer_norm(x, 6, w)
    assert y.grad_fn.fn is LayerNormOp
    # the gradient of sum(y) is 0 wrt x: the output is centred for any x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 0, atol=1e-12)


def test_layer_norm_is_stable_for_a_large_offset():
    x = _rng(8).standard_normal((3, 8)) + 1e4
    ours = F.layer_norm(ad.tensor(x.astype(np.float32)), (8,)).data
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ours, expected, atol=2e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_layers_keep_the_dtype(dtype):
    x = ad.tensor(_rng(9).standard_normal((2, 4, 3)).astype(dtype), requires_grad=True)
    layers = [
        nn.LayerNorm(3, dtype=dtype),
        nn.GroupNorm(2, 4, dtype=dtype),
        nn.InstanceNorm1d(4, affine=True, dtype=dtype),
    ]
    for layer in layers:
        y = layer(x)
        assert y.dtype == dtype
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == dtype


def test_errors_name_the_op_shapes_and_dtypes():
    x = ad.tensor(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(4,\) is not the"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(3,\)"):
        F.layer_norm(x, 3, ad.ones(4))
    with pytest.raises(TypeError, match=r"layer_norm: bias has dtype float64 but input is float32"):
        F.layer_norm(x, 3, None, ad.tensor(np.zeros(3)))
    with pytest.raises(
        TypeError, match=r"layer_norm: expected a float tensor \(float32 or float64\)"
    ):
        F.layer_norm(ad.tensor(np.zeros((2, 3), np.int64)), 3)
    with pytest.raises(RuntimeError, match=r"group_norm: 4 channels .* num_groups=3"):
        F.group_norm(x, 3)
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(4\) must be divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element"):
        F.instance_norm(ad.tensor(np.zeros((2, 4, 1), np.float32)))
    with pytest.raises(ValueError, match=r"instance_norm: input needs shape \(N, C, \*spatial\)"):
        F.instance_norm(ad.tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are needed"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input, got 2D"):
        nn.InstanceNorm2d(4)(ad.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"LayerNorm: device 'cuda' is not available"):
        nn.LayerNorm(3, device="cuda")


def test_module_options_are_torchs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = nn.LayerNorm(4, 1e-3, True, False, "cpu", np.float64)
    assert layer.eps == 1e-3 and layer.bias is None and layer.weight.dtype == np.float64
    group = nn.GroupNorm(2, 4, 1e-3, False)
    assert group.weight is None and group.bias is None
    layer.weight.data[:] = 3
    layer.reset_parameters()
    np.testing.assert_array_equal(layer.weight.data, 1)
