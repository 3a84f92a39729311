"""2-D convolution as a graph op; the loops are the numba im2col kernels in autodiff.kernels."""

from autodiff import kernels
from autodiff.function import Function

__all__ = ["conv2d"]


class Conv2d(Function):
    """Cross-correlation of an NCHW batch with F filters; its own rule because im2col + GEMM
    (and col2im for the input gradient) is far faster than composing it from indexing ops."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, dilation=1, groups=1):
        y, geometry = kernels.conv2d_forward(x, w, b, stride, padding, dilation, groups)
        ctx.save(x, w, geometry)  # backward recomputes cols from x: cheaper than keeping them
        return y

    @staticmethod
    def backward(ctx, g):
        _, _, geometry = ctx.saved
        return kernels.conv2d_backward(g, geometry, *ctx.needs_input_grad)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W), float32 or float64
    w : Tensor, shape (F, C // groups, kh, kw), same dtype
    b : Tensor, shape (F,), optional
    stride, dilation : int or (int, int)
    padding : int, (ph, pw), (top, bottom, left, right), "valid" or "same" (stride 1)
    groups : int
        Divides C and F; groups == C is a depthwise convolution.

    Returns
    -------
    Tensor, shape (N, F, oh, ow) with oh = (H + pt + pb - dh * (kh - 1) - 1) // sh + 1.

    Raises
    ------
    ValueError, TypeError
        Channel mismatch, kernel larger than the padded input, non-positive stride, non-4-D
        input, groups not dividing the channels, mixed dtypes; the message names the shapes.
    """
    return Conv2d.apply(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
