"""Pooling layers over `(N, C, H, W)` input: max, average and adaptive (global) average."""

from nn import functional as F
from nn.module import Module


class _Pool2d(Module):
    """Window options shared by the pooling layers.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None
        None: the kernel size (non-overlapping windows).
    padding : int or (int, int)

    Shapes: `(N, C, H, W)` -> `(N, C, (H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)`.
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each kh x kw window (padding counts as -inf); options as `_Pool2d`."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each kh x kw window; options as `_Pool2d`."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's H and W.

    `output_size` is an int or an (oh, ow) pair; 1 is global average pooling, (N, C, 1, 1).
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
