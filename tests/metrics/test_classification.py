"""Label metrics on hand-computed cases (no scikit-learn needed), and their errors."""

import math
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import metrics

# The course's example: precision 95%, recall 90%. 100 positives, 90 found (tp 90, fn 10);
# 90 / (90 + fp) = 0.95 gives fp = 90 / 19, so weight the false positives to that count.
_TP, _FN, _FP = 90, 10, 90 / 19


def _course_classifier():
    y_true = np.r_[np.ones(_TP + _FN, int), 0]
    y_pred = np.r_[np.ones(_TP, int), np.zeros(_FN, int), 1]
    weight = np.r_[np.ones(_TP + _FN), _FP]
    return y_true, y_pred, weight


def test_course_f1_is_the_harmonic_mean():
    y_true, y_pred, weight = _course_classifier()
    assert metrics.precision_score(y_true, y_pred, sample_weight=weight) == pytest.approx(0.95)
    assert metrics.recall_score(y_true, y_pred, sample_weight=weight) == pytest.approx(0.90)
    f1 = metrics.f1_score(y_true, y_pred, sample_weight=weight)
    assert f1 == pytest.approx(2 * 0.95 * 0.90 / (0.95 + 0.90))
    assert round(f1, 3) == 0.924
    f2 = metrics.fbeta_score(y_true, y_pred, beta=2, sample_weight=weight)
    assert f2 == pytest.approx(5 * 0.95 * 0.90 / (4 * 0.95 + 0.90))


# a 3-class example counted by hand:
#            pred 0  pred 1  pred 2
#   true 0      2       1       0
#   true 1      0       2       1
#   true 2      1       0       1
Y_TRUE = [0, 0, 0, 1, 1, 1, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 2, 0, 2]
CM = [[2, 1, 0], [0, 2, 1], [1, 0, 1]]


def test_confusion_matrix_by_hand():
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    assert cm.dtype == np.int64 and cm.tolist() == CM
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED, 4).tolist() == [[*row, 0] for row in CM] + [
        [0, 0, 0, 0]
    ]
    assert metrics.confusion_matrix(Y_TRUE, Y_PRED, labels=[2, 0]).tolist() == [[1, 1], [0, 2]]
    rows = metrics.confusion_matrix(Y_TRUE, Y_PRED, normalize="true")
    np.testing.assert_allclose(rows, np.array(CM) / [[3], [3], [2]])
    np.testing.assert_allclose(
        metrics.confusion_matrix(Y_TRUE, Y_PRED, normalize="all"), np.array(CM) / 8
    )
    weighted = metrics.confusion_matrix(Y_TRUE, Y_PRED, sample_weight=np.full(8, 0.5))
    assert weighted.dtype == np.float64 and weighted.tolist() == (np.array(CM) / 2).tolist()


def test_precision_recall_f1_by_hand():
    # per class: tp (2, 2, 1), predicted (3, 3, 2), true (3, 3, 2)
    p, r, f, support = metrics.precision_recall_fscore_support(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(p, [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(r, [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(f, [2 / 3, 2 / 3, 1 / 2])
    assert support.tolist() == [3, 3, 2]
    macro = metrics.f1_score(Y_TRUE, Y_PRED, average="macro")
    assert macro == pytest.approx((2 / 3 + 2 / 3 + 1 / 2) / 3)
    assert metrics.f1_score(Y_TRUE, Y_PRED, average="micro") == pytest.approx(5 / 8)
    weighted = metrics.recall_score(Y_TRUE, Y_PRED, average="weighted")
    assert weighted == pytest.approx((3 * 2 / 3 + 3 * 2 / 3 + 2 * 1 / 2) / 8)
    assert metrics.accuracy_score(Y_TRUE, Y_PRED) == 5 / 8
    assert metrics.accuracy_score(Y_TRUE, Y_PRED, normalize=False) == 5.0
    p1 = metrics.precision_score(Y_TRUE, Y_PRED, labels=[1], average="macro")
    assert p1 == pytest.approx(2 / 3)


def test_zero_division_choices():
    y_true, y_pred = [0, 0, 1], [0, 0, 0]  # class 1 is never predicted
    with pytest.warns(metrics.UndefinedMetricWarning, match="Precision is ill-defined"):
        assert metrics.precision_score(y_true, y_pred) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.precision_score(y_true, y_pred, zero_division=0) == 0.0
        assert metrics.precision_score(y_true, y_pred, zero_division=1) == 1.0
        assert math.isnan(metrics.precision_score(y_true, y_pred, zero_division=np.nan))
        # nan is left out of averages: class 0's precision 2/3 alone
        macro = metrics.precision_score(y_true, y_pred, average="macro", zero_division=np.nan)
        assert macro == pytest.approx(2 / 3)
        # F1 of class 1 has a denominator (one true sample), so it is 0 without a warning
        assert metrics.f1_score(y_true, y_pred) == 0.0
    with pytest.raises(ValueError, match="zero_division"):
        metrics.f1_score(y_true, y_pred, zero_division="nan")


def test_labels_as_strings_tensors_and_columns():
    words_true = ["cat", "dog", "cat", "cat"]
    words_pred = ["cat", "cat", "cat", "dog"]
    assert metrics.f1_score(words_true, words_pred, pos_label="cat") == pytest.approx(2 / 3)
    assert metrics.confusion_matrix(words_true, words_pred).tolist() == [[2, 1], [1, 0]]
    tensor_true = ad.tensor(Y_TRUE)
    logits = ad.tensor(np.eye(3)[Y_PRED] * 2.0, requires_grad=True)
    assert metrics.accuracy_score(tensor_true, logits.argmax(1)) == 5 / 8
    column = np.array(Y_TRUE)[:, None]
    assert metrics.confusion_matrix(column, Y_PRED).tolist() == CM


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.accuracy_score([0, 1], [0, 1, 1]), "different numbers of samples"),
        (lambda: metrics.f1_score([], []), "empty input"),
        (lambda: metrics.f1_score([0, 1, 2], [0, 1, 1]), 'multiclass .* average="binary"'),
        (lambda: metrics.f1_score([0, 1], [0, 1], average="mean"), "average must be one of"),
        (lambda: metrics.f1_score([0, 2], [0, 2]), "pos_label=1 is not a valid label"),
        (lambda: metrics.f1_score(["a", "b"], ["a", "b"]), "pos_label=1 is not a valid"),
        (lambda: metrics.f1_score([0, 1], [0.5, 1.0]), "continuous values"),
        (lambda: metrics.f1_score([0, 1], [np.nan, 1.0]), "NaN"),
        (lambda: metrics.f1_score([0, 1], ["a", "b"], average="macro"), "mix string"),
        (lambda: metrics.accuracy_score(np.eye(3), np.eye(3)), "argmax"),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], labels=[5]), "must be in y_true"),
        (lambda: metrics.confusion_matrix([0, 3], [0, 1], 3), r"\[3\] are not class indices"),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], 2, labels=[0]), "not both"),
        (lambda: metrics.confusion_matrix([0], [0], normalize="rows"), "normalize"),
        (lambda: metrics.accuracy_score([0], [0], sample_weight=[1, 2]), "sample_weight"),
        (lambda: metrics.fbeta_score([0, 1], [0, 1], beta=-1), "beta"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_empty_input():
    with pytest.raises(ValueError, match="empty input"):
        metrics.accuracy_score([], [])
    with pytest.raises(ValueError, match="empty input"):
        metrics.confusion_matrix([], [])
    # with the classes known, an empty input is an empty count (scikit-learn raises)
    assert metrics.confusion_matrix([], [], 3).tolist() == [[0] * 3] * 3
    assert metrics.confusion_matrix([], [], labels=["a", "b"]).shape == (2, 2)


def test_pos_label_is_ignored_with_a_warning_outside_binary():
    with pytest.warns(UserWarning, match="pos_label=0 is ignored"):
        metrics.f1_score([0, 1, 1], [0, 1, 0], pos_label=0, average="macro")


def test_get_metric():
    assert metrics.get_metric("accuracy") is metrics.accuracy_score
    f1_macro = metrics.get_metric("f1_macro")
    assert f1_macro(Y_TRUE, Y_PRED) == metrics.f1_score(Y_TRUE, Y_PRED, average="macro")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.get_metric("precision")([0, 1], [0, 0]) == 0.0
    with pytest.raises(ValueError, match="unknown metric 'f2'.*f1_weighted"):
        metrics.get_metric("f2")
