"""Loss modules: each holds its options (and constant weights, as buffers) and calls the
function of the same name in `nn.functional`.

Options after `weight` are keyword-only: PyTorch's deprecated `size_average` and `reduce`
arguments are not taken, so positional PyTorch calls could bind the wrong option.
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
