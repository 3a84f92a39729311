"""Naive loop references for the kernels: slow, obvious, and independent of their layout tricks.

Each works on float64 copies and returns the dtype of its input so tests compare like with like.
"""

import numpy as np


def pad(x, top, bottom, left, right, value=0.0):
    """Pad the last two axes of ``x`` with ``value``."""
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def out_size(size, pad_total, k, s, d):
    """Output length of a window of ``k`` taps, dilation ``d``, stride ``s``."""
    return (size + pad_total - d * (k - 1) - 1) // s + 1


def im2col(x, kh, kw, sh, sw, padding, dh, dw):
    """``cols[(c, i, j), (n, y, x)] = xpad[n, c, y*sh + i*dh, x*sw + j*dw]``, entry by entry."""
    top, bottom, left, right = padding
    n, c, h, w = x.shape
    oh = out_size(h, top + bottom, kh, sh, dh)
    ow = out_size(w, left + right, kw, sw, dw)
    xp = pad(x.astype(np.float64), top, bottom, left, right)
    cols = np.zeros((c, kh, kw, n, oh, ow))
    for b in range(n):
        for ci in range(c):
            for i in range(kh):
                for j in range(kw):
                    for y in range(oh):
                        for xo in range(ow):
                            cols[ci, i, j, b, y, xo] = xp[b, ci, y * sh + i * dh, xo * sw + j * dw]
    return cols.reshape(c * kh * kw, n * oh * ow).astype(x.dtype)


def col2im(cols, x_shape, kh, kw, sh, sw, padding, dh, dw):
    """Scatter-add every column entry back to the padded image, then crop the padding."""
    top, bottom, left, right = padding
    n, c, h, w = x_shape
    oh = out_size(h, top + bottom, kh, sh, dh)
    ow = out_size(w, left + right, kw, sw, dw)
    cols6 = cols.astype(np.float64).reshape(c, kh, kw, n, oh, ow)
    gp = np.zeros((n, c, h + top + bottom, w + left + right))
    for b in range(n):
        for ci in range(c):
            for i in range(kh):
                for j in range(kw):
                    for y in range(oh):
                        for xo in range(ow):
                            gp[b, ci, y * sh + i * dh, xo * sw + j * dw] += cols6[
                                ci, i, j, b, y, xo
                            ]
    return gp[:, :, top : top + h, left : left + w].astype(cols.dtype)


def conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct grouped cross-correlation, one output element at a time (float64 accumulation)."""
    (sh, sw), (top, bottom, left, right), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    fg = f // groups
    oh = out_size(h, top + bottom, kh, sh, dh)
    ow = out_size(wd, left + right, kw, sw, dw)
    xp = pad(x.astype(np.float64), top, bottom, left, right)
    y = np.zeros((n, f, oh, ow))
    for b_ in range(n):
        for fo in range(f):
            c0 = (fo // fg) * cg
            for yo in range(oh):
                for xo in range(ow):
                    patch = xp[b_, c0 : c0 + cg, yo * sh : yo * sh + dh * (kh - 1) + 1 : dh]
                    patch = patch[:, :, xo * sw : xo * sw + dw * (kw - 1) + 1 : dw]
                    y[b_, fo, yo, xo] = np.sum(patch * w[fo])
    if b is not None:
        y += b[None, :, None, None]
    return y.astype(x.dtype)


def max_pool2d(x, kh, kw, sh, sw, ph, pw):
    """Max over -inf-padded windows; first maximum in row-major order wins; NaN wins and sticks.

    Returns the output and the flat in-plane index ``h * W + w`` of each maximum.
    """
    n, c, h, w = x.shape
    oh = out_size(h, 2 * ph, kh, sh, 1)
    ow = out_size(w, 2 * pw, kw, sw, 1)
    y = np.empty((n, c, oh, ow), x.dtype)
    arg = np.empty((n, c, oh, ow), np.int64)
    for b in range(n):
        for ci in range(c):
            for yo in range(oh):
                for xo in range(ow):
                    best, where = -np.inf, -1
                    for i in range(kh):
                        for j in range(kw):
                            iy, ix = yo * sh - ph + i, xo * sw - pw + j
                            if not (0 <= iy < h and 0 <= ix < w):
                                continue
                            v = x[b, ci, iy, ix]
                            if where < 0 or v > best or np.isnan(v):
                                best, where = v, iy * w + ix
                    y[b, ci, yo, xo], arg[b, ci, yo, xo] = best, where
    return y, arg


def max_pool2d_backward(gy, arg, x_shape):
    """Add each output gradient at its recorded argmax."""
    gx = np.zeros(x_shape)
    n, c = x_shape[:2]
    for b in range(n):
        for ci in range(c):
            plane = gx[b, ci].reshape(-1)
            for g, a in zip(gy[b, ci].reshape(-1), arg[b, ci].reshape(-1), strict=True):
                plane[a] += g
    return gx.astype(gy.dtype)


def avg_pool2d(x, kh, kw, sh, sw, ph, pw):
    """Mean of each zero-padded window, divisor ``kh * kw`` (padding counts)."""
    n, c, h, w = x.shape
    xp = pad(x.astype(np.float64), ph, ph, pw, pw)
    oh = out_size(h, 2 * ph, kh, sh, 1)
    ow = out_size(w, 2 * pw, kw, sw, 1)
    y = np.empty((n, c, oh, ow))
    for yo in range(oh):
        for xo in range(ow):
            window = xp[:, :, yo * sh : yo * sh + kh, xo * sw : xo * sw + kw]
            y[:, :, yo, xo] = window.sum(axis=(2, 3)) / (kh * kw)
    return y.astype(x.dtype)


def avg_pool2d_backward(gy, x_shape, kh, kw, sh, sw, ph, pw):
    """Spread ``gy / (kh * kw)`` over each padded window, then crop the padding."""
    n, c, h, w = x_shape
    gp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    oh, ow = gy.shape[2:]
    for yo in range(oh):
        for xo in range(ow):
            share = gy[:, :, yo, xo].astype(np.float64)[:, :, None, None] / (kh * kw)
            gp[:, :, yo * sh : yo * sh + kh, xo * sw : xo * sw + kw] += share
    return gp[:, :, ph : ph + h, pw : pw + w].astype(gy.dtype)
