"""Threshold curves from scores: precision-recall and ROC, average precision and ROC AUC, with
scikit-learn's names, arguments and numbers.

Every distinct score is a threshold; a sample is predicted positive when its score is >= the
threshold. Scores are 1-D (N,): the probability or logit of the positive class (for a softmax
output (N, 2), pass `probs[:, 1]`).
"""

import warnings

import numpy as np

from autodiff.metrics._inputs import (
    UndefinedMetricWarning,
    labels_1d,
    same_length,
    scores_array,
    weights_1d,
)


def _threshold_counts(fn, y_true, y_score, pos_label, sample_weight):
    """(false positives, true positives, thresholds) at each distinct score, highest first."""
    y_true = labels_1d(fn, "y_true", y_true)
    y_score = scores_array(fn, "y_score", y_score)
    same_length(fn, y_true=y_true, y_score=y_score)
    weight = weights_1d(fn, sample_weight, len(y_true))
    classes = np.unique(y_true)
    if pos_label is None:
        numeric = classes.dtype.kind in "biuf"
        if not numeric or not (set(classes) <= {0, 1} or set(classes) <= {-1, 1}):
            raise ValueError(
                f"{fn}: y_true takes values {classes.tolist()} and pos_label is not given: "
                f"make y_true take values in {{0, 1}} or {{-1, 1}}, or pass pos_label"
            )
        pos_label = 1
    positive = (y_true == pos_label).astype(np.float64)
    if weight is not None:  # zero-weight samples must not add thresholds
        keep = weight != 0
        positive, y_score, weight = positive[keep], y_score[keep], weight[keep]
    order = np.argsort(y_score, kind="stable")[::-1]
    positive, y_score = positive[order], y_score[order]
    # the last sample of each run of equal scores closes that threshold
    ends = np.r_[np.flatnonzero(np.diff(y_score)), len(y_score) - 1]
    if weight is None:
        tps = np.cumsum(positive)[ends]
        fps = 1.0 + ends - tps
    else:
        weight = weight[order].astype(np.float64)
        tps = np.cumsum(positive * weight)[ends]
        fps = np.cumsum((1 - positive) * weight)[ends]
    return fps, tps, y_score[ends]


def precision_recall_curve(
    y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=False
):
    """Precision and recall at every threshold.

    Parameters
    ----------
    y_true : (N,) labels
        In {0, 1} or {-1, 1}, or any two labels with `pos_label` naming the positive one.
    y_score : (N,) scores of the positive class
    pos_label : label, optional
    sample_weight : (N,), optional
    drop_intermediate : bool
        Drop thresholds where the true-positive count does not change (the plot is unchanged).

    Returns
    -------
    precision, recall : (T + 1,) float64
        Decreasing recall; the last point is (recall 0, precision 1), which has no threshold.
        With no positive in y_true, recall is 1 everywhere (and a warning).
    thresholds : (T,) float64
        The distinct scores, increasing.

    Raises
    ------
    ValueError
        On NaN or infinite scores, mismatched lengths, empty input, or labels that are not
        binary without a pos_label.
    """
    fps, tps, thresholds = _threshold_counts(
        "precision_recall_curve", y_true, y_score, pos_label, sample_weight
    )
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn(
            "precision_recall_curve: no positive class found in y_true, recall is set to one "
            "for all thresholds",
            UserWarning,
            stacklevel=2,
        )
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_average_precision(y_true, y_score, pos_label, sample_weight):
    """The step-wise area under the precision-recall curve: sum_n (R_n - R_{n-1}) P_n."""
    precision, recall, _ = precision_recall_curve(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight
    )
    # -0.0 from rounding becomes 0.0
    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    """Average precision: sum_n (R_n - R_{n-1}) P_n over the thresholds, without interpolation.

    Parameters
    ----------
    y_true : (N,) labels
        Binary with y_score (N,), or multiclass (K > 2 labels) with y_score (N, K) whose columns
        follow the sorted labels (scored one class against the rest).
    y_score : (N,) or (N, K) scores
    average : {"macro", "micro", "weighted", None}
        For multiclass: mean over classes, pooled, weighted by class counts, or per class.
    pos_label : label
        The positive class of a binary y_true (multiclass needs 1).
    sample_weight : (N,), optional

    Returns
    -------
    float, or (K,) float64 with average=None for multiclass.

    Raises
    ------
    ValueError
        As `precision_recall_curve`; also on a y_score shape that does not fit y_true.
    """
    fn = "average_precision_score"
    if average not in ("macro", "micro", "weighted", None):
        raise ValueError(f'{fn}: average must be "macro", "micro", "weighted" or None')
    labels = labels_1d(fn, "y_true", y_true)
    classes = np.unique(labels)
    scores = scores_array(fn, "y_score", y_score, ndims=(1, 2))
    if len(classes) <= 2:
        if scores.ndim != 1:
            raise ValueError(
                f"{fn}: y_true is binary, so y_score must be (N,) scores of the positive "
                f"class, got shape {scores.shape} (for probabilities (N, 2) pass [:, 1])"
            )
        if len(classes) == 2 and pos_label not in classes.tolist():
            raise ValueError(f"{fn}: pos_label={pos_label!r} is not one of {classes.tolist()}")
        return _binary_average_precision(labels, scores, pos_label, sample_weight)
    if pos_label != 1:
        raise ValueError(f"{fn}: pos_label is fixed to 1 for multiclass y_true, got {pos_label!r}")
    if scores.shape != (len(labels), len(classes)):
        raise ValueError(
            f"{fn}: y_true has {len(classes)} classes, so y_score must have shape "
            f"{(len(labels), len(classes))}, got {scores.shape}"
        )
    onehot = (labels[:, None] == classes[None, :]).astype(np.int64)
    weight = weights_1d(fn, sample_weight, len(labels))
    if average == "micro":
        repeated = None if weight is None else np.repeat(weight, len(classes))
        return _binary_average_precision(onehot.ravel(), scores.ravel(), 1, repeated)
    per_class = np.array(
        [
            _binary_average_precision(column, score, 1, weight)
            for column, score in zip(onehot.T, scores.T)
        ]
    )
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    class_weight = onehot.sum(0) if weight is None else (onehot * weight[:, None]).sum(0)
    if class_weight.sum() == 0:
        return 0.0
    return float(np.average(np.where(class_weight == 0, 0.0, per_class), weights=class_weight))


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    """False- and true-positive rates at every threshold.

    Parameters
    ----------
    As `precision_recall_curve`; drop_intermediate (default True) drops thresholds on straight
    stretches of the curve.

    Returns
    -------
    fpr, tpr : (T + 1,) float64
        Increasing, from (0, 0); nan (and a warning) when y_true has no negatives / positives.
    thresholds : (T + 1,) float64
        Decreasing; the first is inf (nothing predicted positive).
    """
    fps, tps, thresholds = _threshold_counts("roc_curve", y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    return _rate(fps, "negative"), _rate(tps, "positive"), thresholds


def _rate(counts, kind):
    """Cumulative counts over their total, or nan with a warning when the total is 0."""
    if counts[-1] <= 0:
        warnings.warn(
            f"roc_curve: no {kind} samples in y_true, the {kind} rate is undefined",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return np.full(counts.shape, np.nan)
    return counts / counts[-1]


def auc(x, y) -> float:
    """Area under the curve through the points (x, y) by the trapezoidal rule; x monotonic."""
    x, y = scores_array("auc", "x", x), scores_array("auc", "y", y)
    if len(x) < 2 or len(x) != len(y):
        raise ValueError(f"auc: needs at least 2 points and equal lengths, got {len(x)}, {len(y)}")
    dx = np.diff(x)
    if (dx < 0).any() and not (dx <= 0).all():
        raise ValueError(f"auc: x is neither increasing nor decreasing: {x}")
    area = np.sum(dx * (y[1:] + y[:-1]) / 2)
    return float(-area if (dx < 0).any() else area)


def roc_auc_score(y_true, y_score, *, sample_weight=None) -> float:
    """Area under the ROC curve of a binary task: the chance that a random positive scores
    above a random negative.

    Parameters
    ----------
    y_true : (N,) two labels; the greater one is the positive class
    y_score : (N,) scores of the positive class
    sample_weight : (N,), optional

    Returns
    -------
    float; nan (and a warning) when y_true holds a single class.

    Raises
    ------
    ValueError
        On more than two classes (scikit-learn's one-vs-rest/one-vs-one multiclass AUC is not
        provided), and as `roc_curve`.
    """
    fn = "roc_auc_score"
    labels = labels_1d(fn, "y_true", y_true)
    classes = np.unique(labels)
    if len(classes) > 2:
        raise ValueError(
            f"{fn}: y_true has {len(classes)} classes; only binary tasks are supported "
            f"(score one class against the rest: roc_auc_score(y_true == c, y_score[:, c]))"
        )
    scores = scores_array(fn, "y_score", y_score)
    same_length(fn, y_true=labels, y_score=scores)
    if len(classes) != 2:
        warnings.warn(
            f"{fn}: only one class is present in y_true; ROC AUC is not defined",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    positive = (labels == classes[1]).astype(np.int64)
    fpr, tpr, _ = roc_curve(positive, scores, sample_weight=sample_weight)
    return auc(fpr, tpr)
