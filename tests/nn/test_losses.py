"""Losses (functional and modules) against torch: weights, ignore_index, pos_weight, reductions,
masks for missing labels, numerics at the extremes, and the errors they raise."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the torch comparisons skip; the rest still runs
    torch = TF = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")
REDUCTIONS = ("mean", "sum", "none")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _run(fn, arrays, grad_of, gy_seed=1):
    """fn on autodiff tensors; returns (output, grads of the inputs in `grad_of`)."""
    ts = [ad.tensor(a, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    out = fn(*ts)
    gy = _rng(gy_seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(gy)
    return out.data, [ts[i].grad.data for i in grad_of]


def _run_torch(fn, arrays, grad_of, gy_seed=1):
    ts = [torch.from_numpy(a.copy()).requires_grad_(i in grad_of) for i, a in enumerate(arrays)]
    out = fn(*ts)
    gy = _rng(gy_seed).standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.from_numpy(gy))
    return out.detach().numpy(), [ts[i].grad.numpy() for i in grad_of]


def _compare(ours, theirs, rtol=1e-5, atol=1e-6):
    out, grads = ours
    t_out, t_grads = theirs
    np.testing.assert_allclose(out, t_out, rtol=rtol, atol=atol)
    for g, tg in zip(grads, t_grads, strict=True):
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=atol)


def _tw(a):
    return None if a is None else torch.from_numpy(np.asarray(a, np.float32))


# ---- cross_entropy and nll_loss -----------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 3)])
def test_cross_entropy_matches_torch(reduction, weighted, smoothing, shape):
    rng = _rng(3)
    x = rng.standard_normal(shape).astype(np.float32) * 3
    target = rng.integers(0, shape[1], (shape[0], *shape[2:]))
    target.flat[[1, 4]] = 1  # some ignored (ignore_index=1), some not
    w = rng.uniform(0.2, 2.0, shape[1]).astype(np.float32) if weighted else None
    kw = {"ignore_index": 1, "reduction": reduction, "label_smoothing": smoothing}
    ours = _run(lambda a: F.cross_entropy(a, ad.tensor(target), weight=w, **kw), [x], [0])
    theirs = _run_torch(
        lambda a: TF.cross_entropy(a, torch.from_numpy(target), weight=_tw(w), **kw), [x], [0]
    )
    _compare(ours, theirs)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_match_torch_with_target_grad(reduction):
    rng = _rng(4)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    q = rng.dirichlet(np.ones(3), 5).astype(np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    kw = {"reduction": reduction, "label_smoothing": 0.1}
    ours = _run(lambda a, b: F.cross_entropy(a, b, weight=w, **kw), [x, q], [0, 1])
    theirs = _run_torch(lambda a, b: TF.cross_entropy(a, b, weight=_tw(w), **kw), [x, q], [0, 1])
    _compare(ours, theirs)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched_matches_torch(reduction):
    x = _rng(5).standard_normal(4).astype(np.float32)
    ours = _run(lambda a: F.cross_entropy(a, ad.tensor(2), reduction=reduction), [x], [0])
    theirs = _run_torch(
        lambda a: TF.cross_entropy(a, torch.tensor(2), reduction=reduction), [x], [0]
    )
    assert ours[0].shape == ()
    _compare(ours, theirs)


def test_cross_entropy_is_stable_for_huge_logits():
    x = ad.tensor([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, ad.tensor([1, 1]), reduction="none")
    np.testing.assert_allclose(loss.data, [2000.0, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1, -1, 0], [0, 0, 0]], atol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    x = _rng(6).standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    xt = ad.tensor(x, requires_grad=True)
    F.cross_entropy(xt, t).backward()
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(xt.grad.data, (p - np.eye(3)[t]) / 4, rtol=1e-12)


@needs_torch
def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    x = np.ones((2, 3), np.float32)
    t = np.array([-100, -100])
    ours = F.cross_entropy(ad.tensor(x), t).item()
    theirs = TF.cross_entropy(torch.from_numpy(x), torch.from_numpy(t)).item()
    assert math.isnan(ours) and math.isnan(theirs)
    assert F.cross_entropy(ad.tensor(x), t, reduction="sum").item() == 0


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spatial", [(), (3, 5)])
def test_nll_loss_matches_torch(reduction, spatial):
    rng = _rng(7)
    logp = np.log(rng.dirichlet(np.ones(5), (6, *spatial)))
    logp = np.moveaxis(logp, -1, 1).astype(np.float32)  # classes in dim 1
    t = rng.integers(0, 5, (6, *spatial))
    t.flat[[1, 3]] = -100
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    ours = _run(lambda a: F.nll_loss(a, t, weight=w, reduction=reduction), [logp], [0])
    theirs = _run_torch(
        lambda a: TF.nll_loss(a, torch.from_numpy(t), weight=_tw(w), reduction=reduction),
        [logp],
        [0],
    )
    _compare(ours, theirs)


def test_log_softmax_then_nll_equals_cross_entropy():
    x = ad.tensor(_rng(8).standard_normal((5, 4)))
    t = np.array([1, 0, 3, 3, 2])
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(x, 1), t).item(), F.cross_entropy(x, t).item(), rtol=1e-12
    )


# ---- binary cross-entropy -----------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3,), (4, 3)])
def test_binary_cross_entropy_matches_torch(reduction, weight_shape):
    rng = _rng(9)
    p = rng.uniform(0.01, 0.99, (4, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    w = None if weight_shape is None else rng.uniform(0, 2, weight_shape).astype(np.float32)
    ours = _run(lambda a, b: F.binary_cross_entropy(a, b, w, reduction), [p, y], [0, 1])
    theirs = _run_torch(
        lambda a, b: TF.binary_cross_entropy(a, b, _tw(w), reduction=reduction), [p, y], [0, 1]
    )
    _compare(ours, theirs)


@needs_torch
def test_binary_cross_entropy_clamps_logs_at_the_ends_like_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    ours = _run(lambda a: F.binary_cross_entropy(a, ad.tensor(y), reduction="none"), [p], [0])
    theirs = _run_torch(
        lambda a: TF.binary_cross_entropy(a, torch.from_numpy(y), reduction="none"), [p], [0]
    )
    np.testing.assert_allclose(ours[0], [100, 100, 0, 0, 69.07755], rtol=1e-6)
    assert np.all(np.isfinite(ours[1][0]))
    _compare(ours, theirs, rtol=1e-5)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits_matches_torch(reduction, weighted, with_pos_weight):
    rng = _rng(10)
    x = (rng.standard_normal((5, 3)) * 4).astype(np.float32)
    y = (rng.uniform(0, 1, (5, 3)) > 0.5).astype(np.float32)
    w = rng.uniform(0, 2, (5, 3)).astype(np.float32) if weighted else None
    pw = np.array([0.5, 2.0, 3.0], np.float32) if with_pos_weight else None
    ours = _run(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction, pos_weight=pw),
        [x, y],
        [0, 1],
    )
    theirs = _run_torch(
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, _tw(w), reduction=reduction, pos_weight=_tw(pw)
        ),
        [x, y],
        [0, 1],
    )
    _compare(ours, theirs)


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    x = ad.tensor([800.0, -800.0, 800.0, -800.0], dtype=np.float32, requires_grad=True)
    y = ad.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0, 0, 800, 800])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0, 0, 1, -1])


def test_bce_with_logits_equals_bce_of_sigmoid():
    rng = _rng(11)
    x = ad.tensor(rng.standard_normal((6, 2)))
    y = ad.tensor(rng.uniform(0, 1, (6, 2)))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(x, y).item(),
        F.binary_cross_entropy(F.sigmoid(x), y).item(),
        rtol=1e-12,
    )


def test_weight_zero_masks_missing_labels_in_multitask_loss():
    rng = _rng(12)
    x = rng.standard_normal((4, 3))
    y = (rng.uniform(0, 1, (4, 3)) > 0.5).astype(np.float64)
    mask = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 1]], np.float64)
    y_missing = np.where(mask > 0, y, 123.0)  # garbage where the label is missing
    per = F.binary_cross_entropy_with_logits(ad.tensor(x), ad.tensor(y), reduction="none").data
    xt = ad.tensor(x, requires_grad=True)
    mean = F.binary_cross_entropy_with_logits(xt, ad.tensor(y_missing), weight=mask)
    # PyTorch's mean: divided by all 12 elements, masked ones included
    np.testing.assert_allclose(mean.item(), (per * mask).sum() / 12, rtol=1e-12)
    mean.backward()
    assert np.all(xt.grad.data[mask == 0] == 0)
    present = F.binary_cross_entropy_with_logits(
        ad.tensor(x), ad.tensor(y_missing), weight=mask, reduction="weighted_mean"
    )
    np.testing.assert_allclose(present.item(), (per * mask).sum() / mask.sum(), rtol=1e-12)
    module = nn.BCEWithLogitsLoss(reduction="none")
    recipe = (module(ad.tensor(x), ad.tensor(y)) * mask).sum() / mask.sum()
    np.testing.assert_allclose(recipe.item(), present.item(), rtol=1e-12)


def test_weighted_mean_with_no_label_present_is_zero_with_zero_gradient():
    x = ad.tensor(np.ones((2, 2)), requires_grad=True)
    for fn, inp in ((F.binary_cross_entropy_with_logits, x), (F.binary_cross_entropy, x * 0.5)):
        x.grad = None
        loss = fn(inp, ad.tensor(np.ones((2, 2))), np.zeros((2, 2)), "weighted_mean")
        assert loss.item() == 0
        loss.backward()
        np.testing.assert_array_equal(x.grad.data, 0)


def test_weighted_mean_without_weight_is_the_mean():
    x = ad.tensor(_rng(13).standard_normal((3, 2)))
    y = ad.tensor(np.ones((3, 2)))
    assert F.binary_cross_entropy_with_logits(x, y, reduction="weighted_mean").item() == (
        pytest.approx(F.binary_cross_entropy_with_logits(x, y).item(), rel=1e-12)
    )


# ---- mse and l1 --------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_match_torch(reduction, name):
    rng = _rng(14)
    x, y = (rng.standard_normal((4, 5)).astype(np.float32) for _ in range(2))
    ours = _run(lambda a, b: getattr(F, name)(a, b, reduction), [x, y], [0, 1])
    theirs = _run_torch(lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, y], [0, 1])
    _compare(ours, theirs)


# ---- dtypes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_keep_the_input_dtype(dtype):
    x = ad.tensor(_rng(15).uniform(0.1, 0.9, (3, 4)).astype(dtype), requires_grad=True)
    y = ad.tensor(np.ones((3, 4), dtype))
    w = np.ones(4)  # float64 constants do not promote a float32 loss
    losses = [
        F.cross_entropy(x, np.array([0, 1, 2]), weight=w),
        F.cross_entropy(x, y, weight=w, label_smoothing=0.1),
        F.nll_loss(x, np.array([0, 1, 2]), weight=w),
        F.binary_cross_entropy(x, y, weight=w),
        F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=w),
        F.mse_loss(x, y),
        F.l1_loss(x, y),
    ]
    for loss in losses:
        assert loss.dtype == dtype
        x.grad = None
        loss.backward()
        assert x.grad.dtype == dtype


# ---- modules -----------------------------------------------------------------------------------


@needs_torch
def test_loss_modules_match_torch_modules():
    rng = _rng(16)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    t = np.array([0, 1, 2, 1, -1, 0])
    p = rng.uniform(0.1, 0.9, (6, 3)).astype(np.float32)
    y = (rng.uniform(0, 1, (6, 3)) > 0.5).astype(np.float32)
    w = np.array([1.0, 2.0, 0.5], np.float32)
    pairs = [
        (
            nn.CrossEntropyLoss(w, ignore_index=-1, reduction="sum", label_smoothing=0.2),
            torch.nn.CrossEntropyLoss(_tw(w), ignore_index=-1, reduction="sum",
                                      label_smoothing=0.2),
            x, t,
        ),
        (
            nn.NLLLoss(w, ignore_index=-1),
            torch.nn.NLLLoss(_tw(w), ignore_index=-1),
            x, t,
        ),
        (nn.BCELoss(w, reduction="none"), torch.nn.BCELoss(_tw(w), reduction="none"), p, y),
        (
            nn.BCEWithLogitsLoss(w, pos_weight=w[::-1].copy()),
            torch.nn.BCEWithLogitsLoss(_tw(w), pos_weight=_tw(w[::-1].copy())),
            x, y,
        ),
        (nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), x, y),
        (nn.L1Loss(), torch.nn.L1Loss(), x, y),
    ]  # fmt: skip
    for ours, theirs, inp, target in pairs:
        a = _run(lambda z, ours=ours, target=target: ours(z, ad.tensor(target)), [inp], [0])
        b = _run_torch(
            lambda z, theirs=theirs, target=target: theirs(z, torch.from_numpy(target)), [inp], [0]
        )
        _compare(a, b)


def test_loss_modules_repr_and_weight_buffers():
    loss = nn.CrossEntropyLoss([1.0, 2.0], ignore_index=0, label_smoothing=0.1)
    expected = "CrossEntropyLoss(weight=<shape (2,)>, ignore_index=0, label_smoothing=0.1)"
    assert repr(loss) == expected
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    assert repr(nn.BCEWithLogitsLoss(pos_weight=np.ones(3))) == (
        "BCEWithLogitsLoss(pos_weight=<shape (3,)>)"
    )
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss().state_dict()) == []
    loss.double()
    assert loss.weight.dtype == np.float64


def test_loss_options_after_weight_are_keyword_only():
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, -100)


# ---- errors ------------------------------------------------------------------------------------


def test_errors_name_the_op_shapes_and_dtypes():
    x = ad.tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"cross_entropy: .*integer class indices.*float32"):
        F.cross_entropy(x, ad.tensor(np.zeros(4, np.float32)))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(5,\) int64 .*\(4, 3\)"):
        F.cross_entropy(x, np.zeros(5, np.int64))
    with pytest.raises(ValueError, match=r"cross_entropy: target 3 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"nll_loss: target -1 is out of range"):
        F.nll_loss(x, np.array([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), weight=np.ones(4))
    with pytest.raises(TypeError, match=r"cross_entropy: probability target has dtype float64"):
        F.cross_entropy(x, np.zeros((4, 3)))
    with pytest.raises(
        TypeError, match=r"cross_entropy: expected a float tensor \(float32 or float64\)"
    ):
        F.cross_entropy(ad.tensor(np.zeros((4, 3), np.int64)), np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"cross_entropy: input needs a class dim"):
        F.cross_entropy(ad.tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be one of"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), reduction="weighted_mean")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, np.array([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target of shape \(4,\) float32"):
        F.binary_cross_entropy(x, ad.tensor(np.zeros(4, np.float32)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must be probabilities"):
        F.binary_cross_entropy(x + 2, x)
    with pytest.raises(TypeError, match=r"_with_logits: target has dtype int64 but input"):
        F.binary_cross_entropy_with_logits(x, np.zeros((4, 3), np.int64))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4,\) .* does not broadcast"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(4, 1\)"):
        F.mse_loss(x, ad.tensor(np.zeros((4, 1), np.float32)))
    with pytest.raises(TypeError, match=r"l1_loss: target has dtype float64 but input is float32"):
        F.l1_loss(x, np.zeros((4, 3)))


# ---- regression, distribution and margin losses -------------------------------------------------


def test_kl_div_mean_warns_as_torch_and_batchmean_is_the_divergence():
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    q = np.array([[0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    log_q = ad.tensor(np.log(q))
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(log_q, ad.tensor(p))
    assert mean.item() == pytest.approx((p * np.log(p / q)).sum() / 6, rel=1e-12)
    batchmean = F.kl_div(log_q, ad.tensor(p), reduction="batchmean")
    assert batchmean.item() == pytest.approx((p * np.log(p / q)).sum() / 2, rel=1e-12)
    log_target = F.kl_div(log_q, ad.tensor(np.log(p)), reduction="batchmean", log_target=True)
    assert log_target.item() == pytest.approx(batchmean.item(), rel=1e-12)


def test_kl_div_zero_target_gives_zero_loss_and_finite_gradients():
    x = ad.tensor(np.log([[0.5, 0.5, 1e-3]]), requires_grad=True)
    t = ad.tensor(np.array([[1.0, 0.0, 0.0]]), requires_grad=True)
    loss = F.kl_div(x, t, reduction="none")
    np.testing.assert_allclose(loss.data, [[np.log(2), 0, 0]], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[-1, 0, 0]])
    # at target 0 the infinite slope of t log t is left out: -input (PyTorch gives nan)
    np.testing.assert_allclose(t.grad.data, [[1 + np.log(2), np.log(2), np.log(1e3)]], rtol=1e-12)


def test_smooth_l1_is_huber_over_beta_and_l1_at_beta_zero():
    rng = _rng(21)
    x, y = ad.tensor(rng.standard_normal(20) * 2), ad.tensor(rng.standard_normal(20))
    for beta in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(
            F.smooth_l1_loss(x, y, beta=beta).item(),
            F.huber_loss(x, y, delta=beta).item() / beta,
            rtol=1e-12,
        )
    assert F.smooth_l1_loss(x, y, beta=0.0).item() == pytest.approx(F.l1_loss(x, y).item())


@needs_torch
def test_new_loss_modules_match_torch_modules():
    rng = _rng(22)
    x, y = (rng.standard_normal((6, 3)).astype(np.float32) for _ in range(2))
    x2 = rng.standard_normal((6, 3)).astype(np.float32)
    sign = np.where(rng.random((6, 3)) < 0.5, -1.0, 1.0).astype(np.float32)
    counts = rng.uniform(0, 4, (6, 3)).astype(np.float32)
    probs = rng.dirichlet(np.ones(3), 6).astype(np.float32)
    row_sign = sign[:, 0].copy()
    pairs = [
        (nn.SmoothL1Loss(reduction="sum", beta=0.5),
         torch.nn.SmoothL1Loss(reduction="sum", beta=0.5), [x, y]),
        (nn.HuberLoss("none", 0.7), torch.nn.HuberLoss("none", 0.7), [x, y]),
        (nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean"),
         [x, probs]),
        (nn.KLDivLoss(reduction="sum", log_target=True),
         torch.nn.KLDivLoss(reduction="sum", log_target=True), [x, y]),
        (nn.PoissonNLLLoss(full=True), torch.nn.PoissonNLLLoss(full=True), [x, counts]),
        (nn.PoissonNLLLoss(False, eps=1e-3), torch.nn.PoissonNLLLoss(False, eps=1e-3),
         [np.abs(x), counts]),
        (nn.MarginRankingLoss(0.2), torch.nn.MarginRankingLoss(0.2), [x, x2, sign]),
        (nn.SoftMarginLoss(reduction="none"), torch.nn.SoftMarginLoss(reduction="none"),
         [x, sign]),
        (nn.CosineEmbeddingLoss(-0.1), torch.nn.CosineEmbeddingLoss(-0.1), [x, x2, row_sign]),
    ]  # fmt: skip
    for ours, theirs, arrays in pairs:
        constant = len(arrays) - 1  # the target: a constant input
        grad_of = [i for i in range(len(arrays)) if i != constant]
        a = _run(lambda *ts, m=ours: m(*ts), arrays, grad_of)
        b = _run_torch(lambda *ts, m=theirs: m(*ts), arrays, grad_of)
        _compare(a, b)


def test_new_loss_modules_repr():
    assert repr(nn.SmoothL1Loss(beta=0.5)) == "SmoothL1Loss(beta=0.5)"
    assert repr(nn.HuberLoss()) == "HuberLoss()"
    assert repr(nn.KLDivLoss(reduction="batchmean")) == "KLDivLoss(reduction='batchmean')"
    assert repr(nn.CosineEmbeddingLoss(0.5)) == "CosineEmbeddingLoss(margin=0.5)"
    with pytest.raises(TypeError):
        nn.KLDivLoss(None, None, "sum")  # PyTorch's size_average, reduce: not taken


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_losses_keep_the_input_dtype(dtype):
    x = ad.tensor(_rng(23).uniform(0.1, 0.9, (3, 4)).astype(dtype), requires_grad=True)
    y = ad.tensor(np.ones((3, 4), dtype))
    losses = [
        F.smooth_l1_loss(x, y),
        F.huber_loss(x, y, weight=np.ones((3, 4))),
        F.mse_loss(x, y, weight=np.ones((3, 4))),
        F.kl_div(x, y, reduction="batchmean"),
        F.poisson_nll_loss(x, y, full=True),
        F.margin_ranking_loss(x, y, y),
        F.soft_margin_loss(x, y),
        F.cosine_embedding_loss(x, y, np.ones(3)),
    ]
    for loss in losses:
        assert loss.dtype == dtype
        x.grad = None
        loss.backward()
        assert x.grad.dtype == dtype


def test_new_loss_errors_name_the_op_shapes_and_dtypes():
    x = ad.tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"smooth_l1_loss: target of shape \(3,\) float32"):
        F.smooth_l1_loss(x, ad.tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"huber_loss: weight of shape \(3,\) .* input's shape"):
        F.huber_loss(x, x, weight=np.ones(3))
    with pytest.raises(TypeError, match=r"kl_div: target has dtype float64 but input is float32"):
        F.kl_div(x, np.zeros((4, 3)), reduction="sum")
    with pytest.raises(ValueError, match=r"kl_div: reduction must be one of .*batchmean"):
        F.kl_div(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input2 of shape \(4, 1\)"):
        F.margin_ranking_loss(x, ad.zeros(4, 1), x)
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: inputs must be \(N, D\)"):
        F.cosine_embedding_loss(x, x, np.ones(3))
    with pytest.raises(
        TypeError, match=r"poisson_nll_loss: expected a float tensor \(float32 or float64\)"
    ):
        F.poisson_nll_loss(ad.tensor(np.zeros(3, np.int64)), ad.tensor(np.zeros(3, np.int64)))
