"""Pooling layers as PyTorch's: max, average, adaptive and unpooling, 1-D and 2-D, over
`(N, C, *spatial)` or unbatched `(C, *spatial)` input. Each calls its `nn.functional` form."""

from nn import functional as F
from nn.module import Module


class _MaxPoolNd(Module):
    """Max pooling options.

    Parameters
    ----------
    kernel_size, dilation : int or tuple
    stride : int, tuple or None
        None: the kernel size (non-overlapping windows).
    padding : int or tuple
        Implicit -inf on each side, at most half the kernel.
    return_indices : bool
        Also return each maximum's flat index in its plane (for MaxUnpool).
    ceil_mode : bool
        Round the output size up: a last, partial window.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices=False,
        ceil_mode=False,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def _args(self):
        return (
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window along L; options as `MaxPool2d`, ints or 1-tuples."""

    def forward(self, x):
        return F.max_pool1d(x, *self._args())


class MaxPool2d(_MaxPoolNd):
    """The maximum of each kh x kw window; options in `_MaxPoolNd`.

    Shapes: `(N, C, H, W)` -> `(N, C, (H + 2 ph - dh (kh - 1) - 1) // sh + 1, ...)`, rounded up
    with ceil_mode.
    """

    def forward(self, x):
        return F.max_pool2d(x, *self._args())


class _AvgPoolNd(Module):
    """Average pooling options: kernel_size, stride (None: the kernel size), padding (zeros,
    at most half the kernel), ceil_mode, count_include_pad (padded zeros count in the
    divisor) and, in 2-D, divisor_override (divide every sum by this instead)."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """The mean of each window along L; options as `_AvgPoolNd` (no divisor_override)."""

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        # 1-tuples, as PyTorch keeps (and shows) them
        one = [
            None if v is None else (v,) if isinstance(v, int) else tuple(v)
            for v in (kernel_size, stride, padding)
        ]
        super().__init__(*one, ceil_mode, count_include_pad)

    def forward(self, x):
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class AvgPool2d(_AvgPoolNd):
    """The mean of each kh x kw window; options as `_AvgPoolNd`, shapes as `MaxPool2d`."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptivePoolNd(Module):
    """Pooling to a fixed output size, whatever the input's: `output_size` is an int or a
    tuple (None keeps that input size); cell i of an axis of length n covers
    [floor(i n / o), ceil((i + 1) n / o))."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Adaptive average pooling along L."""

    def forward(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Adaptive average pooling; output_size 1 is global average pooling, (N, C, 1, 1)."""

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    """Adaptive max pooling; `return_indices` also returns each maximum's flat index."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling along L."""

    def forward(self, x):
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling over H and W."""

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """The partial inverse of max pooling: `forward(x, indices, output_size=None)` puts each
    value at its index in a zero output. kernel_size, stride (None: the kernel) and padding
    are those of the max pool."""

    dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = self._tuple(kernel_size)
        self.stride = self.kernel_size if stride is None else self._tuple(stride)
        self.padding = self._tuple(padding)

    def _tuple(self, v):
        return (v,) * self.dims if isinstance(v, int) else tuple(v)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """`max_pool1d`'s partial inverse along L."""

    dims = 1

    def forward(self, x, indices, output_size=None):
        return F.max_unpool1d(x, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """`max_pool2d`'s partial inverse: `(N, C, h, w)` -> `(N, C, (h - 1) sh - 2 ph + kh, ...)`."""

    def forward(self, x, indices, output_size=None):
        return F.max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)
