"""Argument checks and the `reduction` every loss shares (`loss.py`, `loss_regression.py`,
`loss_margin.py`)."""

import math

import numpy as np

from autodiff.errors import ShapeError

REDUCTIONS = ("none", "mean", "sum")


def reduce(loss, reduction, count=None):
    """The loss for `reduction`; "mean" divides by count (default: the number of elements; nan
    for count 0, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    if count is None:
        count = loss.data.size
    return total * (1 / count if count else math.nan)


def check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def check_same(op, input, target, name):  # noqa: A002 - PyTorch's name
    """`target` (a tensor or array) has `input`'s shape and dtype."""
    t_shape, t_dtype = shape(target), np.asarray(target).dtype
    if t_shape != input.shape:
        raise ShapeError(
            f"{op}: {name} of shape {t_shape} {t_dtype} does not match input of shape "
            f"{input.shape} {input.dtype}"
        )
    if t_dtype != input.dtype:
        raise TypeError(
            f"{op}: {name} has dtype {t_dtype} but input is {input.dtype} (shapes {t_shape}); "
            f"convert it, e.g. target.to({input.dtype})"
        )


def shape(a):
    return tuple(np.shape(np.asarray(a)))
