"""Pooling as graph ops, as `torch.nn.functional`: max, average and adaptive pooling over 1-D and
2-D windows (numba kernels), and max unpooling.

The 2-D functions take `(N, C, H, W)` or unbatched `(C, H, W)` input, the 1-D ones `(N, C, L)` or
`(C, L)`; a 1-D pool is the 2-D one on an `(N, C, 1, L)` view. Window geometry (`ceil_mode`,
padding, dilation, adaptive bins, divisors) is PyTorch's; see autodiff/kernels/pool.py.
Integer inputs raise TypeError (PyTorch max-pools them; here pooling is float only).
"""

import numpy as np

from autodiff import dtypes
from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels import pool as kernels
from autodiff.kernels._checks import pair
from autodiff.ops._spatial import batched, single, unbatch
from autodiff.ops.shape import squeeze, unsqueeze

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
]


class MaxPool2d(Function):
    """Max over each window; backward routes each gradient to the window's argmax. Its own rule:
    one kernel pass keeps the argmax, which composing from indexing ops could not."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        y, argmax = kernels.max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save(argmax)
        ctx.shape = x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        (argmax,) = ctx.saved
        return kernels.max_pool2d_backward(g, argmax, ctx.shape)


class AdaptiveMaxPool2d(MaxPool2d):
    """Max over PyTorch's adaptive bins; backward is MaxPool2d's (route to the argmax)."""

    @staticmethod
    def forward(ctx, x, output_size):
        y, argmax = kernels.adaptive_max_pool2d_forward(x, output_size)
        ctx.save(argmax)
        ctx.shape = x.shape
        return y


class AvgPool2d(Function):
    """Mean over each window (divisor by `count_include_pad`/`divisor_override`); its own rule:
    one pass over the windows instead of kh * kw shifted slices."""

    @staticmethod
    def forward(
        ctx,
        x,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        window = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ctx.shape, ctx.window = x.shape, window
        return kernels.avg_pool2d_forward(x, *window)

    @staticmethod
    def backward(ctx, g):
        return kernels.avg_pool2d_backward(g, ctx.shape, *ctx.window)


class AdaptiveAvgPool2d(Function):
    """Mean over PyTorch's adaptive bins: one kernel pass (bins of unequal sizes are not one
    avg_pool2d, and slicing each bin costs a graph node per output cell)."""

    @staticmethod
    def forward(ctx, x, output_size):
        ctx.shape = x.shape
        return kernels.adaptive_avg_pool2d_forward(x, output_size)

    @staticmethod
    def backward(ctx, g):
        return kernels.adaptive_avg_pool2d_backward(g, ctx.shape)


class MaxUnpool2d(Function):
    """Scatter each value to its flat per-plane index in a zero `(N, C, oh, ow)` output (the
    inverse of max_pool2d with return_indices); backward gathers the gradient back."""

    @staticmethod
    def forward(ctx, x, indices, output_hw):
        n, c = x.shape[:2]
        size = output_hw[0] * output_hw[1]
        flat = indices.reshape(n, c, -1)
        if flat.size and (flat.min() < 0 or flat.max() >= size):
            bad = flat.max() if flat.max() >= size else flat.min()
            raise ShapeError(
                f"max_unpool2d: found an invalid max index {bad} (output planes are "
                f"{output_hw[0]}x{output_hw[1]}; input {x.shape})"
            )
        y = np.zeros((n, c, size), x.dtype)
        np.put_along_axis(y, flat, x.reshape(n, c, -1), axis=2)
        ctx.save(indices)
        return y.reshape(n, c, *output_hw)

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved
        n, c = g.shape[:2]
        flat = indices.reshape(n, c, -1)
        return np.take_along_axis(g.reshape(n, c, -1), flat, axis=2).reshape(indices.shape), None


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Max pooling of an `(N, C, H, W)` or `(C, H, W)` float tensor.

    Parameters
    ----------
    kernel_size, dilation : int or (int, int)
    stride : int or (int, int), optional
        Defaults to kernel_size.
    padding : int or (int, int)
        Implicit -inf on both sides, at most half the kernel.
    ceil_mode : bool
        Round the output size up: a last, partial window (never one starting in the padding).
    return_indices : bool
        Also return the flat index `h * W + w` of each maximum within its plane (int64), as
        max_unpool2d takes them.

    Returns
    -------
    Tensor `(N, C, oh, ow)` with oh = (H + 2 ph - dh (kh - 1) - 1) // sh + 1 (rounded up with
    ceil_mode), and the indices when asked.

    Raises
    ------
    ValueError (ShapeError) for a bad rank or geometry, TypeError for an integer input.
    """
    x, unbatched = batched("max_pool2d", input, 2)
    window = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    y = MaxPool2d.apply(x, **window, ceil_mode=ceil_mode)
    if not return_indices:
        return unbatch(y, unbatched)
    # A Function has one output: the indices come from a second pass of the same kernel.
    _, argmax = kernels.max_pool2d_forward(x.data, **window, ceil_mode=ceil_mode)
    return unbatch(y, unbatched), unbatch(_index_tensor(argmax), unbatched)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Average pooling of an `(N, C, H, W)` or `(C, H, W)` float tensor; shapes as `max_pool2d`.

    Each window's sum is divided by its extent within the zero-padded input
    (`count_include_pad=True`), by its number of real elements (False), or by
    `divisor_override` (a non-zero int).
    """
    x, unbatched = batched("avg_pool2d", input, 2)
    window = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    divisor = dict(count_include_pad=count_include_pad, divisor_override=divisor_override)
    return unbatch(AvgPool2d.apply(x, **window, **divisor), unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive bins: cell i of an axis of length n covers
    [floor(i n / o), ceil((i + 1) n / o)). `output_size` is an int or a pair (None keeps that
    input size); returns `(N, C, oh, ow)` (and the int64 indices when asked)."""
    x, unbatched = batched("adaptive_max_pool2d", input, 2)
    size = _output_size(output_size, x.shape[2:])
    y = AdaptiveMaxPool2d.apply(x, output_size=size)
    if not return_indices:
        return unbatch(y, unbatched)
    _, argmax = kernels.adaptive_max_pool2d_forward(x.data, size)
    return unbatch(y, unbatched), unbatch(_index_tensor(argmax), unbatched)


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive bins (as `adaptive_max_pool2d`); output_size 1 is global
    average pooling."""
    x, unbatched = batched("adaptive_avg_pool2d", input, 2)
    size = _output_size(output_size, x.shape[2:])
    return unbatch(AdaptiveAvgPool2d.apply(x, output_size=size), unbatched)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of `max_pool2d`: each value of `input` `(N, C, h, w)` (or `(C, h, w)`)
    goes to its flat index `indices` (int64, as `max_pool2d(..., return_indices=True)` gives)
    in a zero output of `(N, C, oh, ow)`, oh = (h - 1) sh - 2 ph + kh by default.

    `output_size` ((oh, ow) or the full shape) picks another size strictly within a stride of
    the default. Raises ValueError for an index outside the output planes or shapes that differ.
    """
    x, unbatched = batched("max_unpool2d", input, 2)
    idx = indices if indices.ndim == x.ndim else unsqueeze(indices, 0)
    if idx.dtype != dtypes.int64:
        raise TypeError(f"max_unpool2d: indices must be int64, got {indices.dtype}")
    if idx.shape != x.shape:
        raise ShapeError(
            f"max_unpool2d: indices {tuple(indices.shape)} must have the shape of the input "
            f"{tuple(input.shape)}"
        )
    size = _unpool_size("max_unpool2d", x.shape, kernel_size, stride, padding, output_size)
    return unbatch(MaxUnpool2d.apply(x, idx, output_hw=size), unbatched)


# ---- 1-D forms: the 2-D op on an (N, C, 1, L) view -------------------------------------------


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Max pooling of an `(N, C, L)` or `(C, L)` tensor; arguments as `max_pool2d`, one int
    each. Indices are positions along L."""
    x, unbatched = batched("max_pool1d", input, 1)
    window = _as_2d("max_pool1d", kernel_size=kernel_size, stride=stride, padding=padding)
    dilation = (1, single("max_pool1d", "dilation", dilation))
    out = max_pool2d(
        unsqueeze(x, 2),
        **window,
        dilation=dilation,
        ceil_mode=ceil_mode,
        return_indices=return_indices,
    )
    if not return_indices:
        return unbatch(squeeze(out, 2), unbatched)
    return tuple(unbatch(squeeze(t, 2), unbatched) for t in out)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of an `(N, C, L)` or `(C, L)` tensor; arguments as `avg_pool2d`."""
    x, unbatched = batched("avg_pool1d", input, 1)
    window = _as_2d("avg_pool1d", kernel_size=kernel_size, stride=stride, padding=padding)
    y = avg_pool2d(
        unsqueeze(x, 2), **window, ceil_mode=ceil_mode, count_include_pad=count_include_pad
    )
    return unbatch(squeeze(y, 2), unbatched)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """`adaptive_max_pool2d` along L of an `(N, C, L)` or `(C, L)` tensor."""
    x, unbatched = batched("adaptive_max_pool1d", input, 1)
    size = (1, single("adaptive_max_pool1d", "output_size", output_size, minimum=0))
    out = adaptive_max_pool2d(unsqueeze(x, 2), size, return_indices)
    if not return_indices:
        return unbatch(squeeze(out, 2), unbatched)
    return tuple(unbatch(squeeze(t, 2), unbatched) for t in out)


def adaptive_avg_pool1d(input, output_size):
    """`adaptive_avg_pool2d` along L of an `(N, C, L)` or `(C, L)` tensor."""
    x, unbatched = batched("adaptive_avg_pool1d", input, 1)
    size = (1, single("adaptive_avg_pool1d", "output_size", output_size, minimum=0))
    return unbatch(squeeze(adaptive_avg_pool2d(unsqueeze(x, 2), size), 2), unbatched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """`max_unpool2d` along L of an `(N, C, l)` or `(C, l)` tensor."""
    x, unbatched = batched("max_unpool1d", input, 1)
    idx = indices if indices.ndim == x.ndim else unsqueeze(indices, 0)
    window = _as_2d("max_unpool1d", kernel_size=kernel_size, stride=stride, padding=padding)
    if output_size is not None:
        output_size = (1, single("max_unpool1d", "output_size", tuple(output_size)[-1:], 1))
    y = max_unpool2d(unsqueeze(x, 2), unsqueeze(idx, 2), **window, output_size=output_size)
    return unbatch(squeeze(y, 2), unbatched)


# ---- helpers -----------------------------------------------------------------------------------


def _index_tensor(argmax):
    """The kernel's int32 argmax as PyTorch's int64 index tensor (no gradient)."""
    return Tensor._wrap(argmax.astype(dtypes.int64))


def _as_2d(op, kernel_size, stride, padding):
    """1-D window arguments as the 2-D ones of a (1, L) plane."""
    return {
        "kernel_size": (1, single(op, "kernel_size", kernel_size)),
        "stride": None if stride is None else (1, single(op, "stride", stride)),
        "padding": (0, single(op, "padding", padding, minimum=0)),
    }


def _output_size(output_size, hw):
    """An adaptive pool's output size as a pair; None entries keep the input's size."""
    size = (output_size,) * 2 if isinstance(output_size, int | np.integer) else tuple(output_size)
    if len(size) != 2:
        return output_size  # the kernel names the op and the bad value
    return tuple(n if o is None else o for o, n in zip(size, hw, strict=True))


def _unpool_size(op, shape, kernel_size, stride, padding, output_size):
    """max_unpool's (oh, ow): PyTorch's default, or `output_size` checked against it."""
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = pair(op, "stride", kernel if stride is None else stride, 1)
    pads = pair(op, "padding", padding, 0)
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(shape[2:], kernel, stride, pads))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-2:] if len(output_size) == 4 else tuple(output_size)
        if len(size) != 2:
            raise ValueError(f"{op}: output_size {output_size!r} must be (oh, ow) or 4 ints")
        for d, (o, n, s) in enumerate(zip(size, default, stride, strict=True)):
            if not n - s < o < n + s:
                raise ValueError(
                    f"{op}: invalid output_size {tuple(output_size)} (dim {d} must be between "
                    f"{n - s} and {n + s}, exclusive; input {tuple(shape)})"
                )
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size} is not positive (input {tuple(shape)})")
    return tuple(int(v) for v in size)


from autodiff.tensor import Tensor  # noqa: E402 - tensor.py imports the ops
