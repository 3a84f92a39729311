"""nn.utils: gradient clipping and parameter vectors, against torch.nn.utils."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import Parameter

GRADS = [
    np.array([[0.5, -3.0, 2.0], [1.0, 0.0, -0.25]]),
    np.array([4.0, -1.5]),
    np.array([[[0.1]]]),
]


def _pairs(dtype=np.float32, grads=GRADS):
    """(our parameters, torch's parameters), with the same gradients set."""
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    for g in grads:
        p = Parameter(np.ones(g.shape, dtype))
        p.grad = ad.tensor(g.astype(dtype))
        t = torch.ones(g.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        t.grad = torch.tensor(g.astype(dtype))
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_same_grads(ours, theirs, rtol=1e-6):
    for p, t in zip(ours, theirs, strict=True):
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol)


def test_utils_is_reachable_as_in_torch():
    from nn.utils import clip_grad_norm_

    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = _pairs(dtype)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, ad.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    _assert_same_grads(ours, theirs)


def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor():
    torch = pytest.importorskip("torch")
    ours, theirs = _pairs()
    ours[1].grad = theirs[1].grad = None
    gen = (p for p in ours)  # a generator, as model.parameters() gives
    np.testing.assert_allclose(
        nn.utils.clip_grad_norm_(gen, 1.0).item(),
        torch.nn.utils.clip_grad_norm_(theirs, 1.0).item(),
        rtol=1e-6,
    )
    _assert_same_grads([ours[0], ours[2]], [theirs[0], theirs[2]])
    before = np.linalg.norm(ours[0].grad.data)
    single = nn.utils.clip_grad_norm_(ours[0], 0.1)
    assert single.item() == pytest.approx(before, rel=1e-6)
    assert np.linalg.norm(ours[0].grad.data) == pytest.approx(0.1, rel=1e-4)


def test_clip_grad_norm_without_grads_returns_zero():
    total = nn.utils.clip_grad_norm_([Parameter(np.ones(3))], 1.0)
    assert total.item() == 0.0 and total.shape == ()


def test_clip_grad_norm_keeps_the_grad_arrays():
    ours, _ = _pairs()
    arrays = [p.grad.data for p in ours]
    nn.utils.clip_grad_norm_(ours, 0.1)
    assert all(p.grad.data is a for p, a in zip(ours, arrays, strict=True))


def test_clip_grad_norm_nonfinite():
    torch = pytest.importorskip("torch")
    grads = [np.array([1.0, math.inf]), np.array([2.0])]
    ours, theirs = _pairs(grads=grads)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(ours[0].grad.data, [1.0, math.inf])  # untouched
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, as in torch
        total = nn.utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.item() == expected.item() == math.inf
    _assert_same_grads(ours, theirs)


def test_clip_grad_norm_works_in_a_training_step():
    model = nn.Linear(3, 2)
    model(ad.ones(4, 3) * 10).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() > 1.0
    joint = math.sqrt(sum(float((p.grad.data**2).sum()) for p in model.parameters()))
    assert joint == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("clip", [0.3, 2])
def test_clip_grad_value_matches_torch(clip):
    torch = pytest.importorskip("torch")
    ours, theirs = _pairs()
    assert nn.utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip)
    _assert_same_grads(ours, theirs)


def test_parameters_to_vector_and_back_match_torch():
    torch = pytest.importorskip("torch")
    shapes = [(2, 3), (4,), (1, 2, 2)]
    values = [
        np.arange(math.prod(s), dtype=np.float32).reshape(s) + i for i, s in enumerate(shapes)
    ]
    ours = [Parameter(v.copy()) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    vec = nn.utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.data, expected.detach().numpy())
    (vec * ad.arange(vec.shape[0])).sum().backward()  # differentiable, as torch's
    expected.mul(torch.arange(expected.shape[0])).sum().backward()
    _assert_same_grads(ours, theirs)

    new = ad.arange(14, dtype=ad.float32) * -1.0
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new.data), theirs)
    for p, t in zip(ours, theirs, strict=True):
        assert p.shape == tuple(t.shape) and p.is_leaf and p.requires_grad
        np.testing.assert_array_equal(p.data, t.detach().numpy())


def test_vector_to_parameters_errors():
    params = [Parameter(np.ones((2, 2)))]
    with pytest.raises(TypeError, match="Tensor"):
        nn.utils.vector_to_parameters(np.ones(4), params)
    with pytest.raises(ValueError, match="4 elements"):
        nn.utils.vector_to_parameters(ad.ones(3), params)
