"""Op-table entries for the regression, distribution and margin losses (see tests/ops/specs.py):
smooth L1, Huber, KL divergence, Poisson NLL, margin ranking, soft margin, cosine embedding, and
mse/l1 with a weight. Constant arguments (labels of cosine_embedding_loss, weights) are fixed
arrays in the sample's kwargs."""

import numpy as np

from autodiff.ops.loss import BinaryCrossEntropyWithLogits
from autodiff.ops.loss_margin import (
    cosine_embedding_loss,
    margin_ranking_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from autodiff.ops.loss_regression import (
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)
from tests.ops.harness import OpSpec, normal, positive, sample, torch


def _sign(rng, shape):
    """Labels 1 or -1 (as floats)."""
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _counts(rng, shape):
    """Poisson targets, some at most 1 and some above (Stirling's term applies above 1)."""
    return rng.uniform(0.2, 4.0, shape)


def _reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    return np.sum(loss) / (loss.size if denominator is None else denominator)


def _weights(shape, seed=7):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


# ---- references (float64 numpy, PyTorch's definitions) ----------------------------------------


def _ref_huber(x, y, reduction="mean", delta=1.0, weight=None):
    d = np.abs(x - y)
    loss = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


def _ref_smooth_l1(x, y, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def _ref_weighted(fn):
    def ref(x, y, reduction="mean", weight=None):
        loss = fn(x - y) * weight
        return _reduce(loss, reduction, weight.sum())

    return ref


def _ref_kl_div(x, t, reduction="mean", log_target=False):
    loss = np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def _ref_poisson(x, y, log_input=True, full=False, eps=1e-8, reduction="mean"):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        stirling = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        loss = loss + np.where(y > 1, stirling, 0)
    return _reduce(loss, reduction)


def _ref_margin_ranking(x1, x2, y, margin=0.0, reduction="mean"):
    return _reduce(np.maximum(0, -y * (x1 - x2) + margin), reduction)


def _ref_soft_margin(x, y, reduction="mean"):
    return _reduce(np.logaddexp(0, -y * x), reduction)


def _ref_cosine_embedding(x1, x2, target, margin=0.0, reduction="mean"):
    cos = (x1 * x2).sum(-1) / np.sqrt(
        ((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12)
    )  # fmt: skip
    loss = np.where(target == 1, 1 - cos, 0) + np.where(
        target == -1, np.maximum(0, cos - margin), 0
    )
    return _reduce(loss, reduction)


def _ref_triplet(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                 reduction="mean"):  # fmt: skip
    def dist(x, y):
        return (np.abs(x - y + eps) ** p).sum(-1) ** (1 / p)

    d_neg = dist(anchor, negative)
    if swap:
        d_neg = np.minimum(d_neg, dist(positive, negative))
    return _reduce(np.maximum(0, margin + dist(anchor, positive) - d_neg), reduction)


def _torch_weight(kw, like):
    return {k: torch.from_numpy(v).to(like.dtype) if k == "weight" else v for k, v in kw.items()}


# ---- the entries ---------------------------------------------------------------------------------

_SAME_SHAPE = {"broadcast": "input and target must have one shape (PyTorch warns and broadcasts)"}

SPECS = [
    OpSpec(
        name="smooth_l1_loss",
        fn=smooth_l1_loss,
        ref=_ref_smooth_l1,
        torch_fn=lambda x, y, **kw: torch.nn.functional.smooth_l1_loss(x, y, **kw),
        covers=(),
        samples=(
            sample((), (), reduction="mean"),
            sample((4, 1), (4, 1), reduction="none", beta=0.5),
            sample((4, 3), (4, 3), t=(1,), reduction="sum", beta=2.0),
            sample((5, 2), (5, 2), beta=0.0),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="huber_loss",
        fn=huber_loss,
        ref=_ref_huber,
        torch_fn=lambda x, y, **kw: torch.nn.functional.huber_loss(x, y, **_torch_weight(kw, x)),
        covers=(),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none", delta=0.5),
            sample((4, 3), (4, 3), t=(0,), reduction="sum", delta=2.0),
            sample((3, 4), (3, 4), delta=0.7, weight=_weights((3, 4))),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="mse_loss_weighted",
        fn=mse_loss,
        ref=_ref_weighted(np.square),
        torch_fn=lambda x, y, **kw: torch.nn.functional.mse_loss(x, y, **_torch_weight(kw, x)),
        covers=(),
        samples=(
            sample((), (), weight=_weights(())),
            sample((4, 1), (4, 1), reduction="none", weight=_weights((4, 1))),
            sample((4, 3), (4, 3), t=(0,), weight=_weights((4, 3))),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="l1_loss_weighted",
        fn=l1_loss,
        ref=_ref_weighted(np.abs),
        torch_fn=lambda x, y, **kw: torch.nn.functional.l1_loss(x, y, **_torch_weight(kw, x)),
        covers=(),
        samples=(
            sample((), (), weight=_weights(())),
            sample((4, 1), (4, 1), reduction="sum", weight=_weights((4, 1))),
            sample((4, 3), (4, 3), t=(1,), weight=_weights((4, 3))),
        ),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="kl_div",
        fn=kl_div,
        ref=_ref_kl_div,
        torch_fn=lambda x, t, **kw: torch.nn.functional.kl_div(x, t, **kw),
        covers=(),
        samples=(
            sample((), (), reduction="batchmean"),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(0, 1), reduction="batchmean"),
            sample((3, 5), (3, 5), reduction="sum", log_target=True),
        ),
        domain=(normal, positive),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="poisson_nll_loss",
        fn=poisson_nll_loss,
        ref=_ref_poisson,
        torch_fn=lambda x, y, **kw: torch.nn.functional.poisson_nll_loss(x, y, **kw),
        covers=(),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none", full=True),
            sample((4, 3), (4, 3), t=(0,), reduction="sum", full=True),
        ),
        domain=(normal, _counts),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="poisson_nll_loss_rate",
        fn=poisson_nll_loss,
        ref=_ref_poisson,
        torch_fn=lambda x, y, **kw: torch.nn.functional.poisson_nll_loss(x, y, **kw),
        covers=(),
        samples=(
            sample((), (), log_input=False),
            sample((4, 1), (4, 1), log_input=False, reduction="none", full=True),
            sample((4, 3), (4, 3), t=(1,), log_input=False, eps=1e-3),
        ),
        domain=(positive, _counts),
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="margin_ranking_loss",
        fn=margin_ranking_loss,
        ref=_ref_margin_ranking,
        torch_fn=lambda a, b, y, **kw: torch.nn.functional.margin_ranking_loss(a, b, y, **kw),
        covers=(),
        samples=(
            sample((), (), ()),
            sample((5, 1), (5, 1), (5, 1), margin=0.3, reduction="none"),
            sample((4, 3), (4, 3), (4, 3), t=(0, 2), margin=0.5, reduction="sum"),
        ),
        domain=(normal, normal, _sign),
        exempt={"broadcast": "inputs and target must have one shape"},
    ),
    OpSpec(
        name="triplet_margin_loss",
        fn=triplet_margin_loss,
        ref=_ref_triplet,
        torch_fn=lambda a, pos, neg, **kw: torch.nn.functional.triplet_margin_loss(
            a, pos, neg, **kw
        ),
        covers=(),
        samples=(
            sample((5,), (5,), (5,), reduction="none"),
            sample((4, 3), (4, 3), (4, 3)),
            sample((1, 3), (4, 3), (4, 3), margin=2.0, reduction="none"),
            sample((4, 1), (4, 1), (4, 1), swap=True, reduction="sum"),
            sample((5, 3), (5, 3), (5, 3), t=(0, 2), p=1.0, swap=True, reduction="none"),
            sample((3, 4), (3, 4), (3, 4), t=(1,), p=3.0, eps=1e-3, margin=0.5),
        ),
        exempt={"scalar": "embeddings need a feature dim D (the (D,) sample gives a 0-d loss)"},
    ),
    OpSpec(
        name="soft_margin_loss",
        fn=soft_margin_loss,
        ref=_ref_soft_margin,
        torch_fn=lambda x, y, **kw: torch.nn.functional.soft_margin_loss(x, y, **kw),
        covers=(BinaryCrossEntropyWithLogits,),
        samples=(
            sample((), ()),
            sample((4, 1), (4, 1), reduction="none"),
            sample((4, 3), (4, 3), t=(0,), reduction="sum"),
        ),
        domain=(normal, _sign),
        grad_inputs=(0,),  # the labels are constants, as in PyTorch
        exempt=_SAME_SHAPE,
    ),
    OpSpec(
        name="cosine_embedding_loss",
        fn=cosine_embedding_loss,
        ref=_ref_cosine_embedding,
        torch_fn=lambda a, b, target, **kw: torch.nn.functional.cosine_embedding_loss(
            a, b, torch.from_numpy(target), **kw
        ),
        covers=(),
        samples=(
            sample((3,), (3,), target=np.array(-1.0)),
            sample((4, 3), (4, 3), target=np.array([1.0, -1.0, -1.0, 1.0]), margin=-0.2),
            sample((1, 5), (1, 5), target=np.array([-1.0]), reduction="none", margin=-0.5),
            sample((2, 4), (2, 4), t=(0,), target=np.array([1, -1]), reduction="sum"),
        ),
        exempt={
            "scalar": "the inputs need a feature dim D; the (D,) sample has a 0-d target",
            "broadcast": "input1 and input2 must have one shape",
        },
    ),
]
