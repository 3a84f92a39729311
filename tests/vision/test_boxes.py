"""Box formats, areas, pairwise IoU and GIoU, and the IoU losses: against torchvision's
pure-Python functions, with gradients; errors on bad boxes; empty inputs."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import vision
from tests.torchvision_ref import torchvision
from tests.vision.boxes_data import random_boxes

FORMATS = ("xyxy", "xywh", "cxcywh")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_fmt", FORMATS)
@pytest.mark.parametrize("out_fmt", FORMATS)
def test_box_convert_matches_torchvision_and_round_trips(in_fmt, out_fmt, dtype):
    tv = torchvision()
    import torch

    xyxy = random_boxes(np.random.default_rng(0), 7, dtype)
    boxes = vision.box_convert(xyxy, "xyxy", in_fmt)
    got = vision.box_convert(boxes, in_fmt, out_fmt)
    expected = tv.ops.box_convert(torch.from_numpy(boxes), in_fmt, out_fmt).numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(vision.box_convert(got, out_fmt, "xyxy"), xyxy, atol=1e-5)


def test_box_convert_by_hand_and_on_tensors():
    xyxy = np.array([[1.0, 2.0, 4.0, 8.0]], np.float32)
    np.testing.assert_array_equal(vision.box_convert(xyxy, "xyxy", "xywh"), [[1, 2, 3, 6]])
    np.testing.assert_array_equal(vision.box_convert(xyxy, "xyxy", "cxcywh"), [[2.5, 5, 3, 6]])
    t = ad.tensor(xyxy, requires_grad=True)
    out = vision.box_convert(t, "xyxy", "cxcywh")
    assert isinstance(out, ad.Tensor) and out.dtype == np.float32
    out.sum().backward()  # cx + cy + w + h = 1.5 (x2 + y2) - 0.5 (x1 + y1)
    np.testing.assert_allclose(t.grad.data, [[-0.5, -0.5, 1.5, 1.5]])


def test_box_area_and_dtypes():
    boxes = [[0, 0, 2, 3], [1, 1, 1, 5]]
    area = vision.box_area(boxes)
    assert area.dtype == np.float32  # lists and integers become the default float32
    np.testing.assert_array_equal(area, [6, 0])
    assert vision.box_area(np.array(boxes, np.float64)).dtype == np.float64
    assert vision.box_area(np.zeros((2, 3, 4))).shape == (2, 3)


@pytest.mark.parametrize("fn", ["box_iou", "generalized_box_iou"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pairwise_iou_matches_torchvision(fn, dtype):
    tv = torchvision()
    import torch

    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, 9, dtype, degenerate=0.2), random_boxes(rng, 6, dtype)
    got = getattr(vision, fn)(a, b)
    expected = getattr(tv.ops, fn)(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert got.shape == (9, 6) and got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_box_iou_by_hand_and_degenerate_boxes():
    a = np.array([[0, 0, 2, 2], [0, 0, 0, 0]], np.float32)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [0, 0, 0, 0]], np.float32)
    iou = vision.box_iou(a, b)
    np.testing.assert_allclose(iou[0], [1 / 7, 1, 0])
    # torchvision's 0/0 for two zero-area boxes, silently
    assert iou[1, 0] == 0 and iou[1, 1] == 0 and np.isnan(iou[1, 2])
    giou = vision.generalized_box_iou(a[:1], b[:1])
    np.testing.assert_allclose(giou, [[1 / 7 - (9 - 7) / 9]])


@pytest.mark.parametrize("fn", ["box_iou", "generalized_box_iou"])
def test_pairwise_iou_gradient_matches_torch(fn):
    tv = torchvision()
    import torch

    rng = np.random.default_rng(2)
    a, b = random_boxes(rng, 5, np.float64), random_boxes(rng, 4, np.float64)
    ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    out = getattr(vision, fn)(ta, tb)
    assert isinstance(out, ad.Tensor) and out.shape == (5, 4)
    assert ad.gradcheck(lambda x, y: getattr(vision, fn)(x, y), [ta, tb]).passed
    gy = rng.standard_normal((5, 4))
    out.backward(gy)
    xa, xb = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
    getattr(tv.ops, fn)(xa, xb).backward(torch.from_numpy(gy))
    np.testing.assert_allclose(ta.grad.data, xa.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tb.grad.data, xb.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_losses_match_torchvision_on_disjoint_nested_and_equal_boxes(reduction):
    tv = torchvision()
    import torch

    b1 = np.array([[0, 0, 1, 1], [0, 0, 4, 4], [1, 1, 2, 3], [0, 0, 2, 2]], np.float64)
    b2 = np.array([[2, 2, 3, 3], [1, 1, 2, 2], [1, 1, 2, 3], [1, 0, 3, 2]], np.float64)
    t1, t2 = ad.tensor(b1, requires_grad=True), ad.tensor(b2, requires_grad=True)
    loss = vision.generalized_box_iou_loss(t1, t2, reduction)
    x1, x2 = torch.from_numpy(b1).requires_grad_(), torch.from_numpy(b2).requires_grad_()
    expected = tv.ops.generalized_box_iou_loss(x1, x2, reduction)
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), rtol=1e-12)
    loss.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(t1.grad.data, x1.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t2.grad.data, x2.grad.numpy(), rtol=1e-9, atol=1e-12)
    iou = vision.box_iou_loss(t1, t2).data
    np.testing.assert_allclose(iou, 1 - np.array([0, 1 / 16, 1, 1 / 3]), atol=1e-6)


def test_losses_of_no_boxes():
    empty = ad.zeros(0, 4, requires_grad=True)
    assert vision.box_iou_loss(empty, empty).shape == (0,)
    mean = vision.generalized_box_iou_loss(empty, empty, "mean")
    assert mean.item() == 0  # torchvision's mean of no boxes
    mean.backward()
    assert empty.grad.shape == (0, 4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: vision.box_iou(np.zeros((2, 3)), np.zeros((1, 4))), r"box_iou: boxes1 .*\(2, 3\)"),
        (lambda: vision.box_iou(np.zeros((2, 2, 4)), np.zeros((1, 4))), r"must be \(N, 4\)"),
        (lambda: vision.box_area([[0, 0, 1, np.nan]]), "box_area: boxes holds NaN"),
        (lambda: vision.box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]]), r"boxes1\[0\] .*x2 < x1"),
        (lambda: vision.box_convert([[0, 0, -1, 1]], "xywh", "xyxy"), "negative width"),
        (lambda: vision.box_convert([[0, 0, 1, 1]], "xyxy", "yxyx"), "unknown format 'yxyx'"),
        (
            lambda: vision.box_iou_loss(ad.tensor([[0.0, 1, 1, 0]]), ad.tensor([[0.0, 0, 1, 1]])),
            r"box_iou_loss: boxes1\[0\] = \[0.0, 1.0, 1.0, 0.0\] has x2 < x1 or y2 < y1",
        ),
        (
            lambda: vision.generalized_box_iou_loss(ad.zeros(2, 4), ad.zeros(3, 4)),
            r"\(2, 4\) float32 and boxes2 \(3, 4\) float32 do not broadcast",
        ),
        (lambda: vision.box_iou_loss(ad.zeros(1, 4), ad.zeros(1, 4), "avg"), "reduction"),
    ],
)
def test_bad_boxes_raise_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_empty_inputs_give_empty_outputs():
    none = np.zeros((0, 4), np.float32)
    assert vision.box_iou(none, np.ones((3, 4))).shape == (0, 3)
    assert vision.generalized_box_iou([], none).shape == (0, 0)
    assert vision.box_convert(none, "xyxy", "cxcywh").shape == (0, 4)
    assert vision.box_area(none).shape == (0,)
