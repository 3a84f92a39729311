"""Scaled dot-product attention, as PyTorch's `F.scaled_dot_product_attention`.

A composition of graph ops (matmul, softmax, dropout): softmax already has its own stable rule,
and the two matmuls are where the time goes, so a fused rule would save little. Rows whose keys
are all masked out give 0 (output and gradient) rather than nan, as PyTorch's does.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops.dropout import dropout
from autodiff.ops.elementwise import where
from autodiff.ops.linalg import matmul
from autodiff.ops.softmax import softmax

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
):
    """softmax(query @ key^T * scale + mask) @ value, over the keys (the last dim).

    Parameters
    ----------
    query : Tensor
        `(*, L, E)`, `*` any batch dims (e.g. `(N, heads)`); float32 or float64.
    key : Tensor
        `(*, S, E)` of `query`'s dtype; batch dims broadcast with `query`'s.
    value : Tensor
        `(*, S, Ev)` of `query`'s dtype.
    attn_mask : Tensor or array, optional
        Broadcastable to `(*, L, S)`. Bool: True where a query may attend to a key. Float (of
        `query`'s dtype, differentiable): added to the scores (-inf masks out).
    dropout_p : float
        Dropout probability on the attention weights, applied whenever > 0 (as in PyTorch; pass
        0 in eval mode).
    is_causal : bool
        Each query i attends to keys j <= i (the top-left-aligned lower triangle); excludes
        `attn_mask`.
    scale : float, optional
        Factor on the scores; default 1 / sqrt(E).
    enable_gqa : bool
        Grouped-query attention: `key` and `value` with `H` heads (dim -3) serve a `query` with
        a multiple of `H` heads, each key head repeated for consecutive query heads.

    Returns
    -------
    Tensor `(*, L, Ev)` of `query`'s dtype.

    Raises
    ------
    ValueError : inputs under 2 dims, sizes that do not fit, a mask that does not broadcast to
        `(*, L, S)`, or a mask together with `is_causal`.
    TypeError : non-float inputs, inputs of different dtypes, or a mask neither bool nor of
        `query`'s dtype.
    """
    op = "scaled_dot_product_attention"
    _check_inputs(op, query, key, value)
    if enable_gqa:
        key, value = _repeat_heads(op, query, key), _repeat_heads(op, query, value)
    length, source = query.shape[-2], key.shape[-2]
    if scale is None:
        scale = 1 / math.sqrt(query.shape[-1])
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: attn_mask must be None when is_causal is True")
        attn_mask = np.tril(np.ones((length, source), np.bool_))
    dead = None
    if attn_mask is not None:
        m = np.asarray(attn_mask)
        _check_mask(op, m, query, scores.shape)
        if m.dtype == np.bool_:
            allowed = m
            scores = scores + np.where(m, 0, -np.inf).astype(query.dtype)
        else:
            allowed = ~np.isneginf(m)
            scores = scores + attn_mask
        dead = ~allowed.any(axis=-1, keepdims=True)
        if dead.any():  # rows with no key left: softmax of zeros, then zeroed
            scores = where(dead, 0.0, scores)
        else:
            dead = None
    weights = softmax(scores, -1)
    if dead is not None:
        weights = where(dead, 0.0, weights)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)


def _check_inputs(op, query, key, value):
    described = ", ".join(f"{n} {t.shape} {t.dtype}" for n, t in zip("qkv", (query, key, value)))
    if query.dtype.kind != "f" or not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must share one float dtype, got {described}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dims, got {described}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{op}: need query (*, L, E), key (*, S, E) and value (*, S, Ev), got {described}"
        )


def _check_mask(op, m, query, scores_shape):
    if m.dtype != np.bool_ and m.dtype != query.dtype:
        raise TypeError(
            f"{op}: attn_mask must be bool or of query's dtype {query.dtype}, got {m.dtype} "
            f"(shape {m.shape})"
        )
    try:
        fits = np.broadcast_shapes(m.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{op}: attn_mask of shape {m.shape} {m.dtype} does not broadcast to the attention "
            f"scores' shape {scores_shape} (*, L, S)"
        )


def _repeat_heads(op, query, kv):
    """kv `(*, H, S, E)` with each head repeated for `query`'s `(*, H * r, L, E)` heads."""
    if query.ndim < 3 or kv.ndim < 3 or query.shape[-3] % kv.shape[-3]:
        raise ShapeError(
            f"{op}: enable_gqa needs query (*, Hq, L, E) and key/value (*, H, S, E) with Hq a "
            f"multiple of H, got query {query.shape} and {kv.shape}"
        )
    heads, repeats = kv.shape[-3], query.shape[-3] // kv.shape[-3]
    batch, rest = kv.shape[:-3], kv.shape[-2:]
    expanded = kv.unsqueeze(-3).expand(*batch, heads, repeats, *rest)
    return expanded.reshape(*batch, heads * repeats, *rest)
