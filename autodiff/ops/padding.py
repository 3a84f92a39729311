"""`pad`, as `torch.nn.functional.pad`: constant, reflect, replicate and circular padding.

A non-constant mode is a gather along each padded dim: output position `o` of a dim of size `n`
padded by `(before, after)` reads the source position `j = o - before`, mapped into range:

    reflect     j < 0: -j;   j >= n: 2 (n - 1) - j          (the edge is not repeated)
    replicate   clip(j, 0, n - 1)
    circular    lo + (j - lo) mod (hi - lo), [lo, hi) the dim after negative padding crops it

so each mode is composed from indexing, whose backward adds the gradients of repeated positions;
the constant mode is an op of its own (`Pad`).
Negative padding crops, in every mode, as in PyTorch.
"""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import shape

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Function):
    """x with `widths` ((before, after) per dim) of constant `value` around it."""

    @staticmethod
    def forward(ctx, x, widths, value=0):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.inner]


def pad(input, pad, mode="constant", value=None):
    """`input` padded on its last `len(pad) // 2` dims.

    Parameters
    ----------
    input : Tensor
    pad : sequence of ints, even length
        `(last_before, last_after, second_last_before, ...)`, PyTorch's order; negative values
        crop.
    mode : "constant", "reflect", "replicate" or "circular"
        The non-constant modes pad 1, 2 or 3 trailing dims of an input with one or two more
        dims than that (`(C, W)` or `(N, C, W)` for 1 dim, ...). reflect needs each padding
        smaller than its dim; circular at most the (cropped) dim.
    value : float, optional
        The fill of the constant mode (default 0); the other modes refuse one.

    Returns
    -------
    Tensor of input's dtype; each padded dim grows by before + after.

    Raises
    ------
    ValueError (ShapeError)
        An odd-length or too long pad, padding too large for its dim, an unknown mode, a value
        with a non-constant mode, or a rank the mode does not support.
    """
    widths = _widths(input, pad)
    if mode == "constant":
        x = shape.getitem(input, _crop(input, widths)) if _crops(widths) else input
        full = [(0, 0)] * (x.ndim - len(widths)) + [(max(b, 0), max(a, 0)) for b, a in widths[::-1]]
        return Pad.apply(x, widths=tuple(full), value=0 if value is None else value)
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {_MODES}, got {mode!r}")
    if value is not None:
        raise ValueError(f'pad: padding mode "{mode}" does not take a value (got {value!r})')
    k = len(widths)
    if not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2):
        raise ShapeError(
            f"pad: {mode} padding of {k} dims needs a {k + 1}-D or {k + 2}-D input (at most 3 "
            f"dims padded), got pad {tuple(pad)} for shape {tuple(input.shape)}"
        )
    x = input
    for i, (before, after) in enumerate(widths):
        d = input.ndim - 1 - i
        index = _source_index(mode, input.shape[d], before, after, d, tuple(input.shape), pad)
        x = shape.getitem(x, (slice(None),) * d + (index,))
    return x


def _widths(x, pad):
    """PyTorch's flat pad as `(before, after)` pairs, last dim first."""
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(
            f"pad: {pad} must have an even length of at most 2 * ndim for a tensor of shape "
            f"{tuple(x.shape)}"
        )
    if not all(isinstance(p, int | np.integer) for p in pad):
        raise TypeError(f"pad: pad must be ints, got {pad}")
    widths = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    for i, (before, after) in enumerate(widths):
        if x.shape[x.ndim - 1 - i] + before + after < 0:
            raise ShapeError(
                f"pad: padding {(before, after)} leaves a negative size for dim {x.ndim - 1 - i} "
                f"of shape {tuple(x.shape)}"
            )
    return widths


def _crops(widths):
    return any(b < 0 for lo_hi in widths for b in lo_hi)


def _crop(x, widths):
    """The basic index that applies the negative paddings."""
    index = [slice(None)] * x.ndim
    for i, (before, after) in enumerate(widths):
        n = x.shape[x.ndim - 1 - i]
        index[x.ndim - 1 - i] = slice(max(-before, 0), n - max(-after, 0))
    return tuple(index)


def _source_index(mode, n, before, after, d, x_shape, pad):
    """The int64 positions of dim `d` (size n) that the padded dim reads (module docstring)."""
    j = np.arange(-before, n + after)
    too_big = {
        "reflect": max(before, after) >= n,
        "replicate": n == 0,
        "circular": max(before, after) > n - max(-before, 0) - max(-after, 0),
    }[mode]
    if too_big:
        limit = "smaller than" if mode == "reflect" else "at most"
        raise ShapeError(
            f"pad: {mode} padding {(before, after)} of dim {d} must be {limit} its size {n} "
            f"(pad {tuple(pad)}, input {x_shape})"
        )
    if mode == "reflect":
        return np.where(j < 0, -j, np.where(j >= n, 2 * (n - 1) - j, j))
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    lo, hi = max(-before, 0), n - max(-after, 0)
    return lo + (j - lo) % (hi - lo)
