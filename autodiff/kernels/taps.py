"""Convolution in numpy alone, im2col by strided views and one product per group: for float64.

Tap ``(i, j)`` of every window reads the zero-padded input at rows ``i * dh + oy * sh`` and
columns ``j * dw + ox * sw``: one strided view per tap, ``(G, C/G, N, oh, ow)``. Stacked, the
views are ``cols (G, C/G * kh * kw, N * oh * ow)``, the columns of ``im2col_gemm``; with ``w``
as ``(G, F/G, C/G * kh * kw)`` and ``gy`` as ``(G, F/G, N * oh * ow)``::

    y = w @ cols        gw = gy @ cols.T        gcols = w.T @ gy, added back tap by tap

Nothing here is compiled: ``conv.choose`` sends float64 (gradient checks and references, on
small inputs) here, so checking a float32 model's gradients builds no float64 twin of the numba
kernels. Any geometry and float dtype; unlike ``im2col_gemm`` it does not chunk the batch (its
cols take ``kh * kw`` times the input's memory).
"""

import numpy as np

from . import buffers
from ._checks import ConvGeometry
from .blas import matmul


def supports(g: ConvGeometry) -> bool:
    """Every geometry."""
    return True


def forward(x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
    """``y (N, F, oh, ow)`` from ``x (N, C, H, W)``, ``w (F, C // groups, kh, kw)``, ``b (F,)``
    or None."""
    f = g.w_shape[0]
    y = matmul(_grouped_weights(w, g), _columns(x, g))
    y = y.reshape(f, g.x_shape[0], *g.window.out_hw).transpose(1, 0, 2, 3)
    out = buffers.empty(y.shape, y.dtype)
    if b is None:
        np.copyto(out, y)
    else:
        np.add(y, b[:, None, None], out=out)
    return out


def backward_input(gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``x``, shape ``g.x_shape``: each tap's columns of
    ``w.T @ gy`` added back onto its view of the padded input."""
    n, c, h, wd = g.x_shape
    pt, pb, pl, pr = g.window.padding
    gcols = matmul(_grouped_weights(w, g).transpose(0, 2, 1), _gy_columns(gy, g))
    gcols = gcols.reshape(g.groups, c // g.groups, g.window.kh * g.window.kw, n, *g.window.out_hw)
    gxp = np.zeros((g.groups, c // g.groups, n, h + pt + pb, wd + pl + pr), gy.dtype)
    for k, tap in enumerate(_taps(g)):
        gxp[tap] += gcols[:, :, k]
    gx = gxp[..., pt : pt + h, pl : pl + wd].reshape(c, n, h, wd).transpose(1, 0, 2, 3)
    return np.array(gx, order="C")


def backward_weight(gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``w``, shape ``g.w_shape``: ``gy @ cols.T``."""
    gw = np.empty(g.w_shape, gy.dtype)
    matmul(_gy_columns(gy, g), _columns(x, g).transpose(0, 2, 1), out=_grouped_weights(gw, g))
    return gw


def _columns(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``x``'s windows as ``(G, C/G * kh * kw, N * oh * ow)``: the tap views of the padded
    input stacked, each ``(G, C/G, N, oh, ow)``."""
    n, c, h, w = x.shape
    pt, pb, pl, pr = g.window.padding
    xg = x.reshape(n, g.groups, c // g.groups, h, w).transpose(1, 2, 0, 3, 4)
    xp = np.pad(xg, ((0, 0), (0, 0), (0, 0), (pt, pb), (pl, pr)))
    taps = [xp[tap] for tap in _taps(g)]
    cols = np.stack(taps, axis=2)
    return cols.reshape(g.groups, c // g.groups * len(taps), n * g.window.oh * g.window.ow)


def _grouped_weights(w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``w`` as ``(G, F/G, C/G * kh * kw)``, columns in ``_columns``' row order."""
    return w.reshape(g.groups, g.w_shape[0] // g.groups, -1)


def _taps(g: ConvGeometry):
    """Each tap's view of ``(..., Hp, Wp)``, row-major over ``(i, j)``: the index of rows
    ``i * dh + oy * sh`` and columns ``j * dw + ox * sw``."""
    win = g.window
    for i in range(win.kh):
        rows = slice(i * win.dh, i * win.dh + (win.oh - 1) * win.sh + 1, win.sh)
        for j in range(win.kw):
            cols = slice(j * win.dw, j * win.dw + (win.ow - 1) * win.sw + 1, win.sw)
            yield ..., rows, cols


def _gy_columns(gy: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``gy (N, F, oh, ow)`` as ``(G, F/G, N * oh * ow)``."""
    n, f, oh, ow = gy.shape
    gy2 = gy.reshape(n, g.groups, f // g.groups, oh * ow).transpose(1, 2, 0, 3)
    return gy2.reshape(g.groups, f // g.groups, n * oh * ow)
