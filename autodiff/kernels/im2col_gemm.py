"""Convolution as im2col + one GEMM per batch chunk, col2im for the input gradient: any geometry.

Per chunk of ``nb`` samples (``P = oh * ow``, ``K = kh * kw``, ``G`` groups)::

    cols = im2col(x[chunk])                              (C * K, nb * P)
    y2 = w.reshape(G, F/G, C/G * K) @ cols.reshape(G, C/G * K, nb * P)     -> (F, nb * P)
    gw += gy2 @ cols.T      gcols = w.T @ gy2      gx[chunk] = col2im(gcols)

The batch is chunked so that ``cols`` stays under ``_config.COLS_BUDGET_BYTES``; one cols buffer
is reused for every chunk (and for ``gcols``), which avoids re-faulting fresh pages each time.
The weight gradient recomputes ``cols`` instead of keeping it alive between forward and
backward: im2col costs a fraction of the GEMMs, and a saved cols is ``K`` times the input.
The fallback of ``conv.ALGORITHMS``: ``supports`` accepts every geometry.
"""

import numpy as np

from . import buffers, gemm
from ._checks import ConvGeometry
from .blas import matmul
from .im2col import batch_chunk, col2im, im2col


def supports(g: ConvGeometry) -> bool:
    """Every geometry."""
    return True


def forward(x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
    """``y (N, F, oh, ow)`` from ``x (N, C, H, W)``, ``w (F, C // groups, kh, kw)``, ``b (F,)``
    or None; all C-contiguous, of one dtype."""
    f, groups = g.w_shape[0], g.groups
    y = buffers.empty(g.y_shape, x.dtype)
    w3 = w.reshape(groups, f // groups, -1)
    for n0, nb, cols, y2 in _chunks(g, x.dtype):
        im2col(x[n0 : n0 + nb], *_im2col_args(g), out=cols)
        _product(w3, _grouped(cols, groups), _grouped(y2, groups))
        y2 = y2.reshape(f, nb, -1).transpose(1, 0, 2)
        y_chunk = y[n0 : n0 + nb].reshape(nb, f, -1)
        if b is None:
            np.copyto(y_chunk, y2)
        else:
            np.add(y2, b[:, None], out=y_chunk)
    return y


def backward_input(gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``gx``, shape ``g.x_shape``: per chunk, ``gcols = w.T @ gy2`` folded back by col2im."""
    f, groups = g.w_shape[0], g.groups
    w_t = w.reshape(groups, f // groups, -1).transpose(0, 2, 1)
    gx = buffers.empty(g.x_shape, gy.dtype)
    for n0, nb, gcols, gy2 in _chunks(g, gy.dtype):
        _gy_columns(gy[n0 : n0 + nb], gy2)
        _product(w_t, _grouped(gy2, groups), _grouped(gcols, groups))
        col2im(gcols, (nb, *g.x_shape[1:]), *_im2col_args(g), out=gx[n0 : n0 + nb])
    return gx


def backward_weight(gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``gw``, shape ``g.w_shape``: per chunk, ``gy2 @ cols.T`` summed over chunks.

    The product is made in the weights' own layout, (G, F/G, C/G * K): ``cols @ gy2.T`` is a
    little faster in OpenBLAS on wide chunks, but its transposed result then takes a copy that
    costs several times the product on deep layers (python -m benchmarks.conv_tuning
    gemm_layouts). The register tile reads ``cols.T`` in place, copying each panel down the
    columns of ``cols``.
    """
    f, groups = g.w_shape[0], g.groups
    gw = np.zeros(g.w_shape, x.dtype) if g.x_shape[0] == 0 else np.empty(g.w_shape, x.dtype)
    gw3 = gw.reshape(groups, f // groups, -1)  # a view: the products write into gw
    for n0, nb, cols, gy2 in _chunks(g, x.dtype):
        _gy_columns(gy[n0 : n0 + nb], gy2)
        im2col(x[n0 : n0 + nb], *_im2col_args(g), out=cols)
        # into gw itself: no zeroed buffer, and no sum when one chunk takes the batch
        _product(_grouped(gy2, groups), _grouped(cols, groups).transpose(0, 2, 1), gw3, n0 > 0)
    return gw


def _product(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> None:
    """``out = a @ b`` (``+=`` with ``accumulate``): through the register tile where it runs
    (float32 on AVX-512 or AVX2, any strides), through BLAS otherwise."""
    if gemm.takes(a.dtype):
        gemm.matmul(a, b, out, accumulate)
    elif accumulate:
        out += matmul(a, b)
    else:
        matmul(a, b, out=out)


def _chunks(g: ConvGeometry, dtype: np.dtype):
    """``(n0, nb, cols, fcols)`` for each chunk of ``nb`` samples from ``n0``: views of two
    buffers reused by every chunk, ``cols`` ``(C * K, nb * P)`` and ``fcols`` ``(F, nb * P)``."""
    n, c = g.x_shape[:2]
    f, win = g.w_shape[0], g.window
    p, ck = win.oh * win.ow, c * win.kh * win.kw
    chunk = batch_chunk(g.x_shape, g.w_shape[2:], win.out_hw, dtype.itemsize)
    cols_buf = np.empty(ck * chunk * p, dtype)
    f_buf = np.empty(f * chunk * p, dtype)
    for n0 in range(0, n, chunk):
        nb = min(chunk, n - n0)
        # Flat buffers sliced then reshaped, so a short last chunk is still C-contiguous.
        cols = cols_buf[: ck * nb * p].reshape(ck, nb * p)
        yield n0, nb, cols, f_buf[: f * nb * p].reshape(f, nb * p)


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """``(rows, cols)`` as ``(G, rows / G, cols)``: the rows of one group are contiguous."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _gy_columns(gy: np.ndarray, gy2: np.ndarray) -> None:
    """Copy ``gy (nb, F, oh, ow)`` into ``gy2 (F, nb * oh * ow)``."""
    nb, f = gy.shape[:2]
    np.copyto(gy2.reshape(f, nb, -1), gy.reshape(nb, f, -1).transpose(1, 0, 2))


def _im2col_args(g: ConvGeometry) -> tuple:
    """``(kernel_size, stride, padding, dilation)`` as im2col and col2im take them."""
    return g.w_shape[2:], g.window.stride, g.window.padding, g.window.dilation
