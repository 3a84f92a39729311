"""Convolution layers as PyTorch's: `Conv1d`, `Conv2d` (cross-correlation) and the transposed
`ConvTranspose1d`, `ConvTranspose2d`, over `(N, C, *spatial)` or unbatched `(C, *spatial)` input."""

from autodiff import dtypes
from autodiff.creation import empty
from autodiff.device import check as check_device
from nn import functional as F
from nn.linear import reset_weight_and_bias
from nn.module import Module
from nn.parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation and repr.

    The arguments are PyTorch's, in the order of its Conv layers; subclasses set `dims` (1 or
    2) and write `forward`, and `_ConvTransposeNd` takes the transposed layers' order.
    """

    dims = 2
    transposed = False

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
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
        *,
        output_padding=0,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        dtype = dtypes.parameter_dtype(type(self).__name__, dtype)
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = self._tuple("kernel_size", kernel_size)
        self.stride = self._tuple("stride", stride)
        self.dilation = self._tuple("dilation", dilation)
        self.output_padding = self._tuple("output_padding", output_padding, minimum=0)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str) and not self.transposed:
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
                )
            if padding == "same" and self.stride != (1,) * self.dims:
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(stride {self.stride})"
                )
            if padding_mode != "zeros":
                raise ValueError(f"{name}: padding={padding!r} needs padding_mode='zeros'")
            self.padding = padding
        else:
            self.padding = self._tuple("padding", padding, minimum=0)
        if self.transposed and padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        shape = (
            (in_channels, out_channels // groups)
            if self.transposed
            else (out_channels, in_channels // groups)
        )
        self.weight = Parameter(empty(*shape, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from PyTorch's default distributions (global generator)."""
        reset_weight_and_bias(self.weight, self.bias)

    def _tuple(self, name, value, minimum=1):
        """`value` as a tuple of `dims` ints >= minimum."""
        values = (value,) * self.dims if isinstance(value, int) else tuple(value)
        if len(values) != self.dims or not all(isinstance(v, int) and v >= minimum for v in values):
            kind = "a pair of them" if self.dims == 2 else "a 1-tuple"
            raise ValueError(
                f"{type(self).__name__}: {name} must be an int >= {minimum} or {kind}, "
                f"got {value!r}"
            )
        return values

    def _padded(self, x):
        """x padded by `padding_mode` when that is not zeros (the convolution then pads none)."""
        if self.padding_mode == "zeros":
            return x, self.padding
        widths = tuple(p for p in reversed(self.padding) for _ in range(2))
        return F.pad(x, widths, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"  # PyTorch shows same, not 'same'
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """y[n, o] = bias[o] + sum_c weight[o, c] (*) x[n, c] along L, PyTorch's layer.

    Arguments as `Conv2d`, each an int or a 1-tuple. Weight `(out_channels, in_channels //
    groups, k)`. Shapes: `(N, C_in, L)` -> `(N, C_out, (L + 2 p - d (k - 1) - 1) // s + 1)`.
    """

    dims = 1

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """y[n, o] = bias[o] + sum_c weight[o, c] * x[n, c] (cross-correlation), PyTorch's layer.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out; both divisible by `groups`.
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), "valid" or "same"
        Padding on each side; "valid" is 0, "same" keeps H and W (stride 1 only).
    groups : int
        Split the channels into groups convolved separately (`groups = in_channels` is a
        depthwise convolution).
    bias : bool
        Learn an additive bias per output channel.
    padding_mode : "zeros", "reflect", "replicate" or "circular"
        How the input is padded (F.pad's modes; only "zeros" with a string padding).
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
        string or padding_mode, or "same" with a stride other than 1.
    """

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """The transposed layers' arguments, in PyTorch's order for them (output_padding third)."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding=output_padding,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """The transposed 1-D convolution, PyTorch's layer; arguments as `ConvTranspose2d`, each an
    int or a 1-tuple. Weight `(in_channels, out_channels // groups, k)`. Shapes: `(N, C_in, L)`
    -> `(N, C_out, (L - 1) s - 2 p + d (k - 1) + output_padding + 1)`."""

    dims = 1

    def forward(self, x):
        return F.conv_transpose1d(
            x,
            self.weight,
            self.bias,
            self.stride[0],
            self.padding[0],
            self.output_padding[0],
            self.groups,
            self.dilation[0],
        )


class ConvTranspose2d(_ConvTransposeNd):
    """The transposed 2-D convolution ("deconvolution"), PyTorch's layer: the gradient of a
    Conv2d with respect to its input, so a stride-s layer upsamples by s.

    Parameters as `Conv2d` (padding an int or a pair; padding_mode "zeros" only), plus
    `output_padding` (int or pair, smaller than the stride or the dilation): rows/columns added
    at the bottom/right, to pick among the sizes a strided Conv2d maps to the same input size.

    Attributes
    ----------
    weight : Parameter `(in_channels, out_channels // groups, kh, kw)`, PyTorch's layout and
        initialisation (fan_in = out_channels // groups * kh * kw).
    bias : Parameter `(out_channels,)` or None

    Shapes: `(N, C_in, H, W)` -> `(N, C_out, OH, OW)`, OH = (H - 1) sh - 2 ph + dh (kh - 1) +
    oph + 1.
    """

    def forward(self, x):
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )
