"""Softmax cross-entropy of logits against class indices, forward and backward.

For the batches of a training step the numpy formulation is a dozen operations on small arrays
(max, subtract, exp, sum, divide, log, a gather, ...), each costing about a microsecond of call
overhead; for float32 these loops do the forward and the backward in one call each. float64,
which serves gradient checks, runs the same formulas in numpy, which compiles nothing.
"""

import math

import numpy as np
from numba import njit

from . import _config


def forward(x: np.ndarray, target: np.ndarray, valid: np.ndarray) -> tuple:
    """``(loss, total, p)`` for logits ``x (N, C)``, class indices ``target (N,)`` (any valid
    class where ignored) and ``valid (N,)`` bool: ``loss[n] = (logsumexp(x[n]) - x[n,
    target[n]]) * valid[n]`` in ``x``'s dtype, ``total`` their sum as a Python float, ``p`` the
    softmax of each row, ``(N, C)``. A row holding NaN gives NaN in its loss and softmax."""
    if x.dtype == np.float32 and x.flags.c_contiguous and x.shape[1]:
        loss = np.empty(x.shape[0], x.dtype)
        p = np.empty_like(x)
        total = _forward_impl(x, target.astype(np.int64, copy=False), valid, loss, p)
        return loss, total, p
    shifted = x - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1)
    loss = (np.log(s) - shifted[np.arange(len(x)), target]) * valid
    return loss, float(loss.sum()), e / s[:, None]


def backward(p: np.ndarray, target: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``gx[n] = coef[n] * (p[n] - onehot(target[n]))``, ``(N, C)`` like ``p``, from
    :func:`forward`'s softmax ``p``; ``coef (N,)`` is each row's gradient (0 where ignored)."""
    coef = coef.astype(p.dtype, copy=False)
    if p.dtype == np.float32:
        gx = np.empty_like(p)
        _backward_impl(p, target.astype(np.int64, copy=False), coef, gx)
        return gx
    gx = p * coef[:, None]
    gx[np.arange(len(gx)), target] -= coef
    return gx


def class_targets(t: np.ndarray, ignore_index: int, n_classes: int) -> tuple:
    """``(safe, valid, count, bad)`` for integer class indices ``t`` of any shape: ``valid``
    where ``t != ignore_index`` (bool), ``safe`` ``t`` as int64 with 0 where ignored, ``count``
    the valid ones, ``bad`` the flat position of the first valid index outside ``[0,
    n_classes)`` or -1. One pass instead of the half dozen numpy operations it replaces."""
    flat = np.ascontiguousarray(t).reshape(-1).astype(np.int64, copy=False)
    safe = np.empty(flat.shape, np.int64)
    valid = np.empty(flat.shape, np.bool_)
    count, bad = _targets_impl(flat, ignore_index, n_classes, safe, valid)
    return safe.reshape(t.shape), valid.reshape(t.shape), count, bad


@njit(**_config.JIT)
def _targets_impl(t, ignore_index, n_classes, safe, valid):
    count, bad = 0, -1
    for i in range(t.size):
        v = t[i]
        keep = v != ignore_index
        valid[i] = keep
        safe[i] = v if keep else 0
        if keep:
            count += 1
            if bad < 0 and (v < 0 or v >= n_classes):
                bad = i
    return count, bad


@njit(**_config.JIT)
def _forward_impl(x, target, valid, loss, p):
    n, c = x.shape
    total = 0.0
    for i in range(n):
        row = x[i]
        top = row[0]
        for j in range(1, c):
            v = row[j]
            if v > top or v != v:  # a NaN wins, so the whole row comes out NaN as in numpy
                top = v
        s = np.float32(0)
        for j in range(c):
            e = math.exp(row[j] - top)
            p[i, j] = e
            s += e
        for j in range(c):
            p[i, j] /= s
        li = (math.log(s) - (row[target[i]] - top)) * np.float32(valid[i])
        loss[i] = li
        total += li
    return total


@njit(**_config.JIT)
def _backward_impl(p, target, coef, gx):
    n, c = p.shape
    for i in range(n):
        for j in range(c):
            gx[i, j] = p[i, j] * coef[i]
        gx[i, target[i]] -= coef[i]
