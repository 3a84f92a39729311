"""Batch normalisation of ``(N, C, L)`` arrays over ``N`` and ``L``, one channel per iteration.

The graph op (``autodiff/ops/normalization.py``) views any ``(N, C, ...)`` input as
``(N, C, L)``. Each
function is one parallel loop over channels that reads a channel's ``N`` runs of ``L`` values
once or twice, where numpy's ``mean``, ``var`` and elementwise expressions made a dozen passes
with full-size temporaries. Sums are accumulated in float64, so float32 statistics of large
batches keep their digits (numpy sums float32 pairwise for the same reason).

With ``xhat = (x - mean) * inv_std`` per channel and ``m = N * L``::

    y  = xhat * weight + bias
    gx = weight * inv_std * (g - sum(g) / m - xhat * sum(g * xhat) / m)   batch statistics
    gx = weight * inv_std * g                                              fixed statistics

The backward pass recomputes ``xhat`` from ``x`` rather than keeping it from the forward pass.
"""

import numpy as np
from numba import njit, prange

from . import _config, buffers


def batch_norm_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and biased variance of ``x (N, C, L)``, both ``(C,)`` of its dtype."""
    mean = np.empty(x.shape[1], x.dtype)
    var = np.empty(x.shape[1], x.dtype)
    _stats_impl(x, mean, var)
    return mean, var


def batch_norm_forward(x, mean, inv_std, weight, bias) -> np.ndarray:
    """``y (N, C, L) = (x - mean) * inv_std * weight + bias`` per channel; ``mean``, ``inv_std``,
    ``weight`` and ``bias`` are ``(C,)`` of ``x``'s dtype, ``weight``/``bias`` may be None."""
    weight, bias = _affine(x, weight, bias)
    y = buffers.empty(x.shape, x.dtype)
    _forward_impl(x, mean, inv_std, weight, bias, y)
    return y


def batch_norm_backward(g, x, mean, inv_std, weight, batch_stats: bool, need_x: bool) -> tuple:
    """Gradients of ``batch_norm_forward`` given ``g (N, C, L)``: ``(gx, sum(g * xhat), sum(g))``
    (the last two are the weight and bias gradients, ``(C,)``); ``gx`` is None unless
    ``need_x``. ``batch_stats``: ``mean`` and ``inv_std`` were the batch's own statistics, so
    the gradient flows through them too."""
    weight, _ = _affine(x, weight, None)
    gx = buffers.empty(x.shape, x.dtype) if need_x else np.empty((0, 0, 0), x.dtype)
    sum_g = np.empty(x.shape[1], x.dtype)
    sum_g_xhat = np.empty(x.shape[1], x.dtype)
    _backward_impl(g, x, mean, inv_std, weight, batch_stats, need_x, gx, sum_g, sum_g_xhat)
    return (gx if need_x else None), sum_g_xhat, sum_g


def _affine(x, weight, bias) -> tuple[np.ndarray, np.ndarray]:
    """``weight`` and ``bias``, with ones and zeros for None."""
    c = x.shape[1]
    return (
        np.ones(c, x.dtype) if weight is None else weight,
        np.zeros(c, x.dtype) if bias is None else bias,
    )


@njit(**_config.PARALLEL)
def _stats_impl(x, mean, var):
    """Two passes per channel: the mean, then the mean squared deviation from it."""
    n, c, length = x.shape
    for ci in prange(c):
        total = 0.0
        for b in range(n):
            for k in range(length):
                total += x[b, ci, k]
        mu = total / (n * length)
        squares = 0.0
        for b in range(n):
            for k in range(length):
                d = x[b, ci, k] - mu
                squares += d * d
        mean[ci] = mu
        var[ci] = squares / (n * length)


@njit(**_config.PARALLEL)
def _forward_impl(x, mean, inv_std, weight, bias, y):
    n, c, length = x.shape
    for ci in prange(c):
        mu, scale, shift = mean[ci], inv_std[ci] * weight[ci], bias[ci]
        for b in range(n):
            for k in range(length):
                y[b, ci, k] = (x[b, ci, k] - mu) * scale + shift


@njit(**_config.PARALLEL)
def _backward_impl(g, x, mean, inv_std, weight, batch_stats, need_x, gx, sum_g, sum_g_xhat):
    n, c, length = x.shape
    m = n * length
    for ci in prange(c):
        mu, inv = mean[ci], inv_std[ci]
        total = 0.0
        dot = 0.0
        for b in range(n):
            for k in range(length):
                gv = g[b, ci, k]
                total += gv
                dot += gv * ((x[b, ci, k] - mu) * inv)
        sum_g[ci] = total
        sum_g_xhat[ci] = dot
        if not need_x:
            continue
        scale = inv * weight[ci]
        # with fixed statistics the two means drop out
        mean_g = total / m if batch_stats else 0.0
        mean_g_xhat = dot / m if batch_stats else 0.0
        for b in range(n):
            for k in range(length):
                xhat = (x[b, ci, k] - mu) * inv
                gx[b, ci, k] = (g[b, ci, k] - mean_g - xhat * mean_g_xhat) * scale
