"""The course's strategy for improving a model, in code: which error to work on first
(`bias_variance`) and which model to ship under an optimizing and satisficing metrics
(`best_by`)."""

import math
import numbers
import operator
from collections.abc import Mapping
from dataclasses import dataclass

REMEDIES = {
    "avoidable bias": (
        "train a bigger model",
        "train longer, or with a better optimizer (momentum, RMSprop, Adam)",
        "search architectures and hyperparameters",
    ),
    "variance": (
        "get more training data",
        "regularise (L2, dropout, data augmentation)",
        "search architectures and hyperparameters",
    ),
    "data mismatch": (
        "do error analysis by hand to see how training and dev/test data differ",
        "make the training data more like dev/test (artificial data synthesis)",
        "collect more training data like the dev/test data",
    ),
}


@dataclass(frozen=True)
class BiasVariance:
    """The gaps between human-level (a proxy for Bayes error), training, train-dev and dev
    error, and the one to work on first (the largest). `str()` explains it, with remedies."""

    human_error: float
    train_error: float
    dev_error: float
    train_dev_error: float | None
    avoidable_bias: float
    variance: float
    data_mismatch: float | None
    focus: str

    def __str__(self) -> str:
        gaps = [
            ("avoidable bias", self.avoidable_bias, "train - human"),
            (
                "variance",
                self.variance,
                "train-dev - train" if self.has_train_dev else "dev - train",
            ),
        ]
        if self.has_train_dev:
            gaps.append(("data mismatch", self.data_mismatch, "dev - train-dev"))
        lines = [f"{name:<15} {value:8.4g}   ({formula})" for name, value, formula in gaps]
        lines.append(f"work on {self.focus} first:")
        lines += [f"  - {remedy}" for remedy in REMEDIES[self.focus]]
        return "\n".join(lines)

    @property
    def has_train_dev(self) -> bool:
        """Whether a train-dev error was given (to separate variance from data mismatch)."""
        return self.train_dev_error is not None


def bias_variance(human_error, train_error, dev_error, train_dev_error=None) -> BiasVariance:
    """Split the dev error into avoidable bias, variance and (with a train-dev set) data mismatch.

    avoidable bias = train - human; variance = train_dev - train (dev - train without a
    train-dev set); data mismatch = dev - train_dev. The focus is the largest gap (bias first on
    a tie). Errors may be fractions or percentages, as long as all use the same unit.

    Parameters
    ----------
    human_error, train_error, dev_error : float
        Human-level error (the best available estimate of Bayes error), training and dev error.
    train_dev_error : float, optional
        Error on held-out data from the training distribution.

    Returns
    -------
    BiasVariance

    Raises
    ------
    ValueError
        On a negative or non-finite error.

    Examples
    --------
    >>> bias_variance(0.01, 0.08, 0.10).focus
    'avoidable bias'
    >>> bias_variance(0.075, 0.08, 0.10).focus
    'variance'
    """
    errors = dict(human_error=human_error, train_error=train_error, dev_error=dev_error)
    if train_dev_error is not None:
        errors["train_dev_error"] = train_dev_error
    for name, value in errors.items():
        if not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ValueError(f"bias_variance: {name} must be a finite number >= 0, got {value!r}")
    bias = train_error - human_error
    if train_dev_error is None:
        variance, mismatch = dev_error - train_error, None
    else:
        variance, mismatch = train_dev_error - train_error, dev_error - train_dev_error
    gaps = {"avoidable bias": bias, "variance": variance}
    if mismatch is not None:
        gaps["data mismatch"] = mismatch
    focus = max(gaps, key=gaps.get)
    return BiasVariance(
        human_error, train_error, dev_error, train_dev_error, bias, variance, mismatch, focus
    )


_COMPARISONS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}


def best_by(results, optimizing="accuracy", satisficing=None, mode="max"):
    """The model that is best on one optimizing metric among those meeting every satisficing
    constraint, as in the course's cat-classifier example (A: 90%, 80 ms; B: 92%, 95 ms;
    C: 95%, 1,500 ms; maximise accuracy subject to running time <= 100 ms: B).

    Parameters
    ----------
    results : list of dict, or mapping name -> dict
        Each model's metrics, e.g. {"accuracy": 0.92, "latency_ms": 95}.
    optimizing : str
        The metric to maximise (or minimise, with mode="min").
    satisficing : mapping metric -> (op, threshold), optional
        Constraints a model must meet; op is one of "<=", "<", ">=", ">", "==".
    mode : {"max", "min"}

    Returns
    -------
    (key, result)
        The winner's name (for a mapping) or index (for a list), and its dict. The first model
        wins a tie.

    Raises
    ------
    ValueError
        When no model meets the constraints (naming each model's failed constraint), on an
        unknown op or mode, an empty `results`, or a model lacking a metric.

    Examples
    --------
    >>> models = {"A": {"accuracy": 0.90, "latency_ms": 80},
    ...           "B": {"accuracy": 0.92, "latency_ms": 95},
    ...           "C": {"accuracy": 0.95, "latency_ms": 1500}}
    >>> best_by(models, "accuracy", {"latency_ms": ("<=", 100)})[0]
    'B'
    """
    fn = "best_by"
    if mode not in ("max", "min"):
        raise ValueError(f'{fn}: mode must be "max" or "min", got {mode!r}')
    entries = list(results.items() if isinstance(results, Mapping) else enumerate(results))
    if not entries:
        raise ValueError(f"{fn}: results is empty")
    constraints = dict(satisficing or {})
    for metric, rule in constraints.items():
        if not isinstance(rule, tuple | list) or len(rule) != 2 or rule[0] not in _COMPARISONS:
            raise ValueError(
                f"{fn}: satisficing[{metric!r}] must be (op, threshold) with op one of "
                f"{list(_COMPARISONS)}, got {rule!r}"
            )
    for key, result in entries:
        for metric in (optimizing, *constraints):
            if metric not in result:
                raise ValueError(f"{fn}: model {key!r} has no {metric!r} (it has {list(result)})")
        value = result[optimizing]
        if not isinstance(value, numbers.Real) or math.isnan(value):
            raise ValueError(f"{fn}: model {key!r} has {optimizing} = {value!r}, not a number")
    failures = {}
    for key, result in entries:
        failed = [
            f"{metric} = {result[metric]!r} is not {op} {threshold!r}"
            for metric, (op, threshold) in constraints.items()
            if not _COMPARISONS[op](result[metric], threshold)
        ]
        if failed:
            failures[key] = failed
    feasible = [(key, result) for key, result in entries if key not in failures]
    if not feasible:
        detail = "; ".join(f"{key!r}: {', '.join(failed)}" for key, failed in failures.items())
        raise ValueError(f"{fn}: no model meets the satisficing constraints ({detail})")
    sign = 1 if mode == "max" else -1
    return max(feasible, key=lambda entry: sign * entry[1][optimizing])
