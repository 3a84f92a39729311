"""Functional forms of the layers and losses, as `torch.nn.functional` (import as `F`).

Everything here is a graph op from `autodiff.ops` (re-exported) or a short composition of them;
the modules in `nn` hold the parameters and call these.

>>> import autodiff as ad
>>> import nn.functional as F
>>> logits = ad.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, ad.tensor([0]))
>>> loss.backward()
"""

import importlib

from autodiff.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from autodiff.ops.dropout import dropout
from autodiff.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from autodiff.ops.norm import batch_norm
from autodiff.ops.shape import pad

# Convolution and pooling live in their own op modules, imported on first use.
_LAZY = {
    "conv2d": "autodiff.ops.conv",
    "max_pool2d": "autodiff.ops.pool",
    "avg_pool2d": "autodiff.ops.pool",
    "adaptive_avg_pool2d": "autodiff.ops.pool",
}

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "l1_loss", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "pad",
    "relu", "sigmoid", "softmax", "tanh", *_LAZY,
]  # fmt: skip


def linear(input, weight, bias=None):  # noqa: A002 - PyTorch's name
    """x @ weight.T + bias, composed of graph ops.

    Parameters
    ----------
    input : Tensor
        `(*, in_features)`.
    weight : Tensor
        `(out_features, in_features)`, PyTorch's layout.
    bias : Tensor, optional
        `(out_features,)`.

    Returns
    -------
    Tensor of shape `(*, out_features)`.

    Raises
    ------
    ValueError : the feature sizes do not agree.
    """
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} {input.dtype} does not fit weight of shape "
            f"{weight.shape} {weight.dtype}: expected (*, in_features) and "
            "(out_features, in_features)"
        )
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: bias must have shape {weight.shape[:1]} for weight of shape "
            f"{weight.shape}, got {bias.shape} {bias.dtype}"
        )
    out = input @ weight.T
    return out if bias is None else out + bias


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nn.functional' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
