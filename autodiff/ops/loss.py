"""Classification losses with PyTorch's semantics: weights, `ignore_index`, `reduction`.

Three losses have their own rules, because composing them from primitives would lose precision
or waste passes: softmax cross-entropy from logits (a general rule for a dense target, and a
lean one for plain class indices, the common case), binary cross-entropy on probabilities
(PyTorch's clamped logs) and binary cross-entropy from logits. Those rules give the elementwise
loss; reductions and `nll_loss` are compositions of graph ops. Regression and distribution
losses are in `loss_regression.py`, margin losses in `loss_margin.py`.

`reduction` is `"none"` (one loss per element), `"sum"` or `"mean"`. Class weights, `weight`
and `pos_weight` are constants: they never receive a gradient.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels import cross_entropy as cross_entropy_kernels
from autodiff.ops._args import is_tensor, require_float
from autodiff.ops._loss_args import (
    REDUCTIONS,
    check_reduction,
    check_same,
    reduce,
    shape,
)

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]


# Binary cross-entropy also offers the mean over present labels (see its docstring)
_BCE_REDUCTIONS = (*REDUCTIONS, "weighted_mean")


class SoftmaxCrossEntropy(Function):
    """-sum_c q[c] * log_softmax(x)[c] over the class dim 1, for target weights q.

    q is x-shaped: one-hot class indices scaled by class weights and label smoothing, or class
    probabilities. Its own rule because log(softmax(x)) underflows, and backward is one step:
    d/dx = softmax(x) * sum_c q[c] - q (softmax - onehot for plain class indices).
    """

    @staticmethod
    def forward(ctx, x, q):
        shifted = x - x.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        ctx.save(log_p, q)
        return -(q * log_p).sum(axis=1)

    @staticmethod
    def backward(ctx, g):
        log_p, q = ctx.saved
        g = np.expand_dims(g, 1)
        gx = gq = None
        if ctx.needs_input_grad[0]:
            gx = g * (np.exp(log_p) * q.sum(axis=1, keepdims=True) - q)
        if ctx.needs_input_grad[1]:
            gq = -g * log_p
        return gx, gq


class ClassIndexCrossEntropy(Function):
    """-log_softmax(x)[n, t[n]] for logits x (N, C) and class indices t (N,); 0 where t is ignored.

    The common case of `cross_entropy` (no class weights, no label smoothing) with its own rule
    for speed: no dense (N, C) target is built, backward is softmax - onehot in one pass, and the
    reduction is part of the op (`scale` None keeps the (N,) losses; a number gives their sum
    times it, 0-d), which saves two graph nodes per training step.
    """

    @staticmethod
    def forward(ctx, x, target, valid, scale=None):
        loss, total, p = cross_entropy_kernels.forward(x, target, valid)
        ctx.save(p)  # softmax, for backward
        ctx.target, ctx.valid, ctx.scale = target, valid, scale
        return loss if scale is None else x.dtype.type(total) * x.dtype.type(scale)

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved
        coef = (g if ctx.scale is None else g * ctx.scale) * ctx.valid
        return cross_entropy_kernels.backward(p, ctx.target, coef), None, None, None


class BinaryCrossEntropy(Function):
    """-w * (y log p + (1 - y) log(1 - p)) with each log clamped to >= -100, as in PyTorch.

    Its own rule for PyTorch's gradient, w (p - y) / max(p (1 - p), 1e-12), which stays finite
    at p = 0 and p = 1 where composed clamped logs would give 0 or nan.
    """

    @staticmethod
    def forward(ctx, p, y, weight=None):
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        ctx.save(p, y, log_p, log_q, weight)
        loss = -(y * log_p + (1 - y) * log_q)
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, g):
        p, y, log_p, log_q, weight = ctx.saved
        if weight is not None:
            g = g * weight
        gp = gy = None
        if ctx.needs_input_grad[0]:
            gp = g * (p - y) / np.maximum(p * (1 - p), p.dtype.type(1e-12))
        if ctx.needs_input_grad[1]:
            gy = g * (log_q - log_p)
        return gp, gy


class BinaryCrossEntropyWithLogits(Function):
    """w * ((1 - y) x + (1 + (pos_weight - 1) y) log(1 + e^-x)), from logits x.

    Its own rule: log(1 + e^-x) is computed as logaddexp(0, -x), finite for every x, and the
    gradient is sigmoid(x) - y (with pos_weight: (1 - y) - (1 + (pos_weight - 1) y) sigmoid(-x)).
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, pos_weight=None):
        softplus = np.logaddexp(0, -x)  # log(1 + e^-x) without overflow
        ctx.save(x, y, softplus, weight, pos_weight)
        scale = softplus if pos_weight is None else ((pos_weight - 1) * y + 1) * softplus
        loss = (1 - y) * x + scale
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, g):
        x, y, softplus, weight, pos_weight = ctx.saved
        if weight is not None:
            g = g * weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            sig_neg = np.exp(-softplus)  # sigmoid(x) = e^-softplus(-x) = 1 / (1 + e^-x)
            if pos_weight is None:
                gx = g * (sig_neg - y)
            else:
                gx = g * ((1 - y) - ((pos_weight - 1) * y + 1) * (1 - sig_neg))
        if ctx.needs_input_grad[1]:
            gy = -g * x if pos_weight is None else g * ((pos_weight - 1) * softplus - x)
        return gx, gy


def cross_entropy(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Softmax cross-entropy from logits (log_softmax + nll_loss in one stable op).

    Parameters
    ----------
    input : Tensor
        Logits, `(N, C)`, `(N, C, d1, ...)` or unbatched `(C,)`; float32 or float64.
    target : Tensor or array
        Class indices of any integer dtype, shape `(N,)` / `(N, d1, ...)` / `()`, each in
        `[0, C)` or equal to `ignore_index`; or class probabilities of `input`'s shape and
        dtype (differentiable).
    weight : Tensor or array, optional
        `(C,)` rescaling weight per class (a constant).
    ignore_index : int
        Targets equal to it contribute nothing and are left out of the mean (index targets).
    reduction : {"mean", "sum", "none"}
        "mean" divides by the summed weight of the non-ignored targets (their count when
        `weight` is None); with probability targets, by the number of examples.
    label_smoothing : float in [0, 1]
        The target becomes `(1 - s) * target + s / C`, as in PyTorch.

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or the target's shape (without `C`) for "none".

    Raises
    ------
    ValueError : shapes that do not fit, a target out of range, bad reduction or smoothing.
    TypeError : non-float logits, float class indices, or probabilities of another dtype.
    """
    op = "cross_entropy"
    check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    require_float(op, input)
    _check_class_dim(op, input)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.reshape(1, -1), _add_batch_dim(target)
    n_classes = input.shape[1]
    w = _class_weight(op, weight, input)
    if np.asarray(target).dtype.kind == "f" and shape(target) == input.shape:
        check_same(op, input, target, "probability target")
        q = target
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / n_classes
        if w is not None:
            q = q * w.reshape(_channel_shape(input.ndim, n_classes))
        loss = SoftmaxCrossEntropy.apply(input, q)
        count = loss.data.size
    elif w is None and not label_smoothing and input.ndim == 2:
        safe, valid, count = _index_target(op, input, target, ignore_index)
        if reduction == "none":
            scale = None
        elif reduction == "sum":
            scale = 1.0
        else:  # nan when every target is ignored, as in PyTorch
            scale = 1 / count if count else math.nan
        loss = ClassIndexCrossEntropy.apply(input, safe, valid, scale=scale)
        return loss.reshape(()) if unbatched and reduction == "none" else loss
    else:
        q, count = _index_target_weights(op, input, target, w, ignore_index, label_smoothing)
        loss = SoftmaxCrossEntropy.apply(input, q)
    if unbatched and reduction == "none":
        return loss.reshape(())
    return reduce(loss, reduction, count)


def nll_loss(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
):
    """Negative log-likelihood of class indices under log-probabilities.

    Parameters
    ----------
    input : Tensor
        Log-probabilities, `(N, C)`, `(N, C, d1, ...)` or `(C,)` (e.g. from `log_softmax`).
    target, weight, ignore_index, reduction
        As in `cross_entropy` (class indices only): loss = -weight[t] * input[t], and "mean"
        divides by the summed weight of the non-ignored targets.

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or the target's shape for "none".
    """
    op = "nll_loss"
    check_reduction(op, reduction)
    require_float(op, input)
    _check_class_dim(op, input)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.reshape(1, -1), _add_batch_dim(target)
    w = _class_weight(op, weight, input)
    q, count = _index_target_weights(op, input, target, w, ignore_index, 0.0)
    # composed: -sum_c q[c] * input[c], q the weighted one-hot targets
    loss = -(input * q).sum(1)
    if unbatched and reduction == "none":
        return loss.reshape(())
    return reduce(loss, reduction, count)


def binary_cross_entropy(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    reduction: str = "mean",
):
    """Binary cross-entropy of probabilities: -w (y log p + (1 - y) log(1 - p)).

    Each log is clamped to >= -100, as in PyTorch, so p = 0 or 1 gives a finite loss.

    Parameters
    ----------
    input : Tensor
        Probabilities p in [0, 1], any shape; float32 or float64.
    target : Tensor or array
        Labels (or soft labels) y of `input`'s shape and dtype; differentiable.
    weight : Tensor or array, optional
        Broadcastable to `input`'s shape; a constant. Weight 0 masks an element out (a missing
        label in multi-task learning).
    reduction : {"mean", "sum", "none", "weighted_mean"}
        "mean" divides by the number of elements, as PyTorch does, masked ones included;
        "weighted_mean" divides by the sum of the weights instead (the mean over the labels
        present when `weight` is a 0/1 mask; 0 when none is present).

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or `input`'s shape for "none".

    Raises
    ------
    ValueError : shapes differ, p outside [0, 1], or an unknown reduction.
    TypeError : non-float input, or a target of another dtype.
    """
    op = "binary_cross_entropy"
    check_reduction(op, reduction, _BCE_REDUCTIONS)
    require_float(op, input)
    check_same(op, input, target, "target")
    p = input.data
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise ValueError(
            f"{op}: input must be probabilities in [0, 1], got values in "
            f"[{p.min()}, {p.max()}] (shape {p.shape} {p.dtype}); use "
            "binary_cross_entropy_with_logits for logits"
        )
    w = _elementwise_weight(op, weight, input, "weight")
    loss = BinaryCrossEntropy.apply(input, target, weight=w)
    return _reduce_binary(loss, reduction, w)


def binary_cross_entropy_with_logits(
    input,  # noqa: A002 - PyTorch's name
    target,
    weight=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Binary cross-entropy from logits, stable for any x: max(x, 0) - x y + log(1 + e^-|x|).

    Multi-task learning with missing labels: pass a 0/1 mask as `weight` (0 = label missing).
    With reduction "mean" the masked elements still count in the denominator, as in PyTorch
    (the loss is the sum over present labels / number of elements); "weighted_mean" averages
    over the present labels only::

        F.binary_cross_entropy_with_logits(logits, labels, weight=mask, reduction="weighted_mean")
        # == (mask * per_element_loss).sum() / mask.sum(), and 0 if no label is present

    Parameters
    ----------
    input : Tensor
        Logits x, any shape; float32 or float64.
    target : Tensor or array
        Labels y of `input`'s shape and dtype (soft labels allowed); differentiable.
    weight : Tensor or array, optional
        Broadcastable to `input`'s shape; a constant.
    reduction : {"mean", "sum", "none", "weighted_mean"}
        As in `binary_cross_entropy`.
    pos_weight : Tensor or array, optional
        Weight of the positive term y log sigmoid(x), broadcastable to `target` (e.g. `(C,)`
        for `(N, C)` multi-label targets); a constant. > 1 raises recall, < 1 precision.

    Returns
    -------
    Tensor of `input`'s dtype: 0-d, or `input`'s shape for "none".
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction, _BCE_REDUCTIONS)
    require_float(op, input)
    check_same(op, input, target, "target")
    w = _elementwise_weight(op, weight, input, "weight")
    pw = _elementwise_weight(op, pos_weight, input, "pos_weight")
    loss = BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw)
    return _reduce_binary(loss, reduction, w)


def _reduce_binary(loss, reduction, weight):
    if reduction != "weighted_mean":
        return reduce(loss, reduction, None)
    if weight is None:
        return reduce(loss, "mean", None)
    total_weight = float(np.broadcast_to(weight, loss.shape).sum())
    # no label present: the loss is 0 with zero gradient rather than 0 / 0
    return loss.sum() * (1 / total_weight if total_weight else 0.0)


def _index_target_weights(op, input, target, weight, ignore_index, smoothing):
    """Dense q of `input`'s shape for class-index targets, and the "mean" denominator."""
    safe, valid, count = _index_target(op, input, target, ignore_index)
    n_classes = input.shape[1]
    # q is built classes-last, (M, C) with one row per target, then moved back to dim 1: one
    # fancy-index write instead of put/take_along_axis
    dtype = input.dtype
    shape, safe = safe.shape, safe.reshape(-1)
    keep = valid.reshape(-1).astype(dtype)
    w = np.ones(n_classes, dtype) if weight is None else weight
    w_target = w[safe] * keep  # weight of each example's class; 0 where ignored
    q = np.zeros((safe.size, n_classes), dtype)
    if smoothing:
        q += (smoothing / n_classes) * w * keep[:, None]
    q[np.arange(safe.size), safe] += (1 - smoothing) * w_target
    q = np.moveaxis(q.reshape(*shape, n_classes), -1, 1)
    if weight is not None:
        count = float(w_target.sum())
    return q, count


def _index_target(op, input, target, ignore_index):
    """Class indices (N, d1, ...) checked against `input` (N, C, d1, ...): `(safe, valid,
    count)`, the indices as int64 with 0 where ignored, which count, and how many do."""
    t = np.asarray(target)
    n, n_classes = input.shape[0], input.shape[1]
    expected = (n, *input.shape[2:])
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold integer class indices of shape {expected}, got "
            f"{t.dtype} of shape {t.shape} (input {input.shape} {input.dtype})"
        )
    if t.shape != expected:
        raise ShapeError(
            f"{op}: target of shape {t.shape} {t.dtype} does not fit input of shape "
            f"{input.shape} {input.dtype}: class indices need shape {expected}"
        )
    safe, valid, count, bad = cross_entropy_kernels.class_targets(t, ignore_index, n_classes)
    if bad >= 0:
        raise ValueError(
            f"{op}: target {t.flat[bad]} is out of range for {n_classes} classes (input "
            f"{input.shape} {input.dtype}, target {t.shape} {t.dtype}, ignore_index "
            f"{ignore_index})"
        )
    return safe, valid, count


def _class_weight(op, weight, input):
    if weight is None:
        return None
    w = np.asarray(weight)
    n_classes = input.shape[1]
    if w.shape != (n_classes,):
        raise ShapeError(
            f"{op}: weight must have shape ({n_classes},), one per class, got {w.shape} "
            f"{w.dtype} (input {input.shape} {input.dtype})"
        )
    return w.astype(input.dtype, copy=False)


def _elementwise_weight(op, weight, input, name):
    if weight is None:
        return None
    w = np.asarray(weight)
    try:
        broadcast = np.broadcast_shapes(w.shape, input.shape)
    except ValueError:
        broadcast = None
    if broadcast != input.shape:
        raise ShapeError(
            f"{op}: {name} of shape {w.shape} {w.dtype} does not broadcast to input of shape "
            f"{input.shape} {input.dtype}"
        )
    return w.astype(input.dtype, copy=False)


def _add_batch_dim(target):
    if is_tensor(target):
        return target.reshape(1, *target.shape)
    return np.asarray(target)[None]


def _channel_shape(ndim, n_classes):
    return (1, n_classes) + (1,) * (ndim - 2)


def _check_class_dim(op, input):  # noqa: A002 - PyTorch's name
    if input.ndim == 0:
        raise ShapeError(
            f"{op}: input needs a class dim: (C,), (N, C) or (N, C, d1, ...), got () {input.dtype}"
        )
