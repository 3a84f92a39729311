"""nn.YOLOLoss / F.yolo_loss: a hand-computed case, gradcheck, the same loss written in torch,
errors, empty inputs, and a head that the loss trains."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim

S, B, C = 2, 2, 3


def _target(rng, n, s=S, b=B, c=C, p_object=0.3):
    """A course-style target: NaN ("don't care") everywhere but pc where there is no object."""
    t = np.full((n, s, s, b, 5 + c), np.nan)
    obj = rng.random((n, s, s, b)) < p_object
    t[..., 0] = obj
    k = int(obj.sum())
    t[obj, 1:3] = rng.uniform(0, 1, (k, 2))
    t[obj, 3:5] = np.exp(rng.normal(0, 0.7, (k, 2)))
    t[obj, 5:] = np.eye(c)[rng.integers(0, c, k)] if c else np.zeros((k, 0))
    return t


def test_a_hand_computed_case():
    # one cell, two anchors; all-zero outputs: pc = bx = by = 1/2, bh = bw = 1, classes uniform
    output = ad.zeros(1, 1, 1, 2, 7, dtype=ad.float64, requires_grad=True)
    target = np.zeros((1, 1, 1, 2, 7))
    target[0, 0, 0, 0] = [1, 0.25, 0.75, math.e, 1.0, 1, 0]
    # the object: 5 * [(1/2 - 1/4)^2 + (1/2 - 3/4)^2 + (0 - 1)^2 + 0] + log 2 (pc) + log 2
    # (class); the empty anchor: 0.5 * log 2
    loss = F.yolo_loss(output, target)
    assert loss.item() == pytest.approx(5 * 1.125 + 2.5 * math.log(2), rel=1e-12)
    loss.backward()
    expected = np.zeros((2, 7))
    expected[0] = [-0.5, 5 * 2 * 0.25 * 0.25, -5 * 2 * 0.25 * 0.25, -10, 0, -0.5, 0.5]
    expected[1, 0] = 0.5 * 0.5  # lambda_noobj * sigmoid(0)
    np.testing.assert_allclose(output.grad.data[0, 0, 0], expected, rtol=1e-12, atol=1e-15)


def test_lambdas_and_reductions():
    rng = np.random.default_rng(0)
    output = ad.tensor(rng.normal(size=(3, S, S, B, 5 + C)))
    target = _target(rng, 3)
    per_image = F.yolo_loss(output, target, reduction="none")
    assert per_image.shape == (3,)
    assert F.yolo_loss(output, target).item() == pytest.approx(per_image.data.mean())
    assert F.yolo_loss(output, target, reduction="sum").item() == pytest.approx(
        per_image.data.sum()
    )
    # the objectness of empty anchors scales with lambda_noobj alone
    no_obj = F.yolo_loss(output, target, lambda_coord=0, lambda_noobj=1) - F.yolo_loss(
        output, target, lambda_coord=0, lambda_noobj=0
    )
    empty = np.nan_to_num(target[..., 0]) == 0
    expected = np.logaddexp(0, output.data[..., 0][empty]).sum() / 3
    assert no_obj.item() == pytest.approx(expected)


@pytest.mark.parametrize("n_classes", [0, 1, 3])
def test_gradcheck_float64(n_classes):
    rng = np.random.default_rng(n_classes)
    target = _target(rng, 2, c=n_classes, p_object=0.5)
    output = ad.tensor(rng.normal(size=target.shape), requires_grad=True)
    assert ad.gradcheck(lambda o: F.yolo_loss(o, target, 2.0, 0.3), [output]).passed
    assert ad.gradcheck(lambda o: F.yolo_loss(o, target, reduction="none"), [output]).passed


def _torch_yolo(torch, o, t, lambda_coord, lambda_noobj):
    """The loss written directly in torch, on the rows of the anchors with and without objects."""
    tf = torch.nn.functional
    obj = t[..., 0] == 1
    o_obj, t_obj, o_empty = o[obj], t[obj], o[~obj]
    coord = ((torch.sigmoid(o_obj[:, 1:3]) - t_obj[:, 1:3]) ** 2).sum()
    coord = coord + ((o_obj[:, 3:5] - torch.log(t_obj[:, 3:5])) ** 2).sum()
    ones, zeros = torch.ones_like(o_obj[:, 0]), torch.zeros_like(o_empty[:, 0])
    objectness = tf.binary_cross_entropy_with_logits(o_obj[:, 0], ones, reduction="sum")
    empty = tf.binary_cross_entropy_with_logits(o_empty[:, 0], zeros, reduction="sum")
    classes = tf.cross_entropy(o_obj[:, 5:], t_obj[:, 5:].argmax(1), reduction="sum")
    return (lambda_coord * coord + objectness + lambda_noobj * empty + classes) / o.shape[0]


@pytest.mark.parametrize(("lambda_coord", "lambda_noobj"), [(5.0, 0.5), (1.0, 2.0)])
def test_matches_the_loss_written_in_torch(lambda_coord, lambda_noobj):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    target = _target(rng, 4, s=3)
    o = rng.normal(0, 2, target.shape)
    ours = ad.tensor(o, requires_grad=True)
    loss = nn.YOLOLoss(lambda_coord, lambda_noobj)(ours, ad.tensor(target))
    loss.backward()
    theirs = torch.tensor(o, requires_grad=True)
    expected = _torch_yolo(torch, theirs, torch.tensor(target), lambda_coord, lambda_noobj)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_extreme_logits_stay_finite():
    target = _target(np.random.default_rng(4), 2, p_object=0.5)
    output = ad.tensor(np.where(np.random.default_rng(5).random(target.shape) < 0.5, 80, -80.0))
    output.requires_grad_()
    loss = F.yolo_loss(output.float(), target)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(output.grad.data))


def test_dtype_is_kept_and_the_target_is_cast():
    target = _target(np.random.default_rng(6), 2)
    for dtype in (ad.float32, ad.float64):
        output = ad.zeros(*target.shape, dtype=dtype, requires_grad=True)
        loss = F.yolo_loss(output, target.astype(np.float32))
        loss.backward()
        assert loss.dtype == dtype and output.grad.dtype == dtype


def test_empty_batches_and_images_without_objects():
    output = ad.zeros(0, S, S, B, 5 + C, requires_grad=True)
    target = np.zeros((0, S, S, B, 5 + C))
    assert F.yolo_loss(output, target, reduction="none").shape == (0,)
    assert F.yolo_loss(output, target, reduction="sum").item() == 0
    assert math.isnan(F.yolo_loss(output, target).item())  # a mean over no images, as PyTorch
    output = ad.zeros(2, S, S, B, 5 + C)
    expected = S * S * B * 0.5 * math.log(2)
    assert F.yolo_loss(output, np.zeros(output.shape)).item() == pytest.approx(expected)


def test_errors_name_the_shapes():
    output = ad.zeros(2, S, S, B, 5 + C)
    target = np.zeros((2, S, S, B, 5 + C))
    shapes = r"got output \(2, 2, 2, 2, 8\) float32 and target \(2, 2, 2, 2, 7\) float64"
    with pytest.raises(ValueError, match=r"yolo_loss: output and target .* " + shapes):
        F.yolo_loss(output, target[..., :7])
    with pytest.raises(ValueError, match=r"\(2, 2, 2, 2, 4\)"):
        F.yolo_loss(ad.zeros(2, S, S, B, 4), np.zeros((2, S, S, B, 4)))
    bad_pc = target.copy()
    bad_pc[0, 0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match=r"pc must be 0 or 1, got \[0.5\]"):
        F.yolo_loss(output, bad_pc)
    no_size = target.copy()
    no_size[0, 0, 0, 0, :5] = [1, 0.5, 0.5, 0.0, 1.0]
    with pytest.raises(ValueError, match="bh and bw where pc = 1 must be > 0"):
        F.yolo_loss(output, no_size)
    no_size[0, 0, 0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="where pc = 1 must be finite"):
        F.yolo_loss(output, no_size)
    with pytest.raises(TypeError, match="yolo_loss"):
        F.yolo_loss(ad.zeros(*target.shape, dtype=ad.int64), target)
    with pytest.raises(ValueError, match="reduction"):
        F.yolo_loss(output, target, reduction="batchmean")
    with pytest.raises(ValueError, match="lambda_coord and lambda_noobj must be >= 0"):
        nn.YOLOLoss(lambda_noobj=-1)


def test_the_module():
    loss_fn = nn.YOLOLoss(lambda_coord=2.0, reduction="sum")
    assert repr(loss_fn) == "YOLOLoss(lambda_coord=2.0, lambda_noobj=0.5, reduction='sum')"
    target = _target(np.random.default_rng(7), 2)
    output = ad.randn(*target.shape)
    expected = F.yolo_loss(output, target, 2.0, 0.5, "sum")
    assert loss_fn(output, target).item() == pytest.approx(expected.item())


def test_a_linear_head_on_fixed_features_learns_the_target():
    rng = np.random.default_rng(8)
    n, features = 4, 24
    x = ad.tensor(rng.normal(size=(n, S, S, features)).astype(np.float32))
    target = _target(rng, n, p_object=0.4)
    ad.manual_seed(0)
    head = nn.Linear(features, B * (5 + C))
    optimizer = optim.Adam(head.parameters(), lr=0.05)
    loss_fn = nn.YOLOLoss()
    losses = []
    for _ in range(150):
        loss = loss_fn(head(x).reshape(n, S, S, B, 5 + C), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.02 * losses[0]
    o = head(x).reshape(n, S, S, B, 5 + C).data
    obj = target[..., 0] == 1
    np.testing.assert_array_equal(o[..., 0] > 0, obj)  # pc = sigmoid(o0) > 1/2 exactly there
    np.testing.assert_allclose(1 / (1 + np.exp(-o[obj][:, 1:3])), target[obj][:, 1:3], atol=0.1)
    np.testing.assert_allclose(np.exp(o[obj][:, 3:5]), target[obj][:, 3:5], rtol=0.1)
    np.testing.assert_array_equal(o[obj][:, 5:].argmax(1), target[obj][:, 5:].argmax(1))
