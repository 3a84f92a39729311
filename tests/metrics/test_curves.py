"""Curves, average precision and ROC AUC on hand-computed cases, and their errors."""

import math

import numpy as np
import pytest

from autodiff import metrics

Y = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]


def test_precision_recall_curve_by_hand():
    # thresholds 0.1, 0.35, 0.4, 0.8 predict 4, 3, 2, 1 samples positive with 2, 2, 1, 1 hits
    precision, recall, thresholds = metrics.precision_recall_curve(Y, SCORES)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(recall, [1.0, 1.0, 0.5, 0.5, 0.0])
    np.testing.assert_allclose(thresholds, [0.1, 0.35, 0.4, 0.8])


def test_average_precision_is_the_step_area():
    # recall steps of 0.5 at precision 1 (threshold 0.8) and 2/3 (threshold 0.35)
    assert metrics.average_precision_score(Y, SCORES) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    perfect = metrics.average_precision_score([0, 1, 1], [0.1, 0.5, 0.9])
    assert perfect == 1.0


def test_roc_by_hand():
    fpr, tpr, thresholds = metrics.roc_curve(Y, SCORES)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    assert thresholds[0] == np.inf
    # 3 of the 4 (positive, negative) pairs are ordered correctly
    assert metrics.roc_auc_score(Y, SCORES) == pytest.approx(0.75)
    assert metrics.roc_auc_score(["b", "b", "c", "c"], SCORES) == pytest.approx(0.75)
    assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)


def test_ties_make_one_threshold():
    precision, recall, thresholds = metrics.precision_recall_curve([0, 1, 1], [0.5, 0.5, 0.9])
    np.testing.assert_allclose(thresholds, [0.5, 0.9])
    np.testing.assert_allclose(precision, [2 / 3, 1, 1])


def test_single_class_inputs_warn():
    with pytest.warns(UserWarning, match="no positive class"):
        _, recall, _ = metrics.precision_recall_curve([0, 0], [0.1, 0.2])
    assert recall.tolist() == [1.0, 1.0, 0.0]
    with pytest.warns(metrics.UndefinedMetricWarning):
        assert math.isnan(metrics.roc_auc_score([1, 1], [0.1, 0.2]))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.precision_recall_curve([0, 1], [np.nan, 1.0]), "NaN"),
        (lambda: metrics.roc_curve([0, 1], [np.inf, 1.0]), "infinity"),
        (lambda: metrics.precision_recall_curve([0, 1], [0.5]), "different numbers"),
        (lambda: metrics.precision_recall_curve([], []), "empty input"),
        (lambda: metrics.precision_recall_curve([1, 2], [0.1, 0.2]), "pos_label"),
        (lambda: metrics.average_precision_score([0, 1, 2], [0.1, 0.2, 0.3]), r"shape \(3, 3\)"),
        (lambda: metrics.average_precision_score([0, 1], np.eye(2)), r"\[:, 1\]"),
        (lambda: metrics.average_precision_score([0, 2], [0.1, 0.2]), "pos_label=1 is not"),
        (lambda: metrics.roc_auc_score([0, 1, 2], [0.1, 0.2, 0.3]), "only binary"),
        (lambda: metrics.auc([0, 1, 0.5], [0, 1, 1]), "neither increasing"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
