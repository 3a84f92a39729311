"""Direct convolution with stride 1 over zero-padded "wide" planes, no im2col and no GEMM.

Each input plane is copied into a zero-padded plane of width ``Wp = W + left + right``, stored
flat. With stride 1, output row ``oy`` of tap ``(i, j)`` reads padded row ``oy + i * dh`` from
column ``j * dw``; in the flat layout the whole output plane of one tap is then one contiguous
run::

    ywide[oy * Wp + ox] += w[f, c, i, j] * xpad[(oy + i * dh) * Wp + ox + j * dw]

for ``k = oy * Wp + ox`` in ``[0, oh * Wp)``. The ``Wp - ow`` columns past ``ow`` of each wide
row are junk and are dropped when the plane is copied out. One long run per tap vectorises
fully, where im2col's rows of ``ow`` values spend most of their time in loop overhead, and
where a GEMM only ``C * kh * kw`` deep runs far below the BLAS peak: this is the fast path for
small convolutions (LeNet's 1 -> 6 and 6 -> 16 channel 5x5 layers). ``conv.py`` decides when.

Each kernel is one parallel loop over samples that pads its sample's planes into a private
buffer: a parallel region costs tens of microseconds to start, as much as a whole layer here.

Shapes follow ``conv2d_forward``: ``x (N, C, H, W)``, ``w (F, C // groups, kh, kw)``,
``y (N, F, oh, ow)``; padding is ``(top, bottom, left, right)``, dilation ``(dh, dw)``. Filter
``f`` reads the ``C // groups`` input channels of its group ``f // (F // groups)``.
"""

import numpy as np
from numba import njit, prange

from . import _config


def direct_forward(x, w, b, padding, dilation, groups, out_hw) -> np.ndarray:
    """``y[n, f] = b[f] + sum over the group's channels of x[n, c] (*) w[f, c]``; b may be None."""
    n, f = x.shape[0], w.shape[0]
    y = np.empty((n, f, *out_hw), x.dtype)
    bias = np.zeros(f, x.dtype) if b is None else b
    _forward_impl(x, w, bias, y, *padding, *dilation, groups)
    return y


def direct_backward_input(gy, w, x_shape, padding, dilation, groups) -> np.ndarray:
    """Gradient with respect to ``x``, shape ``x_shape``.

    With stride 1 this is itself a stride-1 convolution, so it reuses the forward kernel: ``gy``
    padded by ``d * (k - 1) - p`` on each side, correlated with the filters rotated by 180
    degrees and with their ``F`` and ``C`` axes swapped within each group. Needs every padding
    at most ``d * (k - 1)`` (``conv.py`` checks; wider padding only adds zeros to discard).
    """
    f, cg, kh, kw = w.shape
    wt = w.reshape(groups, f // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    wt = np.ascontiguousarray(wt[..., ::-1, ::-1]).reshape(groups * cg, f // groups, kh, kw)
    (dh, dw), (pt, pb, pl, pr) = dilation, padding
    full = (dh * (kh - 1) - pt, dh * (kh - 1) - pb, dw * (kw - 1) - pl, dw * (kw - 1) - pr)
    return direct_forward(gy, wt, None, full, dilation, groups, x_shape[2:])


def direct_backward_weight(gy, x, w_shape, padding, dilation, groups) -> np.ndarray:
    """Gradient with respect to ``w``, shape ``w_shape``: one dot product per tap and sample."""
    # One partial per sample, written by one thread each, then summed over samples.
    partial = np.empty((x.shape[0], *w_shape), x.dtype)
    _backward_weight_impl(gy, x, partial, *padding, *dilation, groups)
    return partial.sum(axis=0)


# As in im2col.py, the inner loops index flat buffers with uint64 offsets: numba guards signed
# indices against negative wraparound, and that branch stops LLVM from vectorising them.


@njit(**_config.JIT)
def _pad_sample(x, b, pt, pb, pl, pr, tail):
    """Sample ``b`` of ``x`` as zero-padded flat planes, one every ``Hp * Wp + tail`` values.

    The ``tail`` zeros after each plane are read by the last tap's run, which starts
    ``(kw - 1) * dw`` columns into the last row.
    """
    c, h, wd = x.shape[1], x.shape[2], x.shape[3]
    wp = wd + pl + pr
    size = (h + pt + pb) * wp + tail
    xpad = np.zeros(c * size, x.dtype)
    for ci in range(c):
        for iy in range(h):
            row = ci * size + (iy + pt) * wp + pl
            for ix in range(wd):
                xpad[row + ix] = x[b, ci, iy, ix]
    return xpad, wp, size


@njit(**_config.PARALLEL)
def _forward_impl(x, w, bias, y, pt, pb, pl, pr, dh, dw, groups):
    """One sample per iteration; each output plane is accumulated wide, then its ``ow`` columns
    are kept."""
    n, f, oh, ow = y.shape
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    for b in prange(n):
        xpad, wp, size = _pad_sample(x, b, pt, pb, pl, pr, (kw - 1) * dw)
        run = np.uint64(oh * wp)
        acc = np.empty(run, y.dtype)
        for fo in range(f):
            acc[:] = bias[fo]
            c0 = fo // (f // groups) * cg
            for ci in range(cg):
                plane = (c0 + ci) * size
                for i in range(kh):
                    # Three taps a pass: acc is loaded and stored once for three multiply-adds;
                    # the loop is bound by loads and stores, not by arithmetic.
                    for j in range(0, kw - 2, 3):
                        t0, t1, t2 = w[fo, ci, i, j], w[fo, ci, i, j + 1], w[fo, ci, i, j + 2]
                        s0 = np.uint64(plane + i * dh * wp + j * dw)
                        s1, s2 = s0 + np.uint64(dw), s0 + np.uint64(2 * dw)
                        for k in range(run):
                            acc[k] += t0 * xpad[s0 + k] + t1 * xpad[s1 + k] + t2 * xpad[s2 + k]
                    for j in range(kw - kw % 3, kw):
                        tap = w[fo, ci, i, j]
                        s0 = np.uint64(plane + i * dh * wp + j * dw)
                        for k in range(run):
                            acc[k] += tap * xpad[s0 + k]
            for oy in range(oh):
                for ox in range(ow):
                    y[b, fo, oy, ox] = acc[oy * wp + ox]


@njit(**_config.PARALLEL)
def _backward_weight_impl(gy, x, partial, pt, pb, pl, pr, dh, dw, groups):
    """``partial[n, f, c, i, j]``: one sample's dot product of ``gy[n, f]``, widened with zero
    junk columns, with a tap's run of the padded input."""
    n, f, oh, ow = gy.shape
    cg, kh, kw = partial.shape[2], partial.shape[3], partial.shape[4]
    zero = x.dtype.type(0)
    for b in prange(n):
        xpad, wp, size = _pad_sample(x, b, pt, pb, pl, pr, (kw - 1) * dw)
        run = np.uint64(oh * wp)
        gyw = np.zeros(run, gy.dtype)
        for fo in range(f):
            for oy in range(oh):
                for ox in range(ow):
                    gyw[oy * wp + ox] = gy[b, fo, oy, ox]
            c0 = fo // (f // groups) * cg
            for ci in range(cg):
                plane = (c0 + ci) * size
                for i in range(kh):
                    # Three taps a pass share each load of gy, as in the forward kernel.
                    for j in range(0, kw - 2, 3):
                        s0 = np.uint64(plane + i * dh * wp + j * dw)
                        s1, s2 = s0 + np.uint64(dw), s0 + np.uint64(2 * dw)
                        t0 = t1 = t2 = zero
                        for k in range(run):
                            t0 += gyw[k] * xpad[s0 + k]
                            t1 += gyw[k] * xpad[s1 + k]
                            t2 += gyw[k] * xpad[s2 + k]
                        partial[b, fo, ci, i, j] = t0
                        partial[b, fo, ci, i, j + 1] = t1
                        partial[b, fo, ci, i, j + 2] = t2
                    for j in range(kw - kw % 3, kw):
                        s0 = np.uint64(plane + i * dh * wp + j * dw)
                        t0 = zero
                        for k in range(run):
                            t0 += gyw[k] * xpad[s0 + k]
                        partial[b, fo, ci, i, j] = t0
