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
    """Sample ``b`` of ``x`` as zero-padded flat planes, one every ``Hp * Wp + tail`` values,
    and that plane size.

    The ``tail`` zeros after each plane are read by the last tap's run, which starts
    ``(kw - 1) * dw`` columns into the last row and may be rounded up (``_run_length``).
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
    return xpad, size


@njit(**_config.JIT)
def _run_length(wide):
    """``wide`` rounded up to a multiple of 32, as uint64: LLVM's vector loop takes 32 float32
    (four 8-wide vectors) an iteration, and a scalar remainder of up to 31 values cost as much
    as the vector part on runs of a few hundred (LeNet's 6 -> 16 layer: 140 values a run)."""
    return np.uint64((wide + 31) // 32 * 32)


@njit(**_config.PARALLEL)
def _forward_impl(x, w, bias, y, pt, pb, pl, pr, dh, dw, groups):
    """One sample per iteration; each output plane is accumulated wide, then its ``ow`` columns
    are kept."""
    n, f, oh, ow = y.shape
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    wp = x.shape[3] + pl + pr
    run = _run_length(oh * wp)
    for b in prange(n):
        xpad, size = _pad_sample(x, b, pt, pb, pl, pr, (kw - 1) * dw + run - oh * wp)
        acc = np.empty(run, y.dtype)
        for fo in range(f):
            acc[:] = bias[fo]
            c0 = fo // (f // groups) * cg
            for ci in range(cg):
                for i in range(kh):
                    start = (c0 + ci) * size + i * dh * wp
                    _add_row(acc, xpad, w[fo, ci, i], start, dw, run)
            for oy in range(oh):
                for ox in range(ow):
                    y[b, fo, oy, ox] = acc[oy * wp + ox]


@njit(**_config.PARALLEL)
def _backward_weight_impl(gy, x, partial, pt, pb, pl, pr, dh, dw, groups):
    """``partial[n, f, c, i, j]``: one sample's dot product of ``gy[n, f]``, widened with zero
    junk columns, with a tap's run of the padded input."""
    n, f, oh, ow = gy.shape
    cg, kh, kw = partial.shape[2], partial.shape[3], partial.shape[4]
    wp = x.shape[3] + pl + pr
    run = _run_length(oh * wp)
    for b in prange(n):
        xpad, size = _pad_sample(x, b, pt, pb, pl, pr, (kw - 1) * dw + run - oh * wp)
        gyw = np.zeros(run, gy.dtype)
        for fo in range(f):
            for oy in range(oh):
                for ox in range(ow):
                    gyw[oy * wp + ox] = gy[b, fo, oy, ox]
            c0 = fo // (f // groups) * cg
            for ci in range(cg):
                for i in range(kh):
                    start = (c0 + ci) * size + i * dh * wp
                    _dot_row(partial[b, fo, ci, i], gyw, xpad, start, dw, run)


# One row of ``kw`` taps is applied five, then three, then one tap a pass: each pass loads its
# run of ``acc`` (or ``gyw``) once for all its taps. These loops are bound by loads and stores,
# not arithmetic, so the passes with more taps are the faster ones (a 5x5 filter row in one
# pass runs about 1.4x faster than in three).


@njit(**_config.JIT)
def _add_row(acc, xpad, taps, start, dw, run):
    """``acc[k] += sum_j taps[j] * xpad[start + j * dw + k]`` for ``k < run``."""
    j = 0
    while taps.size - j >= 5:
        t0, t1, t2, t3, t4 = taps[j], taps[j + 1], taps[j + 2], taps[j + 3], taps[j + 4]
        s0, s1, s2, s3, s4 = _offsets5(start + j * dw, dw)
        for k in range(run):
            acc[k] += (
                t0 * xpad[s0 + k]
                + t1 * xpad[s1 + k]
                + t2 * xpad[s2 + k]
                + t3 * xpad[s3 + k]
                + t4 * xpad[s4 + k]
            )
        j += 5
    while taps.size - j >= 3:
        t0, t1, t2 = taps[j], taps[j + 1], taps[j + 2]
        s0, s1, s2, _, _ = _offsets5(start + j * dw, dw)
        for k in range(run):
            acc[k] += t0 * xpad[s0 + k] + t1 * xpad[s1 + k] + t2 * xpad[s2 + k]
        j += 3
    while j < taps.size:
        t0 = taps[j]
        s0 = np.uint64(start + j * dw)
        for k in range(run):
            acc[k] += t0 * xpad[s0 + k]
        j += 1


@njit(**_config.JIT)
def _dot_row(out, g, xpad, start, dw, run):
    """``out[j] = sum_k g[k] * xpad[start + j * dw + k]`` over ``k < run``, for every tap j."""
    zero = out.dtype.type(0)
    j = 0
    while out.size - j >= 5:
        s0, s1, s2, s3, s4 = _offsets5(start + j * dw, dw)
        a0 = a1 = a2 = a3 = a4 = zero
        for k in range(run):
            a0 += g[k] * xpad[s0 + k]
            a1 += g[k] * xpad[s1 + k]
            a2 += g[k] * xpad[s2 + k]
            a3 += g[k] * xpad[s3 + k]
            a4 += g[k] * xpad[s4 + k]
        out[j], out[j + 1], out[j + 2], out[j + 3], out[j + 4] = a0, a1, a2, a3, a4
        j += 5
    while out.size - j >= 3:
        s0, s1, s2, _, _ = _offsets5(start + j * dw, dw)
        a0 = a1 = a2 = zero
        for k in range(run):
            a0 += g[k] * xpad[s0 + k]
            a1 += g[k] * xpad[s1 + k]
            a2 += g[k] * xpad[s2 + k]
        out[j], out[j + 1], out[j + 2] = a0, a1, a2
        j += 3
    while j < out.size:
        s0 = np.uint64(start + j * dw)
        a0 = zero
        for k in range(run):
            a0 += g[k] * xpad[s0 + k]
        out[j] = a0
        j += 1


@njit(**_config.JIT)
def _offsets5(start, dw):
    """Five consecutive tap offsets ``start + m * dw`` as uint64 (see the note above)."""
    s0, step = np.uint64(start), np.uint64(dw)
    s1 = s0 + step
    s2 = s1 + step
    s3 = s2 + step
    return s0, s1, s2, s3, s3 + step
