"""Rectifiers and piecewise-linear activations, sigmoid and tanh.

relu, hardtanh, relu6 and threshold keep an integer input's dtype, as PyTorch's; sigmoid and
tanh compute an integer input in float32; the others take float tensors only (TypeError
otherwise, where PyTorch raises NotImplementedError). `inplace=` is accepted for code written for
PyTorch and ignored: the result is always a new tensor and the input is left as it is.
"""

import numpy as np

from autodiff import kernels
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.elementwise import add, clamp, div, mul, sub, where
from autodiff.ops.shape import reshape

__all__ = [
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "hardtanh",
    "relu6",
    "threshold",
    "hardshrink",
    "softshrink",
    "hardsigmoid",
    "hardswish",
    "prelu",
]


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
    """1 / (1 + e^-x), computed without overflow for large |x|; one-pass kernels after numpy's
    exp, and for the backward."""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return kernels.elementwise.sigmoid_backward(g, y)


class Tanh(Function):
    """Hyperbolic tangent; the backward g * (1 - y * y) in one pass (numpy takes three)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return kernels.elementwise.tanh_backward(g, y)


class Hardtanh(Function):
    """x clipped to [low, high]. Its own rule: the gradient is 0 at the bounds as well as
    outside them (PyTorch's hardtanh and relu6), where clamp's passes at the bounds."""

    @staticmethod
    def forward(ctx, x, low=-1.0, high=1.0):
        ctx.save(x)
        ctx.low, ctx.high = low, high
        # an integer x with float bounds clips in float64; the cast truncates back, as PyTorch
        return np.clip(x, low, high).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * ((x > ctx.low) & (x < ctx.high))


# 1 / (1 + e^-x) on an array, without overflow for large |x| (softplus's gradient too)
stable_sigmoid = kernels.elementwise.sigmoid_forward


def relu(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """max(x, 0) elementwise; integer tensors keep their dtype. Bool raises TypeError."""
    _no_bool("relu", input)
    return ReLU.apply(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002
    """x for x > 0, negative_slope * x otherwise; float tensors only."""
    return LeakyReLU.apply(_args.require_float("leaky_relu", input), slope=negative_slope)


def sigmoid(input):  # noqa: A002 - PyTorch's name
    """1 / (1 + e^-x) elementwise; an integer tensor gives float32."""
    return Sigmoid.apply(_args.to_float(input))


def tanh(input):  # noqa: A002 - PyTorch's name
    """tanh(x) elementwise; an integer tensor gives float32."""
    return Tanh.apply(_args.to_float(input))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):  # noqa: A002
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, else 0.

    Integer tensors keep their dtype (float bounds truncate, as PyTorch's). Raises ValueError
    if min_val > max_val, TypeError for a bool tensor.
    """
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    _no_bool("hardtanh", input)
    return Hardtanh.apply(input, low=min_val, high=max_val)


def relu6(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """min(max(x, 0), 6): hardtanh(x, 0, 6), so the gradient is 0 at 0 and at 6."""
    return hardtanh(input, 0.0, 6.0)


def threshold(input, threshold: float, value: float, inplace: bool = False):  # noqa: A002
    """x where x > threshold, else `value`; the gradient passes where x > threshold.

    Integer tensors keep their dtype (`value` is converted to it); bool raises TypeError.
    """
    _no_bool("threshold", input)
    return where(input.data > threshold, input, np.asarray(value).astype(input.dtype))


def hardshrink(input, lambd: float = 0.5):  # noqa: A002 - PyTorch's names
    """x where |x| > lambd, else 0 (NaN passes through); float tensors only."""
    x = _args.require_float("hardshrink", input)
    inside = (x.data >= -lambd) & (x.data <= lambd)
    return where(~inside, x, 0)


def softshrink(input, lambd: float = 0.5):  # noqa: A002 - PyTorch's names
    """x - lambd above lambd, x + lambd below -lambd, 0 between: x - clamp(x, -lambd, lambd).

    Float tensors only; raises ValueError for a negative lambd.
    """
    x = _args.require_float("softshrink", input)
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return sub(x, clamp(x, -lambd, lambd))


def hardsigmoid(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between; float tensors only."""
    x = _args.require_float("hardsigmoid", input)
    return div(relu6(add(x, 3.0)), 6.0)


def hardswish(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """x * hardsigmoid(x); float tensors only."""
    x = _args.require_float("hardswish", input)
    return mul(x, hardsigmoid(x))


def prelu(input, weight):  # noqa: A002 - PyTorch's names
    """x for x > 0, weight * x otherwise, with one learned slope per channel (dim 1).

    Parameters
    ----------
    input : Tensor `(N, C, *)`, or any shape with a single slope; float.
    weight : Tensor `(C,)` or `(1,)` (or 0-d), of input's dtype.

    Raises
    ------
    ShapeError : weight of more than one dim, or with neither 1 nor C elements.
    TypeError : a non-float input, or weight of another dtype.
    """
    x = _args.require_float("prelu", input)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ShapeError(
            f"prelu: weight must be 0-d or 1-d with 1 or {channels} (channel) elements, got "
            f"shape {weight.shape} for input of shape {x.shape}"
        )
    if weight.dtype != x.dtype:
        raise TypeError(f"prelu: weight is {weight.dtype} but input is {x.dtype}")
    slope_shape = () if weight.numel() == 1 else (channels,) + (1,) * (x.ndim - 2)
    return where(x.data > 0, x, mul(x, reshape(weight, slope_shape)))


def _no_bool(op, x):
    if not _args.is_tensor(x):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind == "b":
        raise TypeError(f"{op}: bool tensors are not supported (shape {x.shape})")
