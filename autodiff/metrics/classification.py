"""Label metrics: accuracy, the confusion matrix, precision, recall and F-beta, with
scikit-learn's names, arguments and numbers.

Inputs are class labels (N,): numpy arrays, lists or Tensors, integers or strings. A model's
scores or logits (N, C) become labels with `scores.argmax(1)`.

The precision/recall family computes, per label, the true-positive count tp, the predicted count
(tp + fp) and the true count (tp + fn), optionally weighted by `sample_weight`, then

    precision = tp / (tp + fp),   recall = tp / (tp + fn),
    F_beta = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)

and averages them as `average` says: "binary" (the `pos_label` class only), "micro" (pool the
counts over labels), "macro" (unweighted mean over labels), "weighted" (mean weighted by each
label's true count) or None (one value per label). A 0/0 takes the value `zero_division`:
"warn" (0.0 and an `UndefinedMetricWarning`), 0, 1 or nan (nan values are left out of averages).
"""

import warnings

import numpy as np

from autodiff.metrics._inputs import (
    UndefinedMetricWarning,
    check_targets,
    is_text,
    user_labels,
    zero_division_value,
)

AVERAGES = ("binary", "micro", "macro", "weighted", None)


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None) -> float:
    """Fraction (or, with `normalize=False`, the weighted count) of correct predictions.

    Parameters
    ----------
    y_true, y_pred : (N,) class labels
    normalize : bool
        Return the fraction correct; False returns the (weighted) number correct.
    sample_weight : (N,), optional

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On inputs of different lengths, empty inputs, or values that are not labels.
    """
    y_true, y_pred, weight, _ = check_targets("accuracy_score", y_true, y_pred, sample_weight)
    correct = (y_true == y_pred).astype(np.float64)
    if weight is None:
        return float(correct.mean() if normalize else correct.sum())
    total = float(np.dot(correct, weight))
    if not normalize:
        return total
    if weight.sum() == 0:
        raise ValueError("accuracy_score: sample_weight sums to 0, so the accuracy is 0/0")
    return total / float(weight.sum())


def confusion_matrix(
    y_true, y_pred, num_classes=None, *, labels=None, sample_weight=None, normalize=None
) -> np.ndarray:
    """Counts C[i, j] of samples whose true label is the i-th label and prediction the j-th.

    Parameters
    ----------
    y_true, y_pred : (N,) class labels
    num_classes : int, optional
        The labels are the class indices 0 .. num_classes - 1 (a ValueError names any value
        outside them). Not with `labels`.
    labels : (K,), optional
        The labels indexing the matrix, in this order; samples with other labels are left out
        (at least one must occur in y_true). By default the sorted labels in either input.
    sample_weight : (N,), optional
    normalize : {"true", "pred", "all"}, optional
        Divide by row sums, column sums or the total (0/0 gives 0).

    Returns
    -------
    (K, K) ndarray
        int64 counts, float64 with float weights or `normalize`. With `num_classes` or `labels`
        an empty input gives a zero matrix (scikit-learn raises on empty input).
    """
    fn = "confusion_matrix"
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            f'{fn}: normalize must be "true", "pred", "all" or None, got {normalize!r}'
        )
    if num_classes is not None and labels is not None:
        raise ValueError(f"{fn}: pass num_classes or labels, not both")
    try:
        y_true, y_pred, weight, present = check_targets(fn, y_true, y_pred, sample_weight)
    except ValueError as error:
        if "empty input" not in str(error) or (num_classes is None and labels is None):
            raise
        k = num_classes if labels is None else len(labels)
        return np.zeros((k, k), dtype=np.int64)
    if num_classes is not None:
        labels = _class_indices(fn, num_classes, present)
    elif labels is None:
        labels = present
        if len(labels) == 1:
            warnings.warn(
                f"{fn}: a single label was found in y_true and y_pred; pass labels= or "
                f"num_classes= for a matrix of the full shape",
                UserWarning,
                stacklevel=2,
            )
    else:
        labels = user_labels(fn, labels, present)
        if len(labels) == 0:
            raise ValueError(f"{fn}: labels must contain at least one label")
        if not np.isin(y_true, labels).any():
            raise ValueError(f"{fn}: at least one of labels {labels.tolist()} must be in y_true")
    k = len(labels)
    true_index, pred_index = _index_of(y_true, labels), _index_of(y_pred, labels)
    keep = (true_index < k) & (pred_index < k)
    if weight is None or weight.dtype.kind in "biu":
        weight = np.ones(len(y_true), np.int64) if weight is None else weight.astype(np.int64)
    else:
        weight = weight.astype(np.float64)
    cm = np.bincount(
        true_index[keep] * k + pred_index[keep], weights=weight[keep], minlength=k * k
    ).reshape(k, k)
    cm = cm.astype(weight.dtype)
    if normalize is None:
        return cm
    total = {"true": cm.sum(axis=1, keepdims=True), "pred": cm.sum(axis=0, keepdims=True)}
    denominator = total.get(normalize, cm.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(cm / denominator)


def _class_indices(fn, num_classes, present):
    """arange(num_classes), after checking every present label is one of them."""
    if not isinstance(num_classes, int | np.integer) or num_classes < 1:
        raise ValueError(f"{fn}: num_classes must be a positive integer, got {num_classes!r}")
    labels = np.arange(num_classes)
    outside = present[~np.isin(present, labels)] if present.dtype.kind in "biuf" else present
    if len(outside):
        raise ValueError(
            f"{fn}: labels {outside.tolist()} are not class indices 0..{num_classes - 1} "
            f"(num_classes={num_classes})"
        )
    return labels


def _index_of(y, labels):
    """The position of each y in `labels`, or len(labels) for a value that is not there."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    at = np.clip(np.searchsorted(sorted_labels, y), 0, len(labels) - 1)
    found = sorted_labels[at] == y
    return np.where(found, order[at], len(labels))


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta=1.0,
    labels=None,
    pos_label=1,
    average=None,
    warn_for=("precision", "recall", "f-score"),
    sample_weight=None,
    zero_division="warn",
):
    """Precision, recall, F-beta and support, per label or averaged (see the module docstring).

    Parameters
    ----------
    y_true, y_pred : (N,) class labels
    beta : float >= 0
        Weight of recall in the F-score (beta=0 is precision, beta=inf recall).
    labels : (K,), optional
        The labels to report and average over, in this order (absent ones count zero).
        Ignored by average="binary".
    pos_label : label
        The positive class for average="binary".
    average : {"binary", "micro", "macro", "weighted", None}
    warn_for : tuple of {"precision", "recall", "f-score"}
        Which metrics warn on a zero division when zero_division="warn".
    sample_weight : (N,), optional
    zero_division : {"warn", 0, 1, nan}

    Returns
    -------
    precision, recall, fbeta, support
        Floats and support None when averaged; (K,) float64 arrays and a (K,) support
        (int64, float64 with weights) when average is None.

    Raises
    ------
    ValueError
        On an unknown average, average="binary" on more than two labels, a pos_label that is not
        a label, mismatched lengths, empty input, or values that are not labels.
    """
    fn = "precision_recall_fscore_support"
    zero_value = zero_division_value(fn, zero_division)
    if average not in AVERAGES:
        raise ValueError(f"{fn}: average must be one of {AVERAGES}, got {average!r}")
    if not beta >= 0:
        raise ValueError(f"{fn}: beta must be >= 0, got {beta!r}")
    y_true, y_pred, weight, present = check_targets(fn, y_true, y_pred, sample_weight)
    labels = _set_wise_labels(fn, present, average, labels, pos_label)
    tp, predicted, true = _counts(y_true, y_pred, weight, labels, present)
    if average == "micro":
        tp, predicted, true = (counts.sum(keepdims=True) for counts in (tp, predicted, true))

    def divide(numerator, denominator, metric, modifier):
        warn = zero_division == "warn" and metric in warn_for
        return _divide(numerator, denominator, zero_value, warn, metric, modifier)

    precision = divide(tp, predicted, "precision", "predicted")
    recall = divide(tp, true, "recall", "true")
    if np.isposinf(beta):
        fscore = recall
    elif beta == 0:
        fscore = precision
    else:
        beta2 = beta**2
        fscore = divide((1 + beta2) * tp, beta2 * true + predicted, "f-score", "true nor predicted")
    if average is None:
        return precision, recall, fscore, true
    weights = true if average == "weighted" else None
    return (*(_nanaverage(v, weights) for v in (precision, recall, fscore)), None)


def _set_wise_labels(fn, present, average, labels, pos_label):
    """The labels the scores are computed for: [pos_label] for a binary average."""
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"{fn}: the targets are multiclass ({len(present)} labels) but "
                f'average="binary"; choose one of "micro", "macro", "weighted" or None'
            )
        positive = np.asarray([pos_label])
        mismatched = is_text(positive) != is_text(present)
        if mismatched or (pos_label not in present.tolist() and len(present) == 2):
            raise ValueError(
                f"{fn}: pos_label={pos_label!r} is not a valid label; it should be one of "
                f"{present.tolist()}"
            )
        return positive
    if pos_label not in (None, 1):
        warnings.warn(
            f'{fn}: pos_label={pos_label!r} is ignored when average != "binary" (got '
            f"{average!r}); use labels=[pos_label] to score a single class",
            UserWarning,
            stacklevel=3,
        )
    return present if labels is None else user_labels(fn, labels, present)


def _counts(y_true, y_pred, weight, labels, present):
    """Per-label (weighted) true positives, predictions and true samples, for `labels`."""
    every = np.concatenate([labels, np.setdiff1d(present, labels)])
    true_index, pred_index = _index_of(y_true, every), _index_of(y_pred, every)
    hit = true_index == pred_index
    k = len(every)
    tp = np.bincount(true_index[hit], None if weight is None else weight[hit], minlength=k)
    predicted = np.bincount(pred_index, weight, minlength=k)
    true = np.bincount(true_index, weight, minlength=k)
    n = len(labels)
    return tp[:n], predicted[:n], true[:n]


def _divide(numerator, denominator, zero_value, warn, metric, modifier):
    """numerator / denominator as float64, with `zero_value` where the denominator is 0."""
    zero = denominator == 0
    out = np.asarray(numerator, np.float64) / np.where(zero, 1, denominator)
    if zero.any():
        out[zero] = zero_value
        if warn:
            where = "due to" if len(out) == 1 else "in labels with"
            warnings.warn(
                f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no "
                f"{modifier} samples. Use `zero_division` parameter to control this behavior.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
    return out


def _nanaverage(values, weights):
    """Mean of the non-nan values (weighted unless the weights sum to 0), as scikit-learn."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=weights[keep]))


def _one_score(which, warn_for, y_true, y_pred, **kwargs):
    """One of precision, recall or F-beta from `precision_recall_fscore_support`."""
    scores = precision_recall_fscore_support(y_true, y_pred, warn_for=warn_for, **kwargs)
    return scores[which]


def precision_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """tp / (tp + fp): the fraction of predicted positives that are positive.

    Arguments, returns and errors as `precision_recall_fscore_support` (a float, or (K,)
    float64 with average=None).
    """
    kwargs = dict(labels=labels, pos_label=pos_label, average=average)
    kwargs.update(sample_weight=sample_weight, zero_division=zero_division)
    return _one_score(0, ("precision",), y_true, y_pred, **kwargs)


def recall_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """tp / (tp + fn): the fraction of positives that are found.

    Arguments, returns and errors as `precision_recall_fscore_support`.
    """
    kwargs = dict(labels=labels, pos_label=pos_label, average=average)
    kwargs.update(sample_weight=sample_weight, zero_division=zero_division)
    return _one_score(1, ("recall",), y_true, y_pred, **kwargs)


def fbeta_score(
    y_true,
    y_pred,
    *,
    beta,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """F-beta, the weighted harmonic mean of precision and recall:
    (1 + beta^2) P R / (beta^2 P + R); beta > 1 favours recall.

    Arguments, returns and errors as `precision_recall_fscore_support`.
    """
    kwargs = dict(beta=beta, labels=labels, pos_label=pos_label, average=average)
    kwargs.update(sample_weight=sample_weight, zero_division=zero_division)
    return _one_score(2, ("f-score",), y_true, y_pred, **kwargs)


def f1_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """F1 = 2 P R / (P + R), the harmonic mean of precision and recall (the course's single
    number evaluation metric; P = 95%, R = 90% give F1 = 92.4%).

    Arguments, returns and errors as `precision_recall_fscore_support`.
    """
    kwargs = dict(labels=labels, pos_label=pos_label, average=average)
    kwargs.update(sample_weight=sample_weight, zero_division=zero_division)
    return fbeta_score(y_true, y_pred, beta=1.0, **kwargs)
