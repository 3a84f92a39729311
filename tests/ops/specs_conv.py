"""Op-table entries for convolution: 1-D, 2-D and transposed (see tests/ops/specs.py).

The references are numpy sliding windows over a padded input, written from the definitions:
y[n, f, i, j] = sum_{c, p, q} xpad[n, c, i sh + p dh, j sw + q dw] w[f, c, p, q] (+ b[f]).
The samples form a grid of geometries: strides, symmetric and asymmetric padding, "same",
dilation, even and odd kernels, non-square inputs, groups and depthwise. The transposed
convolution's reference scatters each input pixel times the kernel, from its definition.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autodiff.ops.conv import (
    Conv2d,
    ConvTranspose2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
)
from tests.ops.harness import OpSpec, sample, torch


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _pads(padding, kernel, dilation):
    """(top, bottom, left, right) for an int, a pair, a 4-tuple, "valid" or "same"."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = (d * (k - 1) for d, k in zip(dilation, kernel, strict=True))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    if isinstance(padding, int) or len(padding) == 2:
        ph, pw = _pair(padding)
        return (ph, ph, pw, pw)
    return tuple(padding)


def _windows(x, kernel, stride, pads, dilation, fill=0.0):
    """(N, C, oh, ow, kh, kw) windows of x padded with `fill`."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pb, pl, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    return sliding_window_view(xp, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]


def _ref_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    kernel, stride, dilation = w.shape[2:], _pair(stride), _pair(dilation)
    win = _windows(x, kernel, stride, _pads(padding, kernel, dilation), dilation)
    n, c, oh, ow = win.shape[:4]
    f = w.shape[0]
    win = win.reshape(n, groups, c // groups, oh, ow, *kernel)
    wg = w.reshape(groups, f // groups, c // groups, *kernel)
    y = np.einsum("ngchwpq,gfcpq->ngfhw", win, wg).reshape(n, f, oh, ow)
    return y if b is None else y + b[None, :, None, None]


def _torch_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if not isinstance(padding, str | int) and len(padding) == 4:  # torch pads symmetrically
        pt, pb, pl, pr = padding
        x, padding = torch.nn.functional.pad(x, (pl, pr, pt, pb)), 0
    return torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups)


def _ref_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    stride, dilation = np.ravel(stride)[0], np.ravel(dilation)[0]
    pad = padding if isinstance(padding, str) else (0, np.ravel(padding)[0])
    y = _ref_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pad, (1, dilation), groups)
    return y[:, :, 0]


def _ref_conv_transpose2d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Each input pixel times the kernel, added at stride spacing; then crop the padding."""
    (sh, sw), (ph, pw), (eh, ew), (dh, dw) = map(_pair, (stride, padding, output_padding, dilation))
    n, c, h, wd = x.shape
    cg, fg, kh, kw = w.shape[0] // groups, w.shape[1], *w.shape[2:]
    full = np.zeros(
        (
            n,
            fg * groups,
            (h - 1) * sh + dh * (kh - 1) + 1 + eh,
            (wd - 1) * sw + dw * (kw - 1) + 1 + ew,
        )
    )
    for g in range(groups):
        xg, wg = x[:, g * cg : (g + 1) * cg], w[g * cg : (g + 1) * cg]
        for a in range(kh):
            for e in range(kw):
                tap = np.einsum("nchw,cf->nfhw", xg, wg[:, :, a, e])
                rows = slice(a * dh, a * dh + (h - 1) * sh + 1, sh)
                cols = slice(e * dw, e * dw + (wd - 1) * sw + 1, sw)
                full[:, g * fg : (g + 1) * fg, rows, cols] += tap
    y = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return y if b is None else y + b[None, :, None, None]


def _ref_conv_transpose1d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    y = _ref_conv_transpose2d(
        x[:, :, None],
        w[:, :, None],
        b,
        (1, stride),
        (0, padding),
        (0, output_padding),
        groups,
        (1, dilation),
    )
    return y[:, :, 0]


_NCHW = {"scalar": "needs (N, C, H, W) input"}

SPECS = [
    OpSpec(
        name="conv2d",
        fn=lambda x, w, b, **kw: conv2d(x, w, b, **kw),
        ref=_ref_conv2d,
        torch_fn=lambda x, w, b, **kw: _torch_conv2d(x, w, b, **kw),
        covers=(Conv2d,),
        samples=(
            sample((2, 3, 5, 5), (4, 3, 3, 3), (4,)),
            sample((1, 1, 6, 5), (2, 1, 2, 2), (2,), stride=2),
            sample((2, 3, 7, 6), (2, 3, 3, 2), (2,), t=(0,), stride=(2, 3), padding=(1, 2)),
            sample((1, 2, 7, 7), (3, 2, 3, 3), (3,), dilation=2, padding=2),
            sample((2, 2, 5, 6), (2, 2, 3, 3), (2,), padding=(1, 0, 2, 1)),
            sample((2, 4, 5, 5), (6, 2, 3, 3), (6,), groups=2, padding=1),
            sample((2, 3, 6, 6), (3, 1, 3, 3), (3,), groups=3, padding="same"),
            sample((1, 2, 5, 4), (3, 2, 4, 3), (3,), padding="same", dilation=(1, 2)),
            sample((2, 3, 4, 4), (2, 3, 1, 1), (2,), stride=3),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv2d_no_bias",
        fn=lambda x, w, **kw: conv2d(x, w, **kw),
        ref=_ref_conv2d,
        torch_fn=lambda x, w, **kw: _torch_conv2d(x, w, **kw),
        covers=(Conv2d,),
        samples=(
            sample((2, 2, 4, 5), (3, 2, 3, 3), padding="valid"),
            sample((1, 1, 5, 5), (1, 1, 2, 2), t=(1,), stride=2, padding=1),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv2d_unbatched",
        fn=lambda x, w, b, **kw: conv2d(x, w, b, **kw),
        ref=lambda x, w, b, **kw: _ref_conv2d(x[None], w, b, **kw)[0],
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.conv2d(x, w, b, **kw),
        covers=(Conv2d,),
        samples=(
            sample((3, 5, 4), (2, 3, 3, 3), (2,), padding=1),
            sample((1, 4, 6), (2, 1, 2, 3), (2,), t=(0,), stride=2),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv1d",
        fn=lambda x, w, b, **kw: conv1d(x, w, b, **kw),
        ref=_ref_conv1d,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.conv1d(x, w, b, **kw),
        covers=(Conv2d,),
        samples=(
            sample((2, 3, 7), (4, 3, 3), (4,)),
            sample((1, 1, 9), (2, 1, 2), (2,), stride=2, padding=1),
            sample((2, 4, 8), (6, 2, 3), (6,), t=(0,), groups=2, dilation=2, padding="same"),
            sample((2, 3, 6), (3, 1, 4), (3,), groups=3, padding="valid", stride=(3,)),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv_transpose2d",
        fn=lambda x, w, b, **kw: conv_transpose2d(x, w, b, **kw),
        ref=_ref_conv_transpose2d,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.conv_transpose2d(x, w, b, **kw),
        covers=(ConvTranspose2d,),
        samples=(
            sample((2, 3, 4, 5), (3, 2, 3, 3), (2,)),
            sample((1, 1, 3, 3), (1, 2, 2, 2), (2,), stride=2),
            sample(
                (2, 2, 3, 4),
                (2, 3, 3, 2),
                (3,),
                t=(0,),
                stride=(2, 3),
                padding=(1, 0),
                output_padding=(1, 2),
            ),
            sample((1, 4, 4, 4), (4, 1, 3, 3), (2,), groups=2, padding=1, dilation=2),
            sample((2, 4, 3, 3), (4, 1, 3, 3), (4,), groups=4, stride=2, output_padding=1),
            sample(
                (1, 2, 5, 3),
                (2, 2, 2, 3),
                (2,),
                dilation=(2, 1),
                output_padding=(1, 0),
                padding=(0, 2),
            ),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv_transpose2d_no_bias",
        fn=lambda x, w, **kw: conv_transpose2d(x, w, **kw),
        ref=_ref_conv_transpose2d,
        torch_fn=lambda x, w, **kw: torch.nn.functional.conv_transpose2d(x, w, **kw),
        covers=(ConvTranspose2d,),
        samples=(
            sample((1, 3, 4, 4), (3, 2, 3, 3), stride=2, padding=1, output_padding=1),
            sample((2, 1, 3, 3), (1, 1, 2, 2), t=(1,), stride=3),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="conv_transpose1d",
        fn=lambda x, w, b, **kw: conv_transpose1d(x, w, b, **kw),
        ref=_ref_conv_transpose1d,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.conv_transpose1d(x, w, b, **kw),
        covers=(ConvTranspose2d,),
        samples=(
            sample((2, 3, 5), (3, 2, 3), (2,), stride=2, output_padding=1, padding=1),
            sample((1, 2, 4), (2, 1, 2), (2,), t=(0,), groups=2, dilation=3),
        ),
        exempt=_NCHW,
        rtol=1e-4,
        atol=1e-5,
    ),
]
