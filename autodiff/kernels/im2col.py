"""im2col / col2im for 2-D windows over NCHW batches.

Layout of ``cols`` (shared by both directions), shape ``(C * kh * kw, N * oh * ow)``::

    cols[(c * kh + i) * kw + j, (n * oh + y) * ow + x]
        = xpad[n, c, y * sh + i * dh, x * sw + j * dw]

where ``xpad`` is ``x`` zero-padded by ``(top, bottom, left, right)``. With this layout a whole
batch of convolutions is one GEMM ``w.reshape(F, C * kh * kw) @ cols -> (F, N * oh * ow)``, the
rows of one channel group are a contiguous block (grouped convolution is a batched GEMM over a
reshape, no copy).

Two pairs of kernels. Large outputs go row by row: each row of ``ow`` output pixels is a zero
run, a strided copy and a zero run. Outputs of up to ``TAPS_MAX_PIXELS`` pixels (ResNet's deep
layers: 8x8, 4x4, 2x2) read a table of taps instead (``_taps``): for each window offset and
output pixel, the input pixel's offset in its plane, or -1 for padding; per plane and offset
that is one loop over all ``oh * ow`` pixels. Rows of a few pixels cost more in bounds and loop
overhead than in copying, and the table's gathers cost more than contiguous copies on long rows
(``python -m benchmarks.tuning im2col``).
"""

import functools

import numpy as np
from numba import njit, prange

from . import _config
from ._checks import Window, as_float_array, check_out, pair, window
from ._ranges import valid_range


def conv_output_size(
    x_shape: tuple, kernel_size, stride=1, padding=0, dilation=1, op: str = "im2col"
) -> tuple[int, int]:
    """Return ``(oh, ow)`` for windows over an ``(N, C, H, W)`` input.

    ``oh = (H + top + bottom - dh * (kh - 1) - 1) // sh + 1``, likewise ``ow``. Raises ValueError
    (naming ``op``) for non-positive kernel/stride/dilation, negative padding, or a window larger
    than the padded input.
    """
    g = window(op, x_shape, kernel_size, stride, padding, dilation)
    return g.oh, g.ow


def batch_chunk(x_shape: tuple, kernel_size, out_hw: tuple, itemsize: int, budget=None) -> int:
    """Largest number of samples whose ``cols`` fits in ``budget`` bytes (at least 1).

    ``budget`` defaults to ``_config.COLS_BUDGET_BYTES``; one sample's cols take
    ``C * kh * kw * oh * ow * itemsize`` bytes.
    """
    n, c = x_shape[:2]
    kh, kw = pair("batch_chunk", "kernel_size", kernel_size, 1)
    per_sample = c * kh * kw * out_hw[0] * out_hw[1] * itemsize
    budget = _config.COLS_BUDGET_BYTES if budget is None else budget
    return int(max(1, min(n, budget // max(per_sample, 1))))


def im2col(x: np.ndarray, kernel_size, stride=1, padding=0, dilation=1, out=None) -> np.ndarray:
    """Unfold the sliding windows of ``x`` into columns (layout in the module docstring).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
        Copied to C order if it is not C-contiguous.
    kernel_size, stride, dilation : int or (int, int)
        Window ``(kh, kw)``, step ``(sh, sw)`` and dilation ``(dh, dw)``, all >= 1.
    padding : int, (ph, pw) or (top, bottom, left, right)
        Zero padding, >= 0; a 4-tuple gives asymmetric padding.
    out : ndarray, optional
        C-contiguous buffer of the result's shape and dtype to write into.

    Returns
    -------
    cols : ndarray, shape (C * kh * kw, N * oh * ow), dtype of ``x``
        With ``oh, ow = conv_output_size(x.shape, kernel_size, stride, padding, dilation)``.

    Raises
    ------
    TypeError
        ``x`` is not a float32/float64 ndarray.
    ValueError
        Wrong rank, bad geometry, window larger than the padded input, or a bad ``out``.
    """
    x = as_float_array("im2col", "x", x, 4)
    g = window("im2col", x.shape, kernel_size, stride, padding, dilation)
    n, c = x.shape[:2]
    shape = (c * g.kh * g.kw, n * g.oh * g.ow)
    cols = np.empty(shape, x.dtype) if out is None else check_out("im2col", out, shape, x.dtype)
    if g.oh * g.ow <= TAPS_MAX_PIXELS:
        _im2col_taps(x, cols, _taps(x.shape[2:], g))
    else:
        _im2col_rows(x, cols, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow)
    return cols


def col2im(
    cols: np.ndarray, x_shape: tuple, kernel_size, stride=1, padding=0, dilation=1, out=None
) -> np.ndarray:
    """Fold columns back onto an image, summing overlapping windows (adjoint of ``im2col``).

    Parameters
    ----------
    cols : ndarray, shape (C * kh * kw, N * oh * ow), float32 or float64
        Layout as produced by ``im2col`` with the same geometry.
    x_shape : tuple (N, C, H, W)
        Shape of the image ``im2col`` was applied to.
    kernel_size, stride, padding, dilation
        As for ``im2col``.
    out : ndarray, optional
        C-contiguous ``(N, C, H, W)`` buffer of the dtype of ``cols``; overwritten.

    Returns
    -------
    gx : ndarray, shape (N, C, H, W), dtype of ``cols``
        ``gx[n, c, h, w]`` is the sum of every ``cols`` entry that ``im2col`` copied from there;
        entries that came from padding are dropped.

    Raises
    ------
    TypeError, ValueError
        As for ``im2col``, and when ``cols`` does not have the shape the geometry implies.
    """
    cols = as_float_array("col2im", "cols", cols, 2)
    if len(x_shape) != 4:
        raise ValueError(f"col2im: x_shape must be (N, C, H, W), got {x_shape}")
    n, c, h, w = (int(v) for v in x_shape)
    g = window("col2im", x_shape, kernel_size, stride, padding, dilation)
    expected = (c * g.kh * g.kw, n * g.oh * g.ow)
    if cols.shape != expected:
        raise ValueError(
            f"col2im: cols has shape {cols.shape} but x_shape {(n, c, h, w)} with kernel "
            f"{(g.kh, g.kw)} and output {(g.oh, g.ow)} needs {expected}"
        )
    shape = (n, c, h, w)
    gx = np.empty(shape, cols.dtype) if out is None else check_out("col2im", out, shape, cols.dtype)
    if g.oh * g.ow <= TAPS_MAX_PIXELS:
        _col2im_taps(cols, gx, _taps((h, w), g))
    else:
        _col2im_rows(cols, gx, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow)
    return gx


#: Outputs of at most this many pixels per plane go through the table of taps.
TAPS_MAX_PIXELS = 256


@functools.lru_cache(maxsize=32)
def _taps(hw: tuple, g: Window) -> np.ndarray:
    """``taps[i * kw + j, y * ow + x]``: the offset ``iy * W + ix`` in an ``(H, W)`` plane of
    the input pixel under window offset ``(i, j)`` of output pixel ``(y, x)``, or -1 where it
    falls in the padding; int32, shape ``(kh * kw, oh * ow)``."""
    h, w = hw
    iy = np.arange(g.oh)[:, None] * g.sh - g.pt
    ix = np.arange(g.ow)[None, :] * g.sw - g.pl
    taps = np.empty((g.kh * g.kw, g.oh * g.ow), np.int32)
    for i in range(g.kh):
        for j in range(g.kw):
            y, x = iy + i * g.dh, ix + j * g.dw
            inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
            taps[i * g.kw + j] = np.where(inside, y * w + x, -1).ravel()
    return taps


# The kernels index flat views with unsigned (uint64) offsets: numba guards signed indices
# against negative wraparound, and that branch stops LLVM from vectorising the inner loops.
# Every offset below is non-negative by construction (a tap only where it is >= 0).


@njit(**_config.PARALLEL)
def _im2col_taps(x, cols, taps):
    """Fill ``cols`` from ``x``; every entry is written once, so (n, c) pairs run in parallel."""
    n, c, h, w = x.shape
    k, p = taps.shape
    xf, cf, tf = x.ravel(), cols.ravel(), taps.ravel()
    width, up = np.uint64(cols.shape[1]), np.uint64(p)
    for nc in prange(n * c):
        b = nc // c
        plane = np.uint64(nc * h * w)
        for ij in range(k):
            dst = np.uint64((nc - b * c) * k + ij) * width + np.uint64(b) * up
            row = np.uint64(ij) * up
            for q in range(up):
                t = tf[row + q]
                cf[dst + q] = xf[plane + np.uint64(t)] if t >= 0 else 0


@njit(**_config.PARALLEL)
def _col2im_taps(cols, gx, taps):
    """Sum ``cols`` into ``gx``; plane (n, c) only receives rows of channel c, so no collisions."""
    n, c, h, w = gx.shape
    k, p = taps.shape
    cf, gf, tf = cols.ravel(), gx.ravel(), taps.ravel()
    width, up = np.uint64(cols.shape[1]), np.uint64(p)
    for nc in prange(n * c):
        b = nc // c
        plane = np.uint64(nc * h * w)
        gf[plane : plane + np.uint64(h * w)] = 0
        for ij in range(k):
            src = np.uint64((nc - b * c) * k + ij) * width + np.uint64(b) * up
            row = np.uint64(ij) * up
            for q in range(up):
                t = tf[row + q]
                if t >= 0:
                    gf[plane + np.uint64(t)] += cf[src + q]


@njit(**_config.PARALLEL)
def _im2col_rows(x, cols, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow):
    """Fill ``cols`` from ``x``; every entry is written once, so (n, c) pairs run in parallel."""
    n, c, h, w = x.shape
    xf = x.ravel()
    cf = cols.ravel()
    width = np.uint64(cols.shape[1])
    step = np.uint64(sw)
    uow = np.uint64(ow)
    for nc in prange(n * c):
        b = nc // c
        plane = nc * h * w
        for i in range(kh):
            for j in range(kw):
                row = np.uint64(((nc - b * c) * kh + i) * kw + j)
                lo, hi = valid_range(j * dw - pl, sw, w, ow)
                ulo = np.uint64(lo)
                uhi = np.uint64(hi)
                for y in range(oh):
                    iy = y * sh - pt + i * dh
                    dst = row * width + np.uint64((b * oh + y) * ow)
                    if iy < 0 or iy >= h:
                        for k in range(uow):
                            cf[dst + k] = 0
                        continue
                    for k in range(ulo):
                        cf[dst + k] = 0
                    src = np.uint64(plane + iy * w + lo * sw + j * dw - pl)
                    for k in range(uhi - ulo):
                        cf[dst + ulo + k] = xf[src + k * step]
                    for k in range(uhi, uow):
                        cf[dst + k] = 0


@njit(**_config.PARALLEL)
def _col2im_rows(cols, gx, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow):
    """Sum ``cols`` into ``gx``; plane (n, c) only receives rows of channel c, so no collisions."""
    n, c, h, w = gx.shape
    cf = cols.ravel()
    gf = gx.ravel()
    width = np.uint64(cols.shape[1])
    step = np.uint64(sw)
    for nc in prange(n * c):
        b = nc // c
        plane = nc * h * w
        gf[plane : plane + h * w] = 0
        for i in range(kh):
            for j in range(kw):
                row = np.uint64(((nc - b * c) * kh + i) * kw + j)
                lo, hi = valid_range(j * dw - pl, sw, w, ow)
                count = np.uint64(hi - lo)
                for y in range(oh):
                    iy = y * sh - pt + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    src = row * width + np.uint64((b * oh + y) * ow + lo)
                    dst = np.uint64(plane + iy * w + lo * sw + j * dw - pl)
                    for k in range(count):
                        gf[dst + k * step] += cf[src + k]
