"""Metrics by name, for `nn.training.fit(metrics=[...])`: scikit-learn's scorer names for the
label metrics ("accuracy", "f1", "f1_macro", "precision_weighted", ...)."""

from functools import partial

from autodiff.metrics.classification import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)

_BY_NAME = {"accuracy": accuracy_score}
for _name, _score in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
    # the values of scikit-learn's defaults, without a warning per epoch on a 0/0
    _BY_NAME[_name] = partial(_score, zero_division=0)
    for _average in ("micro", "macro", "weighted"):
        _BY_NAME[f"{_name}_{_average}"] = partial(_score, average=_average, zero_division=0)


def get_metric(name: str):
    """The metric called `name`, as a function (y_true, y_pred) -> float.

    "accuracy"; "precision", "recall", "f1" (binary, positive class 1); and each of those with
    "_micro", "_macro" or "_weighted". A 0/0 gives 0 without a warning.

    Raises
    ------
    ValueError
        On an unknown name (the message lists the known ones).
    """
    if name not in _BY_NAME:
        raise ValueError(f"get_metric: unknown metric {name!r}; known: {sorted(_BY_NAME)}")
    return _BY_NAME[name]
