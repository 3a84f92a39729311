"""Input handling every metric shares: arrays from Tensors and lists, label and score checks,
sample weights and `zero_division`."""

import math

import numpy as np


class UndefinedMetricWarning(UserWarning):
    """A metric divided by zero and was set by `zero_division` (scikit-learn's name)."""


def as_array(x) -> np.ndarray:
    """x (ndarray, list, autodiff or torch Tensor) as a numpy array, detached from any graph."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach()
        x = x.cpu() if hasattr(x, "cpu") else x
        return np.asarray(x.numpy())
    return np.asarray(x)


def _describe(a) -> str:
    return f"shape {a.shape}, dtype {a.dtype}"


def labels_1d(fn: str, name: str, y) -> np.ndarray:
    """y as a 1-D array of class labels (integers, integral floats, bools or strings)."""
    a = as_array(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(
            f"{fn}: {name} must be 1-D class labels (N,), got {_describe(a)}; for scores "
            f"or logits of shape (N, C) pass their argmax over dim 1"
        )
    if a.dtype.kind not in "biufUSO":
        raise TypeError(f"{fn}: {name} must hold class labels, got {_describe(a)}")
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError(f"{fn}: {name} contains NaN or infinity ({_describe(a)})")
        if (a != np.round(a)).any():
            raise ValueError(
                f"{fn}: {name} holds continuous values ({_describe(a)}); class labels are "
                f"expected (threshold probabilities, or take the argmax of scores)"
            )
    return a


def scores_array(fn: str, name: str, y, ndims=(1,)) -> np.ndarray:
    """y as a finite float64 array with one of `ndims` dims."""
    a = as_array(y)
    if a.ndim not in ndims or a.dtype.kind not in "biuf":
        raise ValueError(
            f"{fn}: {name} must be numeric scores of {ndims[-1]}-D, got {_describe(a)}"
        )
    if not np.isfinite(a).all():
        raise ValueError(f"{fn}: {name} contains NaN or infinity ({_describe(a)})")
    return a.astype(np.float64, copy=False)


def same_length(fn: str, **arrays):
    """Raise unless every array has the same non-zero number of samples (scikit-learn raises on
    empty input too)."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} {arrays[name].shape}" for name in lengths)
        raise ValueError(f"{fn}: inputs have different numbers of samples ({detail})")
    if 0 in lengths.values():
        raise ValueError(f"{fn}: empty input (0 samples); at least 1 sample is required")


def weights_1d(fn: str, sample_weight, n: int) -> np.ndarray | None:
    """sample_weight as a finite 1-D numeric array of n weights, or None."""
    if sample_weight is None:
        return None
    w = as_array(sample_weight)
    if w.ndim != 1 or len(w) != n or w.dtype.kind not in "biuf":
        raise ValueError(f"{fn}: sample_weight must be {n} numbers (N,), got {_describe(w)}")
    if not np.isfinite(w).all():
        raise ValueError(f"{fn}: sample_weight contains NaN or infinity")
    return w


def check_targets(fn: str, y_true, y_pred, sample_weight=None):
    """Validated (y_true, y_pred, sample_weight) as 1-D arrays and the sorted labels present in
    either; the task is binary when there are at most two."""
    y_true = labels_1d(fn, "y_true", y_true)
    y_pred = labels_1d(fn, "y_pred", y_pred)
    same_length(fn, y_true=y_true, y_pred=y_pred)
    if is_text(y_true) != is_text(y_pred):
        raise ValueError(
            f"{fn}: y_true and y_pred mix string and number labels "
            f"(y_true dtype {y_true.dtype}, y_pred dtype {y_pred.dtype})"
        )
    weight = weights_1d(fn, sample_weight, len(y_true))
    return y_true, y_pred, weight, np.union1d(y_true, y_pred)


def is_text(a: np.ndarray) -> bool:
    return a.dtype.kind in "USO"


def user_labels(fn: str, labels, present: np.ndarray) -> np.ndarray:
    """The `labels` argument as a 1-D array comparable with the present labels."""
    out = as_array(labels)
    if out.ndim != 1:
        raise ValueError(f"{fn}: labels must be 1-D, got {_describe(out)}")
    if len(out) and is_text(out) != is_text(present):
        raise ValueError(
            f"{fn}: labels ({out.dtype}) and the targets ({present.dtype}) mix string and "
            f"number labels"
        )
    return out


def zero_division_value(fn: str, zero_division) -> float:
    """The value a 0/0 metric takes: 0.0 for "warn", else 0, 1 or nan as given."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, int | float) and (
        zero_division in (0, 1) or math.isnan(zero_division)
    ):
        return float(zero_division)
    raise ValueError(f'{fn}: zero_division must be "warn", 0, 1 or nan, got {zero_division!r}')
