"""mean_average_precision on cases computed by hand (all-point interpolated VOC AP)."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import vision

A = [0.0, 0.0, 0.4, 0.4]
B = [0.5, 0.5, 0.9, 0.9]
C = [0.0, 0.5, 0.4, 0.9]
NEAR_A = [0.0, 0.0, 0.4, 0.3]  # IoU 0.75 with A
FAR = [0.6, 0.0, 0.7, 0.1]  # overlaps nothing


def _map(preds, truths, **kw):
    """preds: per image a list of (box, score, class); truths: per image (box, class)."""
    pb = [np.array([p[0] for p in image], np.float32).reshape(-1, 4) for image in preds]
    ps = [np.array([p[1] for p in image]) for image in preds]
    pc = [np.array([p[2] for p in image], np.int64) for image in preds]
    tb = [np.array([t[0] for t in image], np.float32).reshape(-1, 4) for image in truths]
    tc = [np.array([t[1] for t in image], np.int64) for image in truths]
    return vision.mean_average_precision(pb, ps, pc, tb, tc, **kw)


def test_a_perfect_detector_scores_one():
    truths = [[(A, 0), (B, 1)], [(C, 0)], []]
    preds = [[(A, 0.9, 0), (B, 0.8, 1)], [(C, 0.7, 0)], []]
    assert _map(preds, truths) == 1.0


def test_a_false_positive_ranked_first_halves_ap():
    # ranks: FP, TP -> precision 0, 1/2 at recall 0, 1: area 1/2
    truths = [[(A, 0)]]
    assert _map([[(FAR, 0.9, 0), (NEAR_A, 0.8, 0)]], truths) == pytest.approx(0.5)
    # ranked last it costs nothing: precision 1 is reached at recall 1 first
    assert _map([[(FAR, 0.1, 0), (NEAR_A, 0.8, 0)]], truths) == pytest.approx(1.0)


def test_a_duplicate_detection_is_a_false_positive():
    # ranks: TP (A), duplicate of A, TP (B): recall 1/2, 1/2, 1; precision 1, 1/2, 2/3
    # -> envelope 1 on (0, 1/2], 2/3 on (1/2, 1]: AP = 1/2 + 1/3
    preds = [[(A, 0.9, 0), (NEAR_A, 0.8, 0), (B, 0.7, 0)]]
    assert _map(preds, [[(A, 0), (B, 0)]]) == pytest.approx(5 / 6)


def test_two_classes_are_averaged_and_classes_without_truth_skipped():
    truths = [[(A, 0), (B, 1)]]
    preds = [[(A, 0.9, 0), (FAR, 0.95, 1), (B, 0.5, 1), (C, 0.99, 7)]]  # class 7: no truth
    assert _map(preds, truths) == pytest.approx((1.0 + 0.5) / 2)
    boxes, scores, classes = (
        np.array([A, FAR, B, C]),
        np.array([0.9, 0.95, 0.5, 0.99]),
        [0, 1, 1, 7],
    )
    ap = vision.average_precision_per_class([boxes], [scores], [classes], [[A, B]], [[0, 1]])
    assert ap == pytest.approx({0: 1.0, 1: 0.5})


def test_matching_threshold_across_images_and_unmatched_truth():
    # IoU 0.75 matches at 0.5 but not at 0.8; a missed object caps recall at 1/2
    assert _map([[(NEAR_A, 0.9, 0)]], [[(A, 0)]], iou_threshold=0.8) == 0.0
    preds = [[(NEAR_A, 0.9, 0)], []]
    assert _map(preds, [[(A, 0)], [(B, 0)]]) == pytest.approx(0.5)
    # predictions are ranked across images: image 1's FP outranks image 0's TP
    preds = [[(A, 0.5, 0)], [(FAR, 0.9, 0)]]
    assert _map(preds, [[(A, 0)], [(B, 0)]]) == pytest.approx(0.25)


def test_greedy_matching_takes_the_best_free_truth():
    # the first prediction takes `left`; the second overlaps `left` most (IoU 0.9, taken) and
    # `right` by 0.67: it matches `right` (the VOC devkit would count it a false positive)
    left, right = [0.0, 0.0, 0.4, 0.4], [0.1, 0.0, 0.5, 0.4]
    preds = [[(left, 0.9, 0), ([0.02, 0.0, 0.42, 0.4], 0.8, 0)]]
    assert _map(preds, [[(left, 0), (right, 0)]]) == 1.0


def test_empty_inputs_and_tensors():
    assert np.isnan(vision.mean_average_precision([], [], [], [], []))
    none = np.zeros((0, 4))
    assert _map([[]], [[(A, 0)]]) == 0.0  # nothing detected
    boxes = ad.tensor(np.array([A], np.float32))
    got = vision.mean_average_precision(
        [boxes], [ad.tensor([0.5])], [ad.tensor([0])], [boxes], [ad.tensor([0])]
    )
    assert got == 1.0
    assert np.isnan(vision.mean_average_precision([none], [[]], [[]], [none], [[]]))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([np.zeros((1, 4))], [[1.0]], [[0]], [], []), "one entry per image"),
        (([np.zeros((1, 4))], [[1.0, 2.0]], [[0]], [np.zeros((0, 4))], [[]]), "image 0 has"),
        (([[[0, 0, 1, np.nan]]], [[1.0]], [[0]], [np.zeros((0, 4))], [[]]), r"pred_boxes\[0\]"),
    ],
)
def test_bad_input_raises_clear_errors(args, match):
    with pytest.raises(ValueError, match=match):
        vision.mean_average_precision(*args)
