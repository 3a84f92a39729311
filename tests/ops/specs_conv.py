"""Op-table entries for convolution and pooling (see tests/ops/specs.py).

The references are numpy sliding windows over a padded input, written from the definitions:
y[n, f, i, j] = sum_{c, p, q} xpad[n, c, i sh + p dh, j sw + q dw] w[f, c, p, q] (+ b[f]).
The samples form a grid of geometries: strides, symmetric and asymmetric padding, "same",
dilation, even and odd kernels, non-square inputs, groups and depthwise.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autodiff.ops.conv import Conv2d, conv2d
from autodiff.ops.pool import AvgPool2d, MaxPool2d, adaptive_avg_pool2d, avg_pool2d, max_pool2d
from tests.ops.harness import OpSpec, distinct, normal, sample, torch


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


def _ref_pool(reduce, fill):
    def ref(x, kernel_size, stride=None, padding=0):
        kernel = _pair(kernel_size)
        stride = kernel if stride is None else _pair(stride)
        ph, pw = _pair(padding)
        win = _windows(x, kernel, stride, (ph, ph, pw, pw), (1, 1), fill)
        return reduce(win, axis=(4, 5))

    return ref


def _ref_adaptive_avg(x, output_size):
    oh, ow = _pair(output_size)
    h, w = x.shape[2:]
    out = np.empty((*x.shape[:2], oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            out[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return out


_NCHW = {"scalar": "needs (N, C, H, W) input"}
_ONE_INPUT = {"broadcast": "one tensor input", **_NCHW}

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
        name="max_pool2d",
        fn=max_pool2d,
        ref=_ref_pool(np.max, -np.inf),
        torch_fn=lambda x, **kw: torch.nn.functional.max_pool2d(x, **kw),
        covers=(MaxPool2d,),
        samples=(
            sample((2, 3, 4, 6), kernel_size=2),
            sample((1, 1, 5, 7), t=(0,), kernel_size=3, stride=2, padding=1),
            sample((2, 2, 6, 5), kernel_size=(2, 3), stride=(1, 2)),
        ),
        domain=distinct,
        exempt=_ONE_INPUT,
    ),
    OpSpec(
        name="avg_pool2d",
        fn=avg_pool2d,
        ref=_ref_pool(np.mean, 0.0),
        torch_fn=lambda x, **kw: torch.nn.functional.avg_pool2d(x, **kw),
        covers=(AvgPool2d,),
        samples=(
            sample((2, 3, 4, 6), kernel_size=2),
            sample((1, 1, 5, 7), t=(0,), kernel_size=3, stride=2, padding=1),
            sample((2, 2, 6, 5), kernel_size=(2, 3), stride=(1, 2)),
        ),
        exempt=_ONE_INPUT,
    ),
    OpSpec(
        name="adaptive_avg_pool2d",
        fn=adaptive_avg_pool2d,
        ref=_ref_adaptive_avg,
        torch_fn=lambda x, **kw: torch.nn.functional.adaptive_avg_pool2d(x, **kw),
        covers=(),  # composed: mean, avg_pool2d, or indexing + mean + cat
        samples=(
            sample((2, 3, 4, 5), output_size=1),
            sample((1, 2, 6, 4), t=(0,), output_size=(3, 2)),
            sample((2, 1, 5, 7), output_size=(2, 3)),
        ),
        domain=normal,
        exempt=_ONE_INPUT,
    ),
]
