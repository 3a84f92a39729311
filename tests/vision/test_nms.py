"""nms and batched_nms against a numpy mirror of torchvision's CPU kernel
(csrc/ops/cpu/nms_kernel.cpp; its compiled op does not load here): random boxes with ties in
score, degenerate boxes, thresholds from negative to 1; errors and empty inputs."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import vision
from autodiff.kernels.nms import nms_sorted
from tests.vision.boxes_data import random_boxes


def reference_nms(boxes, scores, iou_threshold, order=None):
    """torchvision's loop: visit in `order` (default: decreasing score, ties in index order),
    keep what is not suppressed, suppress later boxes with IoU > threshold."""
    order = np.argsort(-scores, kind="stable") if order is None else order
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(boxes), bool)
    keep = []
    for pos, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[pos + 1 :]
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        with np.errstate(invalid="ignore", divide="ignore"):
            suppressed[rest[inter / (areas[i] + areas[rest] - inter) > iou_threshold]] = True
    return np.array(keep, np.int64)


def reference_batched_nms(boxes, scores, idxs, iou_threshold):
    """torchvision's `_batched_nms_vanilla`: nms per class, then all kept by decreasing score."""
    keep = [np.zeros(0, np.int64)]
    for c in np.unique(idxs):
        members = np.flatnonzero(idxs == c)
        keep.append(members[reference_nms(boxes[members], scores[members], iou_threshold)])
    keep = np.sort(np.concatenate(keep))  # index order, so that the stable sort keeps ties in it
    return keep[np.argsort(-scores[keep], kind="stable")]


def _scores(rng, n, tied):
    """Continuous scores, or few distinct values (many ties)."""
    return (rng.integers(0, 4, n) / 4 if tied else rng.random(n)).astype(np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("threshold", [-0.1, 0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_the_reference(dtype, tied, threshold):
    rng = np.random.default_rng(int(threshold * 10) + 3)
    for n in (1, 2, 17, 200):
        boxes = random_boxes(rng, n, dtype, degenerate=0.1)
        boxes[: n // 4] = boxes[n // 4 : 2 * (n // 4)]  # exact duplicates: IoU exactly 1
        scores = _scores(rng, n, tied)
        keep = vision.nms(boxes, scores, threshold)
        assert keep.dtype == np.int64
        np.testing.assert_array_equal(keep, reference_nms(boxes, scores, threshold))


def test_nms_ties_follow_torch_sort_where_torch_is_stable():
    """torchvision sorts with torch's unstable sort, which keeps index order up to 16 boxes."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for _ in range(20):
        boxes = random_boxes(rng, 16, scale=3.0)
        scores = _scores(rng, 16, tied=True)
        order = torch.from_numpy(scores).sort(0, descending=True)[1].numpy()
        np.testing.assert_array_equal(
            vision.nms(boxes, scores, 0.3), reference_nms(boxes, scores, 0.3, order)
        )


def test_nms_degenerate_boxes_as_torchvision():
    boxes = np.array(
        [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 2, 2], [1, 1, 1, 3], [0, 0, 2, 2]], np.float32
    )
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5], np.float32)
    # two equal zero-area boxes: 0/0 is NaN, not > threshold: both kept; a zero-area box
    # inside a real one has IoU 0 and survives; the duplicate real box (IoU 1) is suppressed
    np.testing.assert_array_equal(vision.nms(boxes, scores, 0.5), [0, 1, 2, 3])
    # a negative threshold suppresses every box whose IoU with a kept one is defined (0 > -0.5):
    # only the zero-area boxes, 0/0 with each other, survive
    np.testing.assert_array_equal(vision.nms(boxes, scores, -0.5), [0, 1, 3])


def test_touching_boxes_do_not_overlap_at_threshold_zero():
    boxes = np.array([[0, 0, 1, 1], [1, 0, 2, 1], [0.999, 0.5, 3, 1], [-5, -5, -4, 0]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    np.testing.assert_array_equal(vision.nms(boxes, scores, 0.0), [0, 1, 3])
    np.testing.assert_array_equal(vision.nms(boxes, scores, 0.0), reference_nms(boxes, scores, 0))


@pytest.mark.parametrize("tied", [False, True])
def test_batched_nms_matches_per_class_reference(tied):
    rng = np.random.default_rng(5)
    for n, classes in ((1, 1), (30, 3), (300, 5)):
        boxes = random_boxes(rng, n, degenerate=0.05)
        scores = _scores(rng, n, tied)
        idxs = rng.integers(0, classes, n)
        keep = vision.batched_nms(boxes, scores, idxs, 0.4)
        np.testing.assert_array_equal(keep, reference_batched_nms(boxes, scores, idxs, 0.4))


def test_batched_nms_never_suppresses_across_classes():
    boxes = np.array([[0, 0, 1, 1]] * 3, np.float32)
    scores = np.array([0.5, 0.9, 0.7], np.float32)
    np.testing.assert_array_equal(vision.batched_nms(boxes, scores, [0, 1, 0], 0.5), [1, 2])
    np.testing.assert_array_equal(vision.nms(boxes, scores, 0.5), [1])


def test_tensors_in_give_int64_tensors_out():
    boxes = ad.tensor(random_boxes(np.random.default_rng(6), 20))
    scores = ad.rand(20)
    keep = vision.nms(boxes, scores, 0.5)
    assert isinstance(keep, ad.Tensor) and keep.dtype == np.int64
    np.testing.assert_array_equal(keep.data, reference_nms(boxes.data, scores.data, 0.5))
    keep = vision.batched_nms(boxes, scores, ad.tensor(np.arange(20) % 2), 0.5)
    assert isinstance(keep, ad.Tensor) and keep.dtype == np.int64


def test_kernel_keeps_dtype_arithmetic():
    """IoU in float32 for float32 boxes: the comparison at the threshold rounds as in C++."""
    rng = np.random.default_rng(7)
    boxes = random_boxes(rng, 500, np.float32)
    kept32 = nms_sorted(boxes, np.zeros(500, np.int64), 0.2)
    np.testing.assert_array_equal(kept32, reference_nms(boxes, -np.arange(500.0), 0.2))


def test_empty_inputs_give_empty_outputs():
    for fn, args in ((vision.nms, ()), (vision.batched_nms, (np.zeros(0, np.int64),))):
        keep = fn(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), *args, 0.5)
        assert keep.shape == (0,) and keep.dtype == np.int64
    assert vision.nms([], [], 0.5).shape == (0,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: vision.nms(np.zeros((3, 4)), np.zeros(2), 0.5), r"nms: scores must be \(3,\)"),
        (lambda: vision.nms(np.zeros((3, 5)), np.zeros(3), 0.5), r"nms: boxes .*\(3, 5\)"),
        (lambda: vision.nms([[0, 0, 1, 1]], [np.nan], 0.5), "nms: scores hold NaN"),
        (lambda: vision.nms([[0, 0, np.inf, 1]], [1.0], 0.5), "nms: boxes holds NaN or inf"),
        (lambda: vision.nms([[0, 2, 1, 1]], [1.0], 0.5), r"nms: boxes\[0\] .* y2 < y1"),
        (
            lambda: vision.batched_nms(np.zeros((2, 4)), np.zeros(2), [0.5, 1.5], 0.5),
            r"batched_nms: idxs must be \(2,\) integers",
        ),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
