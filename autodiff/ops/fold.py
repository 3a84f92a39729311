"""`unfold` / `fold`, as `torch.nn.functional`: sliding windows to columns and back, through the
im2col / col2im kernels (each op's backward is the other's forward).

PyTorch's layout is `(N, C * kh * kw, L)`, row `(c * kh + i) * kw + j`, column `y * ow + x`, with
`L = oh * ow` windows; the kernels' is `(C * kh * kw, N * L)`: a transpose of the first two axes.
"""

import numpy as np

from autodiff import kernels
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels._checks import pair, window
from autodiff.ops._spatial import batched, unbatch

__all__ = ["fold", "unfold"]


class Unfold(Function):
    """im2col in PyTorch's layout; backward is col2im (overlapping windows add)."""

    @staticmethod
    def forward(ctx, x, kernel_size, dilation=1, padding=0, stride=1):
        ctx.shape, ctx.window = x.shape, (kernel_size, stride, padding, dilation)
        cols = kernels.im2col(x, kernel_size, stride, padding, dilation)
        return _to_torch_layout(cols, x.shape[0])

    @staticmethod
    def backward(ctx, g):
        return kernels.col2im(_to_kernel_layout(g), ctx.shape, *ctx.window)


class Fold(Function):
    """col2im from PyTorch's layout (overlapping windows add); backward is im2col."""

    @staticmethod
    def forward(ctx, cols, x_shape, kernel_size, dilation=1, padding=0, stride=1):
        ctx.window = (kernel_size, stride, padding, dilation)
        return kernels.col2im(_to_kernel_layout(cols), x_shape, *ctx.window)

    @staticmethod
    def backward(ctx, g):
        return _to_torch_layout(kernels.im2col(g, *ctx.window), g.shape[0])


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of an `(N, C, H, W)` (or `(C, H, W)`) float tensor as columns.

    Returns `(N, C * kh * kw, L)` (or `(C * kh * kw, L)`), L = oh * ow the number of windows,
    oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1; kernel_size, dilation, padding (zeros), stride
    are ints or pairs. Raises ValueError for a bad rank or geometry, TypeError for an integer
    input.
    """
    x, unbatched = batched("unfold", input, 2)
    args = {"dilation": dilation, "padding": _pads("unfold", padding), "stride": stride}
    return unbatch(Unfold.apply(x, kernel_size=kernel_size, **args), unbatched)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns `(N, C * kh * kw, L)` (or unbatched) back into an `(N, C, *output_size)`
    image: the adjoint of `unfold` (overlapping windows add; it is unfold's inverse only for
    non-overlapping windows). L must be the number of windows of that geometry over
    `output_size`; raises ValueError naming the sizes otherwise."""
    x, unbatched = batched("fold", input, 1)
    kh, kw = pair("fold", "kernel_size", kernel_size, 1)
    n, ck, length = x.shape
    if ck % (kh * kw):
        raise ShapeError(
            f"fold: input {tuple(input.shape)} has {ck} rows, not divisible by the kernel size "
            f"{kh} * {kw}"
        )
    shape = (n, ck // (kh * kw), *pair("fold", "output_size", output_size, 1))
    pads = _pads("fold", padding)
    g = window("fold", shape, (kh, kw), stride, pads, dilation)
    if g.oh * g.ow != length:
        raise ShapeError(
            f"fold: output_size {shape[2:]} with kernel {(kh, kw)}, dilation {dilation}, "
            f"padding {padding}, stride {stride} has {g.oh} * {g.ow} = {g.oh * g.ow} windows, "
            f"but the input {tuple(input.shape)} has {length} columns"
        )
    args = {"dilation": dilation, "padding": pads, "stride": stride}
    return unbatch(Fold.apply(x, x_shape=shape, kernel_size=(kh, kw), **args), unbatched)


def _pads(op, padding):
    """PyTorch's fold/unfold padding: an int or a pair, the same on both sides."""
    return pair(op, "padding", padding, 0)


def _to_torch_layout(cols, n):
    """`(C K, N L)` kernel columns as PyTorch's C-contiguous `(N, C K, L)`."""
    ck = cols.shape[0]
    return np.ascontiguousarray(cols.reshape(ck, n, -1).transpose(1, 0, 2))


def _to_kernel_layout(cols):
    """PyTorch's `(N, C K, L)` columns as the kernels' C-contiguous `(C K, N L)`."""
    n, ck, length = cols.shape
    return np.ascontiguousarray(cols.transpose(1, 0, 2)).reshape(ck, n * length)
