"""Convolution as graph ops: 2-D and transposed 2-D (the numba kernels in autodiff.kernels), and
their 1-D forms, which run the 2-D ones on an `(N, C, 1, L)` view.

Every function also takes PyTorch's unbatched input (no N dim) and returns an unbatched result.
"""

from autodiff import kernels
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops._spatial import batched, single, unbatch
from autodiff.ops.shape import squeeze, unsqueeze

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


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


class ConvTranspose2d(Function):
    """Transposed convolution, the input gradient of a convolution: forward runs conv2d's
    input-gradient kernels, backward conv2d's forward and weight-gradient kernels (its own rule
    for the reasons Conv2d has one)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        args = (stride, padding, output_padding, groups, dilation)
        y, saved = kernels.conv_transpose2d_forward(x, w, b, *args)
        ctx.save(x, w, saved)
        return y

    @staticmethod
    def backward(ctx, g):
        _, _, saved = ctx.saved
        return kernels.conv_transpose2d_backward(g, saved, *ctx.needs_input_grad)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch).

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
    weight : Tensor, shape (F, C // groups, kh, kw), same dtype
    bias : Tensor, shape (F,), optional
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
        Channel mismatch, kernel larger than the padded input, non-positive stride, an input
        that is not 3-D or 4-D, groups not dividing the channels, mixed dtypes; the message
        names the shapes.
    """
    x, unbatched = batched("conv2d", input, 2)
    args = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    y = Conv2d.apply(x, weight, bias, **args)
    return unbatch(y, unbatched)


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed 2-D convolution ("deconvolution"), PyTorch's `conv_transpose2d`: the gradient
    of `conv2d` with respect to its input.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W), float32 or float64
    weight : Tensor, shape (C_in, C_out // groups, kh, kw), same dtype
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or (int, int)
    padding : int or (int, int)
        Rows/columns cut from each side of the full transposed output.
    output_padding : int or (int, int)
        Extra rows/columns at the bottom/right, smaller than the stride or the dilation.
    groups : int

    Returns
    -------
    Tensor, shape (N, C_out, oh, ow), oh = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1.

    Raises
    ------
    ValueError, TypeError
        As `conv2d`, and for an output_padding too large or an output size below 1.
    """
    x, unbatched = batched("conv_transpose2d", input, 2)
    args = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    y = ConvTranspose2d.apply(x, weight, bias, **args, groups=groups)
    return unbatch(y, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of an `(N, C, L)` or `(C, L)` tensor with a weight `(F, C // groups, k)`;
    `conv2d` on `(N, C, 1, L)`. stride, padding (an int, "valid" or "same"), dilation: ints or
    1-tuples. Returns `(N, F, (L + 2 p - d (k - 1) - 1) // s + 1)`."""
    x, unbatched = batched("conv1d", input, 1)
    w = _weight_1d("conv1d", weight)
    pad = padding if isinstance(padding, str) else (0, single("conv1d", "padding", padding, 0))
    stride = (1, single("conv1d", "stride", stride))
    dilation = (1, single("conv1d", "dilation", dilation))
    y = conv2d(unsqueeze(x, 2), unsqueeze(w, 2), bias, stride, pad, dilation, groups)
    y = squeeze(y, 2)
    return unbatch(y, unbatched)


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed 1-D convolution of an `(N, C_in, L)` or `(C_in, L)` tensor with a weight
    `(C_in, C_out // groups, k)`; `conv_transpose2d` on `(N, C_in, 1, L)`. Returns
    `(N, C_out, (L - 1) s - 2 p + d (k - 1) + output_padding + 1)`."""
    op = "conv_transpose1d"
    x, unbatched = batched(op, input, 1)
    w = _weight_1d(op, weight)
    y = conv_transpose2d(
        unsqueeze(x, 2),
        unsqueeze(w, 2),
        bias,
        (1, single(op, "stride", stride)),
        (0, single(op, "padding", padding, 0)),
        (0, single(op, "output_padding", output_padding, 0)),
        groups,
        (1, single(op, "dilation", dilation)),
    )
    y = squeeze(y, 2)
    return unbatch(y, unbatched)


def _weight_1d(op, w):
    if w.ndim != 3:
        raise ShapeError(f"{op}: weight must be 3-D (out, in, k), got shape {tuple(w.shape)}")
    return w
