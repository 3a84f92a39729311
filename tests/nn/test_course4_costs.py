"""nn.TripletMarginLoss against PyTorch's, and the argument checks of the triplet loss and the
style-transfer costs (their values and gradients are in the op table: tests/ops/specs_style.py
and specs_losses2.py)."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.errors import ShapeError


@pytest.mark.parametrize(
    "options",
    [{}, {"swap": True}, {"p": 1.0, "swap": True, "margin": 0.5}, {"p": 3.0, "eps": 1e-3}],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_loss_module_matches_torch(options, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(6, 4)) for _ in range(3)]
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    loss = nn.TripletMarginLoss(**options, reduction=reduction)(*ours)
    expected = torch.nn.TripletMarginLoss(**options, reduction=reduction)(*theirs)
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), rtol=1e-12)
    gy = rng.normal(size=loss.shape)
    loss.backward(ad.tensor(gy))
    expected.backward(torch.tensor(gy))
    for x, tx in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_triplet_margin_loss_a_hand_computed_case():
    anchor, positive, negative = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.zeros(1, 2)
    # d(a, p) = 5, d(a, n) = 0 (eps = 0): 5 - 0 + margin 1
    assert F.triplet_margin_loss(anchor, positive, negative, eps=0.0).item() == pytest.approx(6)
    # n = (6, 0): d(a, n) = 6 hides the triplet, but d(p, n) = 5 and the swap uses it
    negative = ad.tensor([[6.0, 0.0]])
    assert F.triplet_margin_loss(anchor, positive, negative, eps=0.0).item() == 0
    swapped = F.triplet_margin_loss(anchor, positive, negative, eps=0.0, swap=True)
    assert swapped.item() == pytest.approx(1 + 5 - 5)


def test_triplet_margin_loss_errors_and_empty_input():
    x = ad.zeros(3, 4)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            F.triplet_margin_loss(x, x, x, margin=bad)
        with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0"):
            nn.TripletMarginLoss(margin=bad)
    with pytest.raises(ValueError, match=r"same number of dims.*positive \(4,\) float32"):
        F.triplet_margin_loss(x, ad.zeros(4), x)
    with pytest.raises(TypeError, match="triplet_margin_loss"):
        F.triplet_margin_loss(x, x, ad.zeros(3, 4, dtype=ad.int64))
    with pytest.raises(ValueError, match="reduction"):
        F.triplet_margin_loss(x, x, x, reduction="batchmean")
    empty = ad.zeros(0, 4)
    assert F.triplet_margin_loss(empty, empty, empty, reduction="none").shape == (0,)
    assert math.isnan(F.triplet_margin_loss(empty, empty, empty).item())  # as PyTorch
    assert repr(nn.TripletMarginLoss(swap=True)) == "TripletMarginLoss(swap=True)"


def test_gram_matrix_is_symmetric_and_keeps_the_dtype():
    x = ad.randn(2, 3, 4, 5, dtype=ad.float64)
    g = F.gram_matrix(x)
    assert g.shape == (2, 3, 3) and g.dtype == np.float64
    np.testing.assert_allclose(g.data, g.data.transpose(0, 2, 1))
    np.testing.assert_allclose(np.diagonal(g.data, axis1=1, axis2=2), (x.data**2).sum((2, 3)))


def test_costs_are_zero_for_equal_activations_and_nan_for_no_images():
    a = ad.randn(1, 3, 4, 4)
    assert F.content_cost(a, a).item() == 0 and F.style_cost(a, a).item() == 0
    empty = ad.zeros(0, 3, 2, 2)
    assert F.gram_matrix(empty).shape == (0, 3, 3)
    assert math.isnan(F.content_cost(empty, empty).item())
    assert math.isnan(F.style_cost(empty, empty).item())


def test_style_cost_weights_default_to_equal_shares():
    layers_s = [ad.randn(1, 2, 3, 3) for _ in range(5)]
    layers_g = [ad.randn(1, 2, 3, 3) for _ in range(5)]
    each = [F.style_cost(s, g).item() for s, g in zip(layers_s, layers_g, strict=True)]
    # the course's STYLE_LAYERS: five layers, 0.2 each
    assert F.style_cost(layers_s, layers_g).item() == pytest.approx(0.2 * sum(each), rel=1e-6)
    weights = [0.1, 0.2, 0.3, 0.4, 0.0]
    expected = sum(w * c for w, c in zip(weights, each, strict=True))
    assert F.style_cost(layers_s, layers_g, weights).item() == pytest.approx(expected, rel=1e-6)


def test_style_and_content_cost_errors():
    a = ad.zeros(1, 3, 4, 4)
    for fn in (F.content_cost, F.style_cost):
        name = fn.__name__
        with pytest.raises(
            ShapeError, match=rf"{name}: .*\(1, 3, 4, 4\) float32 and \(1, 3, 4, 3\)"
        ):
            fn(a, ad.zeros(1, 3, 4, 3))
        with pytest.raises(TypeError, match=rf"{name}: .*float32 and \(1, 3, 4, 4\) float64"):
            fn(a, ad.zeros(1, 3, 4, 4, dtype=ad.float64))
        with pytest.raises(ShapeError, match=rf"{name}: activations must be .* got \(3, 4\)"):
            fn(ad.zeros(3, 4), ad.zeros(3, 4))
        with pytest.raises(TypeError, match=name):
            fn(a, np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(ShapeError, match=r"gram_matrix: .* got \(2, 3, 4, 5, 6\)"):
        F.gram_matrix(ad.zeros(2, 3, 4, 5, 6))
    with pytest.raises(TypeError, match="gram_matrix"):
        F.gram_matrix(ad.zeros(1, 2, 3, 3, dtype=ad.int64))
    with pytest.raises(ValueError, match="style_cost: weights apply to lists of layers"):
        F.style_cost(a, a, [1.0])
    with pytest.raises(ValueError, match="style_cost: 1 weights for 2 layers"):
        F.style_cost([a, a], [a, a], [1.0])
    with pytest.raises(ShapeError, match="style_cost: .* got a list of 2 and a list of 1"):
        F.style_cost([a, a], [a])
    with pytest.raises(ValueError, match="style_cost: no layers"):
        F.style_cost([], [])
