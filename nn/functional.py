"""Functional forms of the layers and losses, as `torch.nn.functional` (import as `F`).

Everything here is a graph op from `autodiff.ops` (re-exported) or a short composition of them;
the modules in `nn` hold the parameters and call these.

>>> import autodiff as ad
>>> import nn.functional as F
>>> logits = ad.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, ad.tensor([0]))
>>> loss.backward()
"""

from autodiff.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from autodiff.ops.conv import conv2d
from autodiff.ops.dropout import dropout
from autodiff.ops.linalg import linear
from autodiff.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from autodiff.ops.normalization import batch_norm
from autodiff.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from autodiff.ops.shape import pad

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout", "l1_loss",
    "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "pad", "relu",
    "sigmoid", "softmax", "tanh",
]  # fmt: skip
