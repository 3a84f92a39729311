"""Direct depthwise convolution (``groups == C``, one input channel per filter), no im2col.

A depthwise filter sees one channel, so im2col would copy ``kh * kw`` times the input to feed
GEMMs only ``kh * kw`` deep; looping over the taps directly is several times faster
(``python -m benchmarks.conv_tuning depthwise_vs_im2col``). ``C == 1`` with ``groups == 1`` and
a stride above 1 takes this path too (with stride 1, ``direct.py`` is faster).

Filter ``f`` reads input channel ``f // m``, ``m = F // C`` being the channel multiplier. Shapes
follow ``conv2d_forward``: ``x (N, C, H, W)``, ``w (F, 1, kh, kw)``, ``y (N, F, oh, ow)``;
padding is ``(top, bottom, left, right)``.
"""

import numpy as np
from numba import njit, prange

from . import _config, buffers
from ._checks import ConvGeometry
from ._ranges import valid_range


def supports(g: ConvGeometry) -> bool:
    """One input channel per group (``groups == C``), any window."""
    return g.groups == g.x_shape[1]


def forward(x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
    """``y[n, f] = x[n, f // m] (*) w[f, 0] + b[f]``; ``b`` may be None."""
    y = buffers.empty(g.y_shape, x.dtype)
    bias = np.zeros(g.w_shape[0], x.dtype) if b is None else b
    _forward_impl(x, w, bias, y, *_window_args(g))
    return y


def backward_input(gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``x``, shape ``g.x_shape``."""
    gx = buffers.empty(g.x_shape, gy.dtype)
    _backward_input_impl(gy, w, gx, *_window_args(g))
    return gx


def backward_weight(gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``w``, shape ``g.w_shape``."""
    # One partial per (sample, filter), written by one thread each, then summed over samples.
    partial = np.empty((g.x_shape[0], *g.w_shape), x.dtype)
    _backward_weight_impl(gy, x, partial, *_window_args(g), x.dtype.type(0))
    return partial.sum(axis=0)


def _window_args(g: ConvGeometry) -> tuple:
    """``(sh, sw, top, left, dh, dw)`` as the kernels take them."""
    win = g.window
    return win.sh, win.sw, win.pt, win.pl, win.dh, win.dw


# As in im2col.py, inner loops index flat views with uint64 offsets so that they vectorise.


@njit(**_config.PARALLEL)
def _forward_impl(x, w, bias, y, sh, sw, pt, pl, dh, dw):
    """One (n, f) output plane per iteration: bias, then one shifted multiply-add per tap."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    oh, ow = y.shape[2:]
    xf = x.ravel()
    yf = y.ravel()
    step = np.uint64(sw)
    for nf in prange(n * f):
        b = nf // f
        fo = nf - b * f
        out = nf * oh * ow
        src = (b * c + fo // (f // c)) * h * wd
        yf[out : out + oh * ow] = bias[fo]
        for i in range(kh):
            y0, y1 = valid_range(i * dh - pt, sh, h, oh)
            for j in range(kw):
                x0, x1 = valid_range(j * dw - pl, sw, wd, ow)
                tap = w[fo, 0, i, j]
                for oy in range(y0, y1):
                    d = np.uint64(out + oy * ow + x0)
                    s = np.uint64(src + (oy * sh - pt + i * dh) * wd + x0 * sw + j * dw - pl)
                    for k in range(np.uint64(x1 - x0)):
                        yf[d + k] += tap * xf[s + k * step]


@njit(**_config.PARALLEL)
def _backward_input_impl(gy, w, gx, sh, sw, pt, pl, dh, dw):
    """One (n, c) input plane per iteration; only filters of channel c write to it."""
    n, c, h, wd = gx.shape
    f, _, kh, kw = w.shape
    oh, ow = gy.shape[2:]
    m = f // c
    gyf = gy.ravel()
    gxf = gx.ravel()
    step = np.uint64(sw)
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        dst = nc * h * wd
        gxf[dst : dst + h * wd] = 0
        for fo in range(ci * m, (ci + 1) * m):
            src = (b * f + fo) * oh * ow
            for i in range(kh):
                y0, y1 = valid_range(i * dh - pt, sh, h, oh)
                for j in range(kw):
                    x0, x1 = valid_range(j * dw - pl, sw, wd, ow)
                    tap = w[fo, 0, i, j]
                    for oy in range(y0, y1):
                        s = np.uint64(src + oy * ow + x0)
                        d = np.uint64(dst + (oy * sh - pt + i * dh) * wd + x0 * sw + j * dw - pl)
                        for k in range(np.uint64(x1 - x0)):
                            gxf[d + k * step] += tap * gyf[s + k]


@njit(**_config.PARALLEL)
def _backward_weight_impl(gy, x, partial, sh, sw, pt, pl, dh, dw, zero):
    """``partial[n, f, 0, i, j]`` = one sample's correlation of ``gy[n, f]`` with its input."""
    n, c, h, wd = x.shape
    f, kh, kw = partial.shape[1], partial.shape[3], partial.shape[4]
    oh, ow = gy.shape[2:]
    gyf = gy.ravel()
    xf = x.ravel()
    step = np.uint64(sw)
    for nf in prange(n * f):
        b = nf // f
        fo = nf - b * f
        grad = nf * oh * ow
        src = (b * c + fo // (f // c)) * h * wd
        # Per-column sums, reduced once per tap: a horizontal reduction per output row would
        # cost more than the row's multiply-adds.
        columns = np.empty(ow, x.dtype)
        for i in range(kh):
            y0, y1 = valid_range(i * dh - pt, sh, h, oh)
            for j in range(kw):
                x0, x1 = valid_range(j * dw - pl, sw, wd, ow)
                columns[:] = zero
                for oy in range(y0, y1):
                    g = np.uint64(grad + oy * ow + x0)
                    s = np.uint64(src + (oy * sh - pt + i * dh) * wd + x0 * sw + j * dw - pl)
                    for k in range(np.uint64(x1 - x0)):
                        columns[k] += gyf[g + k] * xf[s + k * step]
                total = zero
                for k in range(x1 - x0):
                    total += columns[k]
                partial[b, fo, 0, i, j] = total
