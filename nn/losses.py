"""Loss modules: each holds its options (and constant weights, as buffers) and calls the
function of the same name in `nn.functional`.

PyTorch's deprecated `size_average` and `reduce` arguments are not taken, so the options that
PyTorch places after them (after `weight`, after `margin`...) are keyword-only here: a
positional PyTorch call fails instead of binding the wrong option. Where PyTorch has no such
arguments (`HuberLoss(reduction, delta)`), the options stay positional.
"""

import numpy as np

from autodiff.tensor import Tensor
from nn import functional as F
from nn.module import Module


class _Loss(Module):
    """Base of the losses: `reduction` is "mean", "sum" or "none"."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def _options(self) -> dict:
        """Options shown by `extra_repr` when they differ from these defaults."""
        return {"reduction": (self.reduction, "mean")}

    def extra_repr(self) -> str:
        parts = []
        for name in ("weight", "pos_weight"):
            t = self._buffers.get(name)
            if t is not None:
                parts.append(f"{name}=<shape {t.shape}>")
        for name, (value, default) in self._options().items():
            if value != default:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)


def _constant(value):
    """A weight given as Tensor, array, list or None, ready for `register_buffer`."""
    if value is None or isinstance(value, Tensor | np.ndarray):
        return value
    return np.asarray(value, dtype=np.float32)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits; see `nn.functional.cross_entropy`.

    Input `(N, C)` (or `(N, C, d1, ...)`, or `(C,)`) logits; target class indices `(N,)` of an
    integer dtype (or class probabilities of the input's shape). `weight` `(C,)` is kept as a
    buffer; "mean" divides by the summed weight of the non-ignored targets.
    """

    def __init__(
        self,
        weight=None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self.register_buffer("weight", _constant(weight))
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )

    def _options(self) -> dict:
        return {
            **super()._options(),
            "ignore_index": (self.ignore_index, -100),
            "label_smoothing": (self.label_smoothing, 0.0),
        }


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities (`LogSoftmax` output);
    see `nn.functional.nll_loss`."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _constant(weight))
        self.ignore_index = ignore_index

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def _options(self) -> dict:
        return {**super()._options(), "ignore_index": (self.ignore_index, -100)}


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (`Sigmoid` output), logs clamped to >= -100; see
    `nn.functional.binary_cross_entropy`. `reduction` may also be "weighted_mean"."""

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _constant(weight))

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, stable for any logit; see
    `nn.functional.binary_cross_entropy_with_logits` (also for masking missing labels in
    multi-task learning). `pos_weight` (e.g. `(C,)`) weights the positive term."""

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _constant(weight))
        self.register_buffer("pos_weight", _constant(pos_weight))

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class MSELoss(_Loss):
    """Squared error (x - y)^2; input and target of one shape."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Absolute error |x - y|; input and target of one shape."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1: quadratic for |x - y| < beta, linear beyond; see
    `nn.functional.smooth_l1_loss`."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def _options(self) -> dict:
        return {**super()._options(), "beta": (self.beta, 1.0)}


class HuberLoss(_Loss):
    """Huber loss: quadratic for |x - y| < delta, linear beyond; see `nn.functional.huber_loss`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.huber_loss(input, target, self.reduction, self.delta)

    def _options(self) -> dict:
        return {**super()._options(), "delta": (self.delta, 1.0)}


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities `input` from `target`; see `nn.functional.kl_div`.
    Use `reduction="batchmean"` for the true divergence ("mean" warns, as in PyTorch)."""

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def _options(self) -> dict:
        return {**super()._options(), "log_target": (self.log_target, False)}


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood; see `nn.functional.poisson_nll_loss`."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        *,
        eps: float = 1e-8,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )

    def _options(self) -> dict:
        return {
            **super()._options(),
            "log_input": (self.log_input, True),
            "full": (self.full, False),
            "eps": (self.eps, 1e-8),
        }


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin); see `nn.functional.margin_ranking_loss`."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)

    def _options(self) -> dict:
        return {**super()._options(), "margin": (self.margin, 0.0)}


class SoftMarginLoss(_Loss):
    """Two-class logistic loss log(1 + exp(-y x)); see `nn.functional.soft_margin_loss`."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):  # noqa: A002 - PyTorch's name
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1; see
    `nn.functional.cosine_embedding_loss`."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(
            input1, input2, target, self.margin, reduction=self.reduction
        )

    def _options(self) -> dict:
        return {**super()._options(), "margin": (self.margin, 0.0)}


class TripletMarginLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance; see
    `nn.functional.triplet_margin_loss`. Called as `loss(anchor, positive, negative)`."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        *,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction
        )

    def _options(self) -> dict:
        return {
            **super()._options(),
            "margin": (self.margin, 1.0),
            "p": (self.p, 2.0),
            "eps": (self.eps, 1e-6),
            "swap": (self.swap, False),
        }
