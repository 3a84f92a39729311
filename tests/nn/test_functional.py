"""nn.functional: linear, batch_norm, dropout and the re-exported ops, against torch where it
has the same function (losses: test_losses.py)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff import ops

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the torch comparisons skip; the rest still runs
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _pair(arrays, requires_grad=True):
    """The same float32 arrays as autodiff tensors and as torch tensors."""
    ours = [ad.tensor(a, requires_grad=requires_grad) for a in arrays]
    theirs = [torch.from_numpy(a.copy()).requires_grad_(requires_grad) for a in arrays]
    return ours, theirs


def _backward_both(out, t_out, seed=1):
    gy = _rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(gy)
    t_out.backward(torch.from_numpy(gy))


def _close(a, b, rtol=1e-5, atol=1e-5):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(getattr(a, "data", a), b, rtol=rtol, atol=atol)


def test_reexports_are_the_library_ops():
    for name in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "pad"):
        assert getattr(F, name) is getattr(ops, name)
    assert set(F.__all__) >= {"conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"}


# ---- linear ------------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    rng = _rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (x_shape, (4, 3), (4,))]
    (x, w, b), (tx, tw, tb) = _pair(arrays)
    out = F.linear(x, w, b if bias else None)
    t_out = TF.linear(tx, tw, tb if bias else None)
    _close(out, t_out)
    _backward_both(out, t_out)
    for ours, theirs in [(x, tx), (w, tw)] + ([(b, tb)] if bias else []):
        _close(ours.grad, theirs.grad)
    if not bias:
        assert b.grad is None


def test_linear_checks_shapes():
    x, w = ad.zeros(5, 3), ad.zeros(4, 2)
    with pytest.raises(ValueError, match=r"linear: input of shape \(5, 3\) float32 .*\(4, 2\)"):
        F.linear(x, w)
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\)"):
        F.linear(x, ad.zeros(4, 3), ad.zeros(3))


# ---- batch_norm ----------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 2, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch_with_running_stats(shape, affine):
    rng = _rng(2)
    c = shape[1]
    w = rng.uniform(0.5, 2, c).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    rm, rv = ad.zeros(c), ad.ones(c)
    t_rm, t_rv = torch.zeros(c), torch.ones(c)
    for step in range(3):
        xa = (rng.standard_normal(shape) * 3 + step).astype(np.float32)
        (x, wt, bt), (tx, twt, tbt) = _pair([xa, w, b])
        weight, bias = (wt, bt) if affine else (None, None)
        t_weight, t_bias = (twt, tbt) if affine else (None, None)
        out = F.batch_norm(x, rm, rv, weight, bias, training=True, momentum=0.2, eps=1e-3)
        t_out = TF.batch_norm(tx, t_rm, t_rv, t_weight, t_bias, True, 0.2, 1e-3)
        _close(out, t_out)
        _backward_both(out, t_out, seed=step)
        _close(x.grad, tx.grad, atol=1e-4)
        if affine:
            _close(wt.grad, twt.grad, atol=1e-4)
            _close(bt.grad, tbt.grad, atol=1e-4)
        _close(rm, t_rm)
        _close(rv, t_rv)


@needs_torch
def test_batch_norm_eval_uses_running_stats_like_torch():
    rng = _rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4, 3, 2, 2), (3,), (3,))]
    rm_a = rng.standard_normal(3).astype(np.float32)
    rv_a = rng.uniform(0.5, 2, 3).astype(np.float32)
    (x, w, b), (tx, tw, tb) = _pair(arrays)
    rm, rv = ad.tensor(rm_a), ad.tensor(rv_a)
    out = F.batch_norm(x, rm, rv, w, b)
    t_out = TF.batch_norm(tx, torch.from_numpy(rm_a), torch.from_numpy(rv_a), tw, tb)
    _close(out, t_out)
    _backward_both(out, t_out)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        _close(ours.grad, theirs.grad, atol=1e-4)
    np.testing.assert_array_equal(rm.data, rm_a)  # not updated outside training
    np.testing.assert_array_equal(rv.data, rv_a)


def test_batch_norm_backward_uses_the_statistics_of_its_forward():
    # eval mode normalises with the running buffers; changing them before backward must not
    # change the gradient of this graph (its xhat belongs to the forward pass)
    rng = _rng(5)
    x = ad.tensor(rng.standard_normal((4, 3, 2)))
    weight = ad.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    rm, rv = ad.tensor(rng.standard_normal(3)), ad.tensor(rng.uniform(0.5, 2, 3))
    xhat = (x.data - rm.data[:, None]) / np.sqrt(rv.data[:, None] + 1e-5)
    out = F.batch_norm(x, rm, rv, weight, training=False)
    rm.data[...] = 100.0
    out.sum().backward()
    np.testing.assert_allclose(weight.grad.data, xhat.sum(axis=(0, 2)), rtol=1e-12)


def test_batch_norm_input_modified_before_backward_is_caught():
    x = ad.tensor(_rng(6).standard_normal((4, 3, 2)), requires_grad=True)
    h = x * 1
    out = F.batch_norm(h, None, None, training=True)  # saves h for backward
    h.mul_(2)
    with pytest.raises(RuntimeError, match="BatchNorm: a tensor saved for backward was modified"):
        out.sum().backward()


def test_batch_norm_training_output_is_normalised():
    x = ad.tensor(_rng(4).standard_normal((64, 3)) * 5 + 2)
    y = F.batch_norm(x, None, None, training=True).data
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), 1, atol=1e-5)  # biased variance, up to eps


def test_batch_norm_running_update_bumps_the_buffer_version():
    rm = ad.zeros(2)
    before = rm._version
    F.batch_norm(ad.randn(4, 2), rm, ad.ones(2), training=True)
    assert rm._version > before


def test_batch_norm_errors():
    x = ad.zeros(4, 3)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are needed"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        F.batch_norm(ad.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\)"):
        F.batch_norm(x, None, None, ad.ones(4), training=True)
    with pytest.raises(TypeError, match=r"batch_norm: running_var has dtype float64"):
        F.batch_norm(x, ad.zeros(3), ad.ones(3, dtype=np.float64))
    with pytest.raises(TypeError, match=r"batch_norm: running_mean must be a Tensor"):
        F.batch_norm(x, np.zeros(3, np.float32), ad.ones(3))
    with pytest.raises(ValueError, match=r"batch_norm: input needs shape \(N, C, ...\)"):
        F.batch_norm(ad.zeros(3), None, None, training=True)


# ---- dropout -------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_preserves_the_mean_and_drops_a_fraction_p(p):
    x = ad.ones(200_000)
    y = F.dropout(x, p, generator=0).data
    n = y.size
    frac_zero = np.mean(y == 0)
    assert abs(frac_zero - p) < 4 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(np.unique(y), [0, 1 / (1 - p)], rtol=1e-6)
    assert abs(y.mean() - 1) < 4 * np.sqrt(p / (1 - p) / n)


def test_dropout_gradient_is_the_mask():
    x = ad.tensor(_rng(5).standard_normal((50, 40)), requires_grad=True)
    y = F.dropout(x, 0.3, generator=1)
    y.sum().backward()
    mask = y.data / x.data
    np.testing.assert_allclose(x.grad.data, mask, rtol=1e-12)


def test_dropout_identity_in_eval_and_for_p_zero():
    x = ad.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p_one_gives_zeros_and_zero_gradient():
    x = ad.randn(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_seeding_and_dtype(dtype):
    x = ad.ones(100, dtype=dtype)
    ad.manual_seed(3)
    a = F.dropout(x, 0.5).data
    ad.manual_seed(3)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)
    assert a.dtype == dtype
    assert not np.array_equal(a, F.dropout(x, 0.5).data)  # the global generator moved on
    # one mask for a seed, whatever the dtype
    np.testing.assert_array_equal(
        F.dropout(ad.ones(100, dtype=np.float32), 0.5, generator=9).data != 0,
        F.dropout(ad.ones(100, dtype=np.float64), 0.5, generator=9).data != 0,
    )


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\], got 1.5"):
        F.dropout(ad.ones(3), 1.5)
    with pytest.raises(
        TypeError, match=r"dropout: expected a float tensor \(float32 or float64\), got int64"
    ):
        F.dropout(ad.tensor([1, 2]), 0.5)
    F.dropout(ad.ones(3), 0.5, True, False)  # PyTorch's 4th argument, `inplace`, is accepted
    with pytest.raises(TypeError):  # generator is keyword-only
        F.dropout(ad.ones(3), 0.5, True, False, 0)


# ---- convolution and pooling (ops written separately) ------------------------------------------


@needs_torch
def test_conv2d_and_pooling_match_torch():
    pytest.importorskip("autodiff.ops.conv")
    pytest.importorskip("autodiff.ops.pool")
    rng = _rng(6)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 7, 6), (6, 2, 3, 3))]
    arrays.append(rng.standard_normal(6).astype(np.float32))
    (x, w, b), (tx, tw, tb) = _pair(arrays)
    out = F.conv2d(x, w, b, stride=2, padding=1, groups=2)
    t_out = TF.conv2d(tx, tw, tb, stride=2, padding=1, groups=2)
    _close(out, t_out, atol=1e-4)
    pooled = [
        F.max_pool2d(out, 2),
        F.avg_pool2d(out, 2, stride=1, padding=1),
        F.adaptive_avg_pool2d(out, 1),
    ]
    t_pooled = [
        TF.max_pool2d(t_out, 2),
        TF.avg_pool2d(t_out, 2, stride=1, padding=1),
        TF.adaptive_avg_pool2d(t_out, 1),
    ]
    for ours, theirs in zip(pooled, t_pooled, strict=True):
        _close(ours, theirs, atol=1e-4)
    total = sum((p * (i + 1)).sum() for i, p in enumerate(pooled))
    t_total = sum((p * (i + 1)).sum() for i, p in enumerate(t_pooled))
    total.backward()
    t_total.backward()
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        _close(ours.grad, theirs.grad, atol=1e-4)
