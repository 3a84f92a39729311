"""Numba kernels on plain arrays: im2col/col2im, convolution, pooling, batch norm, one-pass
elementwise formulas (ReLU, tanh and sigmoid gradients, ...), in-place updates; and matrix
products through numpy's BLAS with their thread count (``blas``).

Nothing here knows about ``Tensor``; the graph ops in ``autodiff.ops`` call these functions.
Flags for every ``@njit`` and the im2col memory budget live in ``_config``.
"""

from .axpby import axpby
from .batchnorm import batch_norm_backward, batch_norm_forward, batch_norm_stats
from .conv import (
    ConvSaved,
    ConvTransposeSaved,
    conv2d_backward,
    conv2d_forward,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from .elementwise import relu_backward, relu_forward
from .im2col import batch_chunk, col2im, conv_output_size, im2col
from .pool import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    adaptive_max_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "ConvSaved",
    "ConvTransposeSaved",
    "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool2d_forward",
    "adaptive_max_pool2d_forward",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "axpby",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_stats",
    "batch_chunk",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_transpose2d_backward",
    "conv_transpose2d_forward",
    "conv_output_size",
    "im2col",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "relu_backward",
    "relu_forward",
]
