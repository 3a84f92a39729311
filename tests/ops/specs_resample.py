"""Op-table entries for padding modes, interpolation and fold/unfold (see tests/ops/specs.py).

The padding references are numpy's np.pad ("reflect", "edge", "wrap") on the positive part of
the padding, cropped by the negative part (circular crops first, as PyTorch does). unfold's
reference is numpy's sliding windows, fold's a loop adding each column at its window. The
interpolation reference follows the index formulas of PyTorch's kernels (nearest in float32,
as PyTorch computes it: a float64 floor could pick another pixel); torch checks it independently.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autodiff.ops.fold import Fold, Unfold, fold, unfold
from autodiff.ops.padding import pad
from autodiff.ops.resample import interpolate
from tests.ops.harness import OpSpec, sample, torch

_NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _ref_pad(x, pad, mode="constant", value=None):
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))
    kw = {"constant_values": value or 0} if mode == "constant" else {}
    if mode == "circular":
        return np.pad(x[crop], grow, "wrap")
    y = np.pad(x, grow, _NP_MODES[mode], **kw)
    grown = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, y.shape))
    return y[grown]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _ref_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    win = sliding_window_view(xp, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    n, c, oh, ow = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def _ref_fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    (h, w), n = _pair(output_size), cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    blocks = cols.reshape(n, c, kh, kw, -1)
    for k in range(blocks.shape[-1]):
        top, left = k // ow * sh, k % ow * sw
        for i in range(kh):
            for j in range(kw):
                y[:, :, top + i * dh, left + j * dw] += blocks[:, :, i, j, k]
    return y[:, :, ph : ph + h, pw : pw + w]


def _ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    spatial = x.ndim - 2
    factors = (scale_factor,) * spatial if np.isscalar(scale_factor) else scale_factor
    sizes = (size,) * spatial if isinstance(size, int) else size
    if size is None:
        sizes = [math.floor(n * f) for n, f in zip(x.shape[2:], factors)]
    for d in reversed(range(spatial)):
        n, out, axis = x.shape[2 + d], sizes[d], 2 + d
        f = None if factors is None else factors[d]
        dst = np.arange(out)
        if mode == "nearest":
            scale = np.float32(1 / f) if f else np.float32(n) / np.float32(out)
            src = np.minimum(np.floor(dst.astype(np.float32) * scale).astype(int), n - 1)
            x = np.take(x, src, axis=axis)
            continue
        if align_corners:
            src = dst * ((n - 1) / (out - 1) if out > 1 else 0.0)
        else:
            src = np.maximum(((1 / f) if f else n / out) * (dst + 0.5) - 0.5, 0)
        lo = np.floor(src).astype(int)
        t = (src - lo).reshape((out,) + (1,) * (x.ndim - 1 - axis))
        x = np.take(x, lo, axis=axis) * (1 - t) + np.take(x, np.minimum(lo + 1, n - 1), axis) * t
    return x


_ONE = {"scalar": "pads a dim", "broadcast": "one tensor input"}
_NCHW = {"scalar": "needs (N, C, *spatial) input", "broadcast": "one tensor input"}

SPECS = (
    [
        OpSpec(
            name=f"pad_{mode}",
            fn=lambda x, mode=mode, **kw: pad(x, mode=mode, **kw),
            ref=lambda x, mode=mode, **kw: _ref_pad(x, mode=mode, **kw),
            torch_fn=lambda x, mode=mode, **kw: torch.nn.functional.pad(x, mode=mode, **kw),
            covers=(),  # composed: indexing (and the constant Pad)
            samples=(
                sample((2, 5), pad=(2, 1)),
                sample((1, 3, 4), t=(0,), pad=(1, 3)),
                sample((2, 3, 4, 5), pad=(1, 2, 3, 0)),
                sample((2, 3, 4, 5), pad=(-1, 2, 2, -2)),
                sample((1, 2, 3, 4, 3), pad=(1, 1, 2, 0, 0, 2)),
            ),
            exempt=_ONE,
        )
        for mode in ("reflect", "replicate", "circular")
    ]
    + [
        OpSpec(
            name="pad_constant",
            fn=pad,
            ref=_ref_pad,
            torch_fn=lambda x, **kw: torch.nn.functional.pad(x, **kw),
            covers=(),  # composed: basic indexing for negative padding, the constant Pad
            samples=(
                sample((3,), pad=(2, 1), value=1.5),
                sample((1, 3, 4), t=(0,), pad=(1, 3, 0, 2)),
                sample((2, 3, 4, 5), pad=(-1, 2, 2, -3)),
                sample((2, 3, 4), pad=(1, 1, 1, 1, 1, 1), mode="constant"),
            ),
            exempt=_ONE,
        ),
    ]
    + [
        OpSpec(
            name="F.unfold",
            fn=unfold,
            ref=_ref_unfold,
            torch_fn=lambda x, **kw: torch.nn.functional.unfold(x, **kw),
            covers=(Unfold,),
            samples=(
                sample((2, 3, 5, 6), kernel_size=2),
                sample(
                    (1, 2, 7, 6), t=(0,), kernel_size=(3, 2), dilation=(2, 1), padding=1, stride=2
                ),
            ),
            exempt=_NCHW,
        ),
        OpSpec(
            name="F.fold",
            fn=fold,
            ref=_ref_fold,
            torch_fn=lambda x, **kw: torch.nn.functional.fold(x, **kw),
            covers=(Fold,),
            samples=(
                sample((2, 12, 12), output_size=(5, 6), kernel_size=2, padding=1, stride=2),
                sample((1, 8, 9), t=(0,), output_size=(5, 4), kernel_size=(2, 2), dilation=(2, 1)),
            ),
            exempt=_NCHW,
        ),
        OpSpec(
            name="interpolate",
            fn=interpolate,
            ref=_ref_interpolate,
            torch_fn=lambda x, **kw: torch.nn.functional.interpolate(x, **kw),
            covers=(),  # composed: indexing, and products with the weights for the linear modes
            samples=(
                sample((2, 3, 4, 5), scale_factor=2),
                sample((1, 2, 5, 3), t=(0,), size=(7, 4)),
                sample((2, 1, 6, 7), size=(4, 3)),
                sample((1, 2, 3, 5), scale_factor=(1.7, 0.6)),
                sample((2, 3, 4, 5), size=(7, 9), mode="bilinear"),
                sample((1, 2, 5, 6), t=(0,), scale_factor=1.5, mode="bilinear", align_corners=True),
                sample((2, 2, 6, 5), size=(3, 8), mode="bilinear", align_corners=False),
                sample((2, 3, 5), size=8, mode="linear"),
                sample((1, 2, 3, 4, 3), size=(5, 2, 4), mode="trilinear", align_corners=True),
            ),
            exempt=_NCHW,
        ),
    ]
)
