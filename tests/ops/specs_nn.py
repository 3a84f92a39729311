"""Op-table entries for the losses, batch norm and dropout (see tests/ops/specs.py).

Integer targets, class weights and running statistics are not differentiable inputs: they are
fixed arrays in the sample's kwargs, which fn, ref and torch_fn all receive.
"""

import numpy as np

import autodiff as ad
from autodiff.ops.dropout import Dropout, dropout
from autodiff.ops.loss import (
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    ClassIndexCrossEntropy,
    SoftmaxCrossEntropy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from autodiff.ops.loss_regression import l1_loss, mse_loss
from autodiff.ops.normalization import BatchNorm, batch_norm
from tests.ops.harness import OpSpec, normal, sample, torch


def _uniform(low, high):
    def domain(rng, shape):
        return rng.uniform(low, high, shape)

    domain.__name__ = f"uniform({low}, {high})"
    return domain


probability = _uniform(0.05, 0.95)  # p for binary_cross_entropy, away from the clamped logs
label = _uniform(0.0, 1.0)  # soft labels


def _targets(shape, n_classes, seed, ignore=()):
    """Fixed class indices (int64), with the positions in `ignore` set to -100."""
    t = np.random.default_rng(seed).integers(0, n_classes, shape)
    for pos in ignore:
        t[pos] = -100
    return t


def _weights(n, seed=7):
    return np.random.default_rng(seed).uniform(0.5, 2.0, n)


def _reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    return np.sum(loss) / (loss.size if denominator is None else denominator)


# ---- references (float64 numpy, PyTorch's definitions) ----------------------------------------


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _ref_cross_entropy(
    x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    if x.ndim == 1:
        loss = _ref_cross_entropy(x[None], np.asarray(target)[None], weight, ignore_index,
                                  "none", label_smoothing)  # fmt: skip
        return loss[0] if reduction == "none" else _reduce(loss, reduction, None)
    n_classes = x.shape[1]
    w = np.ones(n_classes) if weight is None else weight
    log_p = np.moveaxis(_log_softmax(x, 1), 1, -1)  # classes last
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    picked = -np.take_along_axis(log_p, safe[..., None], -1)[..., 0] * w[safe]
    smooth = -(log_p * w).sum(-1)
    loss = np.where(valid, (1 - label_smoothing) * picked + label_smoothing / n_classes * smooth, 0)
    return _reduce(loss, reduction, np.sum(w[safe] * valid))


def _ref_cross_entropy_probs(x, probs, weight=None, reduction="mean", label_smoothing=0.0):
    n_classes = x.shape[1]
    q = probs * (1 - label_smoothing) + label_smoothing / n_classes
    if weight is not None:
        q = q * weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return _reduce(-(q * _log_softmax(x, 1)).sum(1), reduction)


def _ref_nll_loss(log_p, target, weight=None, ignore_index=-100, reduction="mean"):
    w = np.ones(log_p.shape[1]) if weight is None else weight
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    picked = np.take_along_axis(np.moveaxis(log_p, 1, -1), safe[..., None], -1)[..., 0]
    loss = np.where(valid, -picked * w[safe], 0)
    return _reduce(loss, reduction, np.sum(w[safe] * valid))


def _ref_bce(p, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    return _reduce(loss if weight is None else loss * weight, reduction)


def _ref_bce_logits(x, y, weight=None, reduction="mean", pos_weight=None):
    log_sig, log_sig_neg = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    pw = 1 if pos_weight is None else pos_weight
    loss = -(pw * y * log_sig + (1 - y) * log_sig_neg)
    return _reduce(loss if weight is None else loss * weight, reduction)


def _ref_batch_norm(x, weight, bias, eps=1e-5):
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return xhat * weight.reshape(shape) + bias.reshape(shape)


def _ref_batch_norm_eval(x, weight, bias, running_mean, running_var, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
    return xhat * weight.reshape(shape) + bias.reshape(shape)


def _dropout_mask(shape, p, seed):
    return (np.random.default_rng(seed).random(shape) >= p) / (1 - p)


# ---- torch adapters: constant kwargs become tensors of the input's dtype ----------------------


def _t(a, like=None):
    if a is None or not isinstance(a, np.ndarray):
        return a
    if a.dtype.kind in "iu":
        return torch.from_numpy(a)
    return torch.from_numpy(a).to(like.dtype)


def _torch_kwargs(x, kwargs):
    return {k: _t(v, x) for k, v in kwargs.items()}


def _torch_cross_entropy(x, target, **kw):
    return torch.nn.functional.cross_entropy(x, _t(target), **_torch_kwargs(x, kw))


def _torch_nll_loss(x, target, **kw):
    return torch.nn.functional.nll_loss(x, _t(target), **_torch_kwargs(x, kw))


def _torch_batch_norm_eval(x, w, b, running_mean, running_var):
    return torch.nn.functional.batch_norm(x, _t(running_mean, x), _t(running_var, x), w, b)


# ---- the entries ---------------------------------------------------------------------------------

_NO_SCALAR = {"scalar": "logits need a class dim; the unbatched (C,) sample has a 0-d target"}
_SAME_SHAPE = {"broadcast": "input and target must have one shape, as in PyTorch"}

SPECS = [
    OpSpec(
        name="cross_entropy",
        fn=lambda x, **kw: cross_entropy(x, **kw),
        ref=_ref_cross_entropy,
        torch_fn=_torch_cross_entropy,
        covers=(ClassIndexCrossEntropy, SoftmaxCrossEntropy),
        samples=(
            sample((4, 5), target=_targets((4,), 5, 0)),
            sample((1, 3), target=_targets((1,), 3, 1), reduction="sum"),
            sample((5, 4), t=(0,), target=_targets((5,), 4, 2), reduction="none"),
            sample((5,), target=np.array(3)),
            sample((5, 4), target=_targets((5,), 4, 7, ignore=[0, 3])),  # mean over the kept 3
            sample((5, 4), target=_targets((5,), 4, 3, ignore=[1]), weight=_weights(4)),
            sample((5, 4), target=_targets((5,), 4, 4), weight=_weights(4), label_smoothing=0.2),
            sample(
                (6, 3),
                target=_targets((6,), 3, 5, ignore=[0, 4]),
                label_smoothing=0.1,
                reduction="none",
            ),  # fmt: skip
            sample(
                (2, 3, 2, 2),
                target=_targets((2, 2, 2), 3, 6, ignore=[(0, 1, 1)]),
                weight=_weights(3),
            ),  # fmt: skip
        ),
        exempt={**_NO_SCALAR, "broadcast": "one tensor input: the target is a constant"},
    ),
    OpSpec(
        name="cross_entropy_probs",
        fn=lambda x, q, **kw: cross_entropy(x, q, **kw),
        ref=_ref_cross_entropy_probs,
        torch_fn=lambda x, q, **kw: torch.nn.functional.cross_entropy(x, q, **_torch_kwargs(x, kw)),
        covers=(SoftmaxCrossEntropy,),
        samples=(
            sample((4, 5), (4, 5)),
            sample((1, 3), (1, 3), reduction="sum", label_smoothing=0.3),
            sample((3, 4), (3, 4), t=(0, 1), weight=_weights(4), reduction="none"),
            sample((2, 3, 2, 2), (2, 3, 2, 2), weight=_weights(3)),
        ),
        domain=(normal, label),
        exempt={**_NO_SCALAR, **_SAME_SHAPE},
    ),
    OpSpec(
        name="nll_loss",
        fn=lambda x, **kw: nll_loss(x, **kw),
        ref=_ref_nll_loss,
        torch_fn=_torch_nll_loss,
        covers=(),
        samples=(
            sample((4, 5), target=_targets((4,), 5, 10)),
            sample((1, 3), target=_targets((1,), 3, 11), reduction="sum"),
            sample((5, 4), t=(0,), target=_targets((5,), 4, 12, ignore=[2]), weight=_weights(4)),
            sample((2, 3, 2, 2), target=_targets((2, 2, 2), 3, 13), reduction="none"),
        ),
        exempt={**_NO_SCALAR, "broadcast": "one tensor input: the target is a constant"},
    ),
    OpSpec(
        name="binary_cross_entropy",
        fn=binary_cross_entropy,
        ref=_ref_bce,
        torch_fn=lambda p, y, **kw: torch.nn.functional.binary_cross_entropy(
            p, y, **_torch_kwargs(p, kw)
        ),
        covers=(BinaryCrossEntropy,),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(0, 1), weight=_weights(3)),
            sample((2, 3), (2, 3), weight=_weights((2, 3)), reduction="sum"),
        ),
        domain=(probability, label),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="binary_cross_entropy_with_logits",
        fn=binary_cross_entropy_with_logits,
        ref=_ref_bce_logits,
        torch_fn=lambda x, y, **kw: torch.nn.functional.binary_cross_entropy_with_logits(
            x, y, **_torch_kwargs(x, kw)
        ),
        covers=(BinaryCrossEntropyWithLogits,),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(0,), pos_weight=_weights(3)),
            sample(
                (5, 3), (5, 3), weight=_weights(3), pos_weight=_weights(3, seed=3), reduction="sum"
            ),  # fmt: skip
        ),
        domain=(normal, label),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="mse_loss",
        fn=mse_loss,
        ref=lambda x, y, reduction="mean": _reduce((x - y) ** 2, reduction),
        torch_fn=lambda x, y, **kw: torch.nn.functional.mse_loss(x, y, **kw),
        covers=(),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(1,), reduction="sum"),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="l1_loss",
        fn=l1_loss,
        ref=lambda x, y, reduction="mean": _reduce(np.abs(x - y), reduction),
        torch_fn=lambda x, y, **kw: torch.nn.functional.l1_loss(x, y, **kw),
        covers=(),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(1,), reduction="sum"),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="batch_norm",
        fn=lambda x, w, b, **kw: batch_norm(x, None, None, w, b, training=True, **kw),
        ref=_ref_batch_norm,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.batch_norm(
            x, None, None, w, b, training=True, **kw
        ),
        covers=(BatchNorm,),
        samples=(
            sample((4, 3), (3,), (3,)),
            sample((5, 1), (1,), (1,), eps=1e-3),
            sample((4, 3), (3,), (3,), t=(0,)),
            sample((2, 3, 4), (3,), (3,)),
            sample((2, 2, 3, 3), (2,), (2,)),
        ),
        exempt={"scalar": "needs (N, C, ...) input"},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="batch_norm_eval",
        fn=lambda x, w, b, running_mean, running_var: batch_norm(
            x, ad.tensor(running_mean, dtype=x.dtype), ad.tensor(running_var, dtype=x.dtype), w, b
        ),
        ref=_ref_batch_norm_eval,
        torch_fn=_torch_batch_norm_eval,
        covers=(BatchNorm,),
        samples=(
            sample((4, 3), (3,), (3,), running_mean=_weights(3) - 1, running_var=_weights(3)),
            sample(
                (1, 2, 2, 3), (2,), (2,), t=(0,), running_mean=np.zeros(2), running_var=_weights(2)
            ),  # fmt: skip
        ),
        exempt={"scalar": "needs (N, C, ...) input"},
    ),
    OpSpec(
        name="dropout",
        fn=lambda x, p: dropout(x, p, generator=5),
        ref=lambda x, p: x * _dropout_mask(x.shape, p, 5),
        torch_fn=None,  # torch draws its own mask; tests/nn compares the statistics instead
        covers=(Dropout,),
        samples=(
            sample((), p=0.3),
            sample((1, 7), p=0.5),
            sample((5, 4), t=(0,), p=0.2),
        ),
    ),
]
