"""Anchors and the YOLO grid target: layout, assignment rules, encode -> decode round trips,
the raw-output mapping, the conv-head view; errors."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import vision

ANCHORS = np.array([[0.2, 0.2], [0.3, 0.1]], np.float32)  # (height, width): square, tall


def _boxes_in_distinct_cells(rng, n, sh, sw):
    """n boxes in [0, 1] whose centres fall in n distinct cells of an sh x sw grid."""
    cells = rng.choice(sh * sw, n, replace=False)
    cy = (cells // sw + rng.uniform(0.05, 0.95, n)) / sh
    cx = (cells % sw + rng.uniform(0.05, 0.95, n)) / sw
    half_h = np.minimum(rng.uniform(0.02, 0.3, n), np.minimum(cy, 1 - cy))
    half_w = np.minimum(rng.uniform(0.02, 0.3, n), np.minimum(cx, 1 - cx))
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1).astype(np.float32)


def test_make_anchors_centres_each_anchor_on_its_cell():
    anchors = vision.make_anchors((2, 4), ANCHORS)
    assert anchors.shape == (2, 4, 2, 4) and anchors.dtype == np.float32
    # row 1 (y in [0.5, 1)), column 2 (x in [0.5, 0.75)): centre (0.625, 0.75)
    np.testing.assert_allclose(anchors[1, 2, 1], [0.575, 0.6, 0.675, 0.9])
    centres = vision.box_convert(anchors.reshape(-1, 4), "xyxy", "cxcywh")
    np.testing.assert_allclose(centres[:, 2:], np.tile(ANCHORS[:, ::-1], (8, 1)), rtol=1e-6)
    assert vision.make_anchors(3, ANCHORS.astype(np.float64)).dtype == np.float64


def test_encode_by_hand():
    # centre (0.35, 0.7) on a 4 x 4 grid: column 1, row 2; offsets 0.4, 0.8; a 0.2 x 0.2 box
    box = np.array([[0.25, 0.6, 0.45, 0.8]], np.float32)
    target = vision.yolo_encode(box, [2], 4, ANCHORS, num_classes=3)
    assert target.shape == (4, 4, 2, 8) and target.dtype == np.float32
    assert np.count_nonzero(target[..., 0]) == 1
    np.testing.assert_allclose(target[2, 1, 0], [1, 0.4, 0.8, 1, 1, 0, 0, 1], rtol=1e-5)
    # a tall box goes to the tall anchor; bh, bw relative to it
    tall = np.array([[0.1, 0.1, 0.15, 0.4]], np.float32)
    target = vision.yolo_encode(tall, [0], 2, ANCHORS, num_classes=1)
    np.testing.assert_allclose(target[0, 0, 1, 3:5], [0.3 / 0.3, 0.05 / 0.1], rtol=1e-5)


def test_encode_resolves_collisions_by_area_then_free_anchor():
    big = [0.0, 0.0, 0.24, 0.24]
    small = [0.05, 0.05, 0.19, 0.19]  # the same cell, the same best (square) anchor
    third = [0.1, 0.1, 0.14, 0.14]
    target = vision.yolo_encode(np.array([small, big, third]), [0, 1, 2], 2, ANCHORS, 3)
    cell = target[0, 0]
    np.testing.assert_array_equal(cell[:, 0], [1, 1])
    np.testing.assert_array_equal(cell[0, 5:], [0, 1, 0])  # the larger box keeps anchor 0
    np.testing.assert_array_equal(cell[1, 5:], [1, 0, 0])  # the next takes the free anchor
    np.testing.assert_allclose(cell[1, 3:5], [0.14 / 0.3, 0.14 / 0.1], rtol=1e-5)
    assert target[..., 0].sum() == 2  # the third has no anchor left: dropped


@pytest.mark.parametrize("grid", [3, (4, 6)])
def test_encode_then_decode_returns_the_boxes(grid):
    rng = np.random.default_rng(0)
    sh, sw = (grid, grid) if isinstance(grid, int) else grid
    for n in (1, 5, sh * sw):
        boxes = _boxes_in_distinct_cells(rng, n, sh, sw)
        labels = rng.integers(0, 4, n)
        target = vision.yolo_encode(boxes, labels, grid, ANCHORS, num_classes=4)
        assert np.count_nonzero(target[..., 0]) == n
        got, scores, classes = vision.yolo_decode(target, ANCHORS, iou_threshold=1.0, raw=False)
        # all scores tie at 1: cells come in raster order, as the distinct cells sort
        order = np.argsort(_cells(boxes, sh, sw))
        np.testing.assert_allclose(got, boxes[order], atol=1e-6)
        np.testing.assert_array_equal(classes, labels[order])
        np.testing.assert_array_equal(scores, 1)


def _cells(boxes, sh, sw):
    """Raster index of the cell holding each box's centre."""
    cy, cx = (boxes[:, 1] + boxes[:, 3]) / 2, (boxes[:, 0] + boxes[:, 2]) / 2
    return (cy * sh).astype(int) * sw + (cx * sw).astype(int)


def test_decode_maps_raw_outputs():
    rng = np.random.default_rng(1)
    boxes = _boxes_in_distinct_cells(rng, 4, 4, 4)
    target = vision.yolo_encode(boxes, [0, 1, 2, 0], 4, ANCHORS, num_classes=3)
    # the raw output that maps to the target: logits and logs; pc of empty cells -> 0.01
    raw = np.empty_like(target)
    pc = np.where(target[..., 0] == 1, 0.99, 0.01)
    raw[..., 0] = np.log(pc / (1 - pc))
    raw[..., 1:3] = np.log(np.clip(target[..., 1:3], 1e-6, None) / (1 - target[..., 1:3]))
    raw[..., 3:5] = np.log(np.where(target[..., 0:1] == 1, target[..., 3:5], 1))
    raw[..., 5:] = np.where(target[..., 5:] == 1, 10.0, 0.0)
    got, scores, classes = vision.yolo_decode(raw, ANCHORS, 0.5, 1.0)
    assert len(got) == 4
    probability = np.exp(10) / (np.exp(10) + 2)
    np.testing.assert_allclose(scores, 0.99 * probability, rtol=1e-5)
    np.testing.assert_allclose(np.sort(got, 0), np.sort(boxes, 0), atol=1e-5)


def test_decode_suppresses_duplicates_within_a_class():
    # two 0.2 x 0.2 boxes centred at x = 0.225 and 0.275 (cells (0, 0) and (0, 1)): IoU 0.6
    out = np.zeros((4, 4, 2, 7), np.float32)
    out[0, 0, 0, :6] = [1.0, 0.9, 0.5, 1, 1, 1]
    out[0, 1, 0, :6] = [0.8, 0.1, 0.5, 1, 1, 1]
    assert len(vision.yolo_decode(out, ANCHORS, iou_threshold=0.7, raw=False)[0]) == 2
    boxes, scores, _ = vision.yolo_decode(out, ANCHORS, iou_threshold=0.5, raw=False)
    np.testing.assert_allclose(boxes, [[0.125, 0.025, 0.325, 0.225]], rtol=1e-6)
    np.testing.assert_allclose(scores, [1.0])
    out[0, 1, 0, 5:] = [0, 1]  # another class: no suppression
    assert len(vision.yolo_decode(out, ANCHORS, iou_threshold=0.5, raw=False)[0]) == 2


def test_decode_a_batch_and_a_tensor():
    target = vision.yolo_encode([[0.1, 0.1, 0.3, 0.3]], [1], 2, ANCHORS, 2)
    batch = ad.tensor(np.stack([target, np.zeros_like(target)]))
    boxes, scores, classes = vision.yolo_decode(batch, ANCHORS, raw=False)
    assert len(boxes) == len(scores) == len(classes) == 2
    assert boxes[0].shape == (1, 4) and boxes[1].shape == (0, 4)
    assert classes[0].dtype == np.int64 and classes[0][0] == 1
    empty = vision.yolo_decode(np.zeros((0, 2, 2, 2, 7)), ANCHORS)
    assert empty == ([], [], [])


def test_yolo_layout_views_a_conv_head():
    n, b, c, sh, sw = 2, 2, 3, 4, 5
    head = np.arange(n * b * (5 + c) * sh * sw, dtype=np.float32).reshape(n, b * (5 + c), sh, sw)
    out = vision.yolo_layout(head, b)
    assert out.shape == (n, sh, sw, b, 5 + c)
    assert out[1, 2, 3, 1, 4] == head[1, 1 * (5 + c) + 4, 2, 3]
    t = ad.tensor(head, requires_grad=True)
    view = vision.yolo_layout(t, b)
    np.testing.assert_array_equal(view.data, out)
    (view * ad.tensor(out)).sum().backward()
    np.testing.assert_array_equal(t.grad.data, head)


def test_empty_image_encodes_to_zeros():
    target = vision.yolo_encode(np.zeros((0, 4)), np.zeros(0, np.int64), 3, ANCHORS, 2)
    assert target.shape == (3, 3, 2, 7) and not target.any()
    boxes, scores, classes = vision.yolo_decode(target, ANCHORS, raw=False)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and classes.shape == (0,)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: vision.yolo_encode([[0, 0, 1.5, 1]], [0], 2, ANCHORS, 2), r"in \[0, 1\]"),
        (lambda: vision.yolo_encode([[0.5, 0, 0.2, 1]], [0], 2, ANCHORS, 2), "x2 < x1"),
        (lambda: vision.yolo_encode([[0, 0, 1, 1]], [2], 2, ANCHORS, 2), r"labels .*\[0, 2\)"),
        (lambda: vision.yolo_encode([[0, 0, 1, 1]], [0, 1], 2, ANCHORS, 2), r"labels .*\(1,\)"),
        (lambda: vision.yolo_encode([[0, 0, 1, 1]], [0], 0, ANCHORS, 2), "grid_size"),
        (lambda: vision.make_anchors(2, [[0.1, -0.1]]), "positive"),
        (lambda: vision.make_anchors(2, [0.1, 0.1]), r"anchors must be \(B, 2\)"),
        (lambda: vision.yolo_decode(np.zeros((2, 2, 3, 7)), ANCHORS), "B = 2 anchors"),
        (lambda: vision.yolo_layout(np.zeros((1, 13, 2, 2)), 2), r"\(1, 13, 2, 2\)"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
