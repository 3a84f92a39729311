"""`Conv2d`: 2-D convolution (cross-correlation, as in PyTorch) over `(N, C, H, W)` input."""

import numpy as np

from autodiff import dtypes
from nn import functional as F
from nn.linear import reset_weight_and_bias
from nn.module import Module
from nn.parameter import Parameter


class Conv2d(Module):
    """y[n, o] = bias[o] + sum_c weight[o, c] * x[n, c] (cross-correlation), PyTorch's layer.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out; both divisible by `groups`.
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), "valid" or "same"
        Zero padding on each side; "valid" is 0, "same" keeps H and W (stride 1 only).
    groups : int
        Split the channels into groups convolved separately (`groups = in_channels` is a
        depthwise convolution).
    bias : bool
        Learn an additive bias per output channel.
    dtype : float32 or float64
        Of the parameters.

    Attributes
    ----------
    weight : Parameter `(out_channels, in_channels // groups, kh, kw)`
        kaiming_uniform_(a=sqrt(5)) as in PyTorch (fan_in = in_channels // groups * kh * kw).
    bias : Parameter `(out_channels,)` or None
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Shapes: input `(N, C_in, H, W)`, output `(N, C_out, OH, OW)` with
    OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1.

    Raises
    ------
    ValueError : channels not divisible by groups, a non-positive size, an unknown padding
        string, or "same" with a stride other than 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        dtype=dtypes.float32,
    ):
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"be divisible by groups ({groups})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride = _pair("stride", stride)
        self.dilation = _pair("dilation", dilation)
        self.groups = groups
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(
                    f"Conv2d: padding='same' is not supported for strided convolutions "
                    f"(stride {self.stride})"
                )
            self.padding = padding
        else:
            self.padding = _pair("padding", padding, minimum=0)
        kh, kw = self.kernel_size
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, kh, kw), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from PyTorch's default distributions (global generator)."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


def _pair(name, value, minimum=1):
    """`value` as an (h, w) pair of ints >= minimum."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= minimum for v in pair):
        raise ValueError(
            f"Conv2d: {name} must be an int >= {minimum} or a pair of them, got {value!r}"
        )
    return pair
