"""Pooling as graph ops: max and average over 2-D windows (numba kernels), and adaptive average."""

import math

from autodiff import kernels
from autodiff.function import Function
from autodiff.ops.reduce import mean
from autodiff.ops.shape import cat

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


class MaxPool2d(Function):
    """Max over each window; backward routes each gradient to the window's argmax."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        y, argmax = kernels.max_pool2d_forward(x, kernel_size, stride, padding)
        ctx.save(argmax)
        ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        (argmax,) = ctx.saved
        return kernels.max_pool2d_backward(g, argmax, ctx.shape)


class AvgPool2d(Function):
    """Mean over each window, padded zeros counted (PyTorch's count_include_pad=True)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        ctx.shape, ctx.window = x.shape, (kernel_size, stride, padding)
        return kernels.avg_pool2d_forward(x, kernel_size, stride, padding)

    @staticmethod
    def backward(ctx, g):
        return kernels.avg_pool2d_backward(g, ctx.shape, *ctx.window)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling of an NCHW tensor; stride defaults to kernel_size, padding <= kernel / 2.

    Returns a tensor of shape (N, C, (H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1).
    """
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of an NCHW tensor; shapes as `max_pool2d`."""
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (oh, ow) output, as PyTorch's: window i along an axis of
    length n covers [floor(i n / o), ceil((i + 1) n / o)). output_size 1 is global average
    pooling; when o divides n this is avg_pool2d with kernel = stride = n / o."""
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: input must be (N, C, H, W), got {x.shape}")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = x.shape[2:]
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size {output_size} must be positive")
    if (oh, ow) == (1, 1):
        return mean(x, (2, 3), keepdim=True)
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    rows = [
        cat(
            [
                mean(x[:, :, _span(i, h, oh), _span(j, w, ow)], (2, 3), keepdim=True)
                for j in range(ow)
            ],
            dim=3,
        )
        for i in range(oh)
    ]
    return cat(rows, dim=2)


def _span(i, n, o):
    return slice(i * n // o, math.ceil((i + 1) * n / o))
