"""Every metric against scikit-learn on random inputs (skipped without scikit-learn)."""

import math
import warnings

import numpy as np
import pytest

from autodiff import metrics
from tests.metrics.sklearn_cases import label_cases, score_cases

sk = pytest.importorskip("sklearn.metrics")

SEEDS = range(6)
ZERO_DIVISIONS = ["warn", 0, 1, np.nan]


def _run(fn, *args, **kwargs):
    """fn's result and the names of the warning classes it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, {type(w.message).__name__ for w in caught}


def _same(ours, theirs):
    if theirs is None:
        assert ours is None
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray) and ours.dtype.kind == theirs.dtype.kind
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    else:
        assert isinstance(ours, float) and isinstance(theirs, float)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12, nan_ok=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_and_confusion_matrix(seed):
    for _, y_true, y_pred, weight, label_sets in label_cases(seed):
        for normalize in (True, False):
            kwargs = dict(normalize=normalize, sample_weight=weight)
            _same(
                metrics.accuracy_score(y_true, y_pred, **kwargs),
                sk.accuracy_score(y_true, y_pred, **kwargs),
            )
        for labels in [None, *label_sets]:
            if labels is not None and not np.isin(y_true, labels).any():
                continue  # both raise; tested with the errors
            for normalize in (None, "true", "pred", "all"):
                kwargs = dict(labels=labels, sample_weight=weight, normalize=normalize)
                ours, our_warnings = _run(metrics.confusion_matrix, y_true, y_pred, **kwargs)
                theirs, _ = _run(sk.confusion_matrix, y_true, y_pred, **kwargs)
                _same(ours, theirs)


# every zero_division with F1, every beta with one zero_division
_ZERO_DIVISION_BETAS = [(z, 1.0) for z in ZERO_DIVISIONS] + [(1, b) for b in (0.5, 0.0, np.inf)]


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_precision_recall_fscore_support(seed):
    for name, y_true, y_pred, weight, label_sets in label_cases(seed):
        present = np.union1d(y_true, y_pred)
        averages = ["micro", "macro", "weighted", None]
        if len(present) <= 2:
            averages.append("binary")
        pos_label = present[-1] if name == "strings" else 1
        for average in averages:
            for labels in [None, *label_sets]:
                for zero_division, beta in _ZERO_DIVISION_BETAS:
                    kwargs = dict(
                        beta=beta,
                        labels=labels,
                        average=average,
                        sample_weight=weight,
                        zero_division=zero_division,
                        pos_label=pos_label if average == "binary" else 1,
                    )
                    ours, our_warnings = _run(
                        metrics.precision_recall_fscore_support, y_true, y_pred, **kwargs
                    )
                    theirs, their_warnings = _run(
                        sk.precision_recall_fscore_support, y_true, y_pred, **kwargs
                    )
                    for a, b in zip(ours, theirs, strict=True):
                        _same(a, b)
                    undefined = "UndefinedMetricWarning"
                    assert (undefined in our_warnings) == (undefined in their_warnings)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (metrics.precision_score, sk.precision_score),
        (metrics.recall_score, sk.recall_score),
        (metrics.f1_score, sk.f1_score),
    ],
)
def test_single_scores(seed, ours, theirs):
    for _, y_true, y_pred, weight, _ in label_cases(seed):
        binary = len(np.union1d(y_true, y_pred)) <= 2 and set(np.union1d(y_true, y_pred)) <= {
            0,
            1,
        }
        for average in ["macro", "micro", "weighted", None] + ["binary"] * binary:
            for zero_division in ZERO_DIVISIONS:
                kwargs = dict(average=average, sample_weight=weight, zero_division=zero_division)
                a, our_warnings = _run(ours, y_true, y_pred, **kwargs)
                b, their_warnings = _run(theirs, y_true, y_pred, **kwargs)
                _same(a, b)
                undefined = "UndefinedMetricWarning"
                assert (undefined in our_warnings) == (undefined in their_warnings)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_fbeta_score(seed):
    for _, y_true, y_pred, weight, _ in label_cases(seed)[:2]:
        kwargs = dict(beta=2.0, sample_weight=weight, zero_division=0)
        _same(
            metrics.fbeta_score(y_true, y_pred, **kwargs), sk.fbeta_score(y_true, y_pred, **kwargs)
        )


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_classification_report(seed):
    for name, y_true, y_pred, weight, label_sets in label_cases(seed):
        for labels in [None, *label_sets]:
            names = None if labels is None else [f"class {label}" for label in labels]
            for digits in (2, 4):
                kwargs = dict(
                    labels=labels, target_names=names, sample_weight=weight, digits=digits
                )
                kwargs["zero_division"] = 0
                text = metrics.classification_report(y_true, y_pred, **kwargs)
                if weight is None or weight.dtype.kind != "f":  # float sums round differently
                    assert text == sk.classification_report(y_true, y_pred, **kwargs), name
            kwargs = dict(labels=labels, sample_weight=weight, output_dict=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = metrics.classification_report(y_true, y_pred, **kwargs)
                theirs = sk.classification_report(y_true, y_pred, **kwargs)
            assert ours.keys() == theirs.keys()
            for key, value in theirs.items():
                if isinstance(value, dict):
                    assert ours[key] == pytest.approx(value, rel=1e-12, nan_ok=True)
                else:
                    assert ours[key] == pytest.approx(value, rel=1e-12)


def _curve_kwargs(weight, pos_label):
    return dict(sample_weight=weight, pos_label=pos_label)


@pytest.mark.parametrize("seed", SEEDS)
def test_precision_recall_and_roc_curves(seed):
    for _, y_true, y_score, weight, pos_label in score_cases(seed):
        for drop in (False, True):
            kwargs = dict(sample_weight=weight, pos_label=pos_label, drop_intermediate=drop)
            ours, our_warnings = _run(metrics.precision_recall_curve, y_true, y_score, **kwargs)
            theirs, their_warnings = _run(sk.precision_recall_curve, y_true, y_score, **kwargs)
            for a, b in zip(ours, theirs, strict=True):
                _same(a, b)
            assert bool(our_warnings) == bool(their_warnings)
            ours, our_warnings = _run(metrics.roc_curve, y_true, y_score, **kwargs)
            theirs, their_warnings = _run(sk.roc_curve, y_true, y_score, **kwargs)
            for a, b in zip(ours, theirs, strict=True):
                _same(a, b)
            assert bool(our_warnings) == bool(their_warnings)


@pytest.mark.parametrize("seed", SEEDS)
def test_average_precision_and_roc_auc(seed):
    for name, y_true, y_score, weight, pos_label in score_cases(seed):
        if name.startswith("multiclass"):
            continue
        kwargs = dict(sample_weight=weight, pos_label=1 if pos_label is None else pos_label)
        _same(
            metrics.average_precision_score(y_true, y_score, **kwargs),
            sk.average_precision_score(y_true, y_score, **kwargs),
        )
        if pos_label is None:
            ours, our_warnings = _run(metrics.roc_auc_score, y_true, y_score, sample_weight=weight)
            theirs, their_warnings = _run(sk.roc_auc_score, y_true, y_score, sample_weight=weight)
            assert math.isclose(ours, theirs, rel_tol=1e-12) or (
                math.isnan(ours) and math.isnan(theirs)
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_average_precision(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 40))
    y_true = rng.choice([0, 2, 5], n)
    y_true[:3] = [0, 2, 5]
    y_score = np.round(rng.random((n, 3)) * 5) / 5
    weight = rng.random(n)
    for average in ("macro", "micro", "weighted", None):
        for w in (None, weight):
            kwargs = dict(average=average, sample_weight=w)
            _same(
                metrics.average_precision_score(y_true, y_score, **kwargs),
                sk.average_precision_score(y_true, y_score, **kwargs),
            )


def test_tensors_and_lists_give_the_numbers_of_arrays():
    import autodiff as ad

    y_true, y_pred = [0, 2, 1, 1, 0, 2], [0, 1, 1, 1, 2, 2]
    expected = sk.f1_score(y_true, y_pred, average="macro")
    assert metrics.f1_score(ad.tensor(y_true), ad.tensor(y_pred), average="macro") == expected
    assert metrics.f1_score(y_true, y_pred, average="macro") == expected
    scores = ad.tensor([0.1, 0.9, 0.4, 0.8], requires_grad=True)
    assert metrics.roc_auc_score(ad.tensor([0, 1, 0, 1]), scores) == sk.roc_auc_score(
        [0, 1, 0, 1], [0.1, 0.9, 0.4, 0.8]
    )
