"""Activations. Each has its own rule: the saved output makes backward cheap and stable."""

import numpy as np

from autodiff import kernels
from autodiff.function import Function

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch. One-pass kernels (the backward in numpy
    takes a boolean temporary and two passes)."""

    @staticmethod
    def forward(ctx, x):
        y = kernels.relu_forward(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return kernels.relu_backward(g, y)


class LeakyReLU(Function):
    """x for x > 0, slope * x otherwise."""

    @staticmethod
    def forward(ctx, x, slope=0.01):
        ctx.save(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return np.where(x > 0, g, g * ctx.slope)


class Sigmoid(Function):
    """1 / (1 + e^-x), computed without overflow for large |x|."""

    @staticmethod
    def forward(ctx, x):
        # e^-|x| never overflows; the two branches agree and are exact on their own side
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y * (1 - y)


class Tanh(Function):
    """Hyperbolic tangent."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * (1 - y * y)


class Softmax(Function):
    """exp(x) / sum(exp(x)) along `dim`, with the max subtracted so exp cannot overflow."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    """x - logsumexp(x) along `dim`; its own rule because log(softmax(x)) underflows to -inf."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g - np.exp(y) * g.sum(axis=ctx.dim, keepdims=True)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def softmax(x, dim=-1):
    return Softmax.apply(x, dim=_check_dim("softmax", x, dim))


def log_softmax(x, dim=-1):
    return LogSoftmax.apply(x, dim=_check_dim("log_softmax", x, dim))


def _check_dim(op, x, dim):
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor of shape {x.shape}")
    return dim
