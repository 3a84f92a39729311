"""Direct convolution with stride 1 on batch-innermost chunks, no im2col and no GEMM.

The batch is cut into chunks of ``nc`` samples (one or more per thread). Each chunk is copied
into a zero-padded, batch-innermost buffer ``xt[c, y, x, s]`` of shape ``(C, Hp, Wp, nc)``.
With stride 1, output row ``oy`` of filter ``f`` is then one contiguous run of ``ow * nc``
values, and for tap ``t = (c, i, j)`` the input it reads is another contiguous run, at offset
``off[t] * nc`` from the row's start::

    yrow[f][k] += w[f, c, i, j] * xt[(oy * Wp) * nc + off[t] * nc + k],  k < ow * nc,
    off[t] = c * Hp * Wp + i * dh * Wp + j * dw

Runs are long (LeNet's 6 -> 16 layer at batch 64 on two threads: 320 values) and hold no
padding columns, so the loops vectorise fully. Each pass over a run applies ``FB`` filters
times ``TB`` taps (``_add_taps``): the ``TB`` input values loaded at ``k`` feed ``FB * TB``
multiply-adds, where one filter at a time was bound by loads. Filters and taps are padded with
zero weights to multiples of ``FB`` and ``TB`` (``_pack_weights``).

This is the fast path for small convolutions, where a GEMM only ``C * kh * kw`` deep runs far
below the BLAS peak (``supports`` says when). Each kernel is a serial loop over a range of
chunks, run one range per numba thread as a ranged kernel (``workers.py``): numba's parallel
build of these loops took twice as long to compile, on every machine's first run.

Shapes follow ``conv2d_forward``: ``x (N, C, H, W)``, ``w (F, C // groups, kh, kw)``,
``y (N, F, oh, ow)``; padding is ``(top, bottom, left, right)``, dilation ``(dh, dw)``. Filter
``f`` reads the ``C // groups`` input channels of its group ``f // (F // groups)``.
"""

import functools

import numba
import numpy as np
from numba import cfunc, njit

from . import _config, buffers, workers
from ._checks import ConvGeometry

#: Filters and taps per pass over a run: 3 x 5 keeps the 15 weights, 3 sums and 5 inputs in
#: registers, and pads LeNet's 6 filters less than 4 would.
FB, TB = 3, 5


def supports(g: ConvGeometry) -> bool:
    """Stride 1, padding within the dilated kernel's reach, at most
    ``_config.DIRECT_MAX_GROUP_WEIGHTS`` weights per group, and not depthwise (``depthwise.py``
    is faster there) unless ``C == 1``."""
    return _takes(g, _config.DIRECT_MAX_GROUP_WEIGHTS)


def supports_weight_gradient(g: ConvGeometry) -> bool:
    """As :func:`supports`, up to ``_config.DIRECT_WEIGHT_GRADIENT_MAX_GROUP_WEIGHTS`` weights per
    group, and with runs (output columns times the samples of a chunk, what each inner loop
    covers) of at least ``_config.DIRECT_WEIGHT_GRADIENT_MIN_RUN``: the limits for running only
    the weight gradient here."""
    n, c, h, wd = g.x_shape
    pt, pb, pl, pr = g.window.padding
    chunks = _chunks(n, c * (h + pt + pb) * (wd + pl + pr) * g.dtype.itemsize)
    run = g.window.ow * (n // chunks) if chunks else 0
    return run >= _config.DIRECT_WEIGHT_GRADIENT_MIN_RUN and _takes(
        g, _config.DIRECT_WEIGHT_GRADIENT_MAX_GROUP_WEIGHTS
    )


def _takes(g: ConvGeometry, max_group_weights: int) -> bool:
    c = g.x_shape[1]
    f, cg, kh, kw = g.w_shape
    (dh, dw), (pt, pb, pl, pr) = g.window.dilation, g.window.padding
    # backward_input pads gy by d * (k - 1) - p, which must not be negative
    fits = max(pt, pb) <= dh * (kh - 1) and max(pl, pr) <= dw * (kw - 1)
    small = f // g.groups * cg * kh * kw <= max_group_weights
    return g.window.stride == (1, 1) and fits and small and (cg > 1 or c == 1)


def forward(x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
    """``y[n, f] = b[f] + sum over the group's channels of x[n, c] (*) w[f, c]``; b may be None."""
    return _correlate(x, w, b, g.window.padding, g.window.dilation, g.groups, g.window.out_hw)


def backward_input(gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``x``, shape ``g.x_shape``.

    With stride 1 this is itself a stride-1 convolution, so it reuses the forward kernel: ``gy``
    padded by ``d * (k - 1) - p`` on each side, correlated with the filters rotated by 180
    degrees and with their ``F`` and ``C`` axes swapped within each group (``supports`` checks
    that padding is not negative; wider padding only adds zeros to discard).
    """
    f, cg, kh, kw = w.shape
    groups = g.groups
    wt = w.reshape(groups, f // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    wt = np.ascontiguousarray(wt[..., ::-1, ::-1]).reshape(groups * cg, f // groups, kh, kw)
    (dh, dw), (pt, pb, pl, pr) = g.window.dilation, g.window.padding
    full = (dh * (kh - 1) - pt, dh * (kh - 1) - pb, dw * (kw - 1) - pl, dw * (kw - 1) - pr)
    return _correlate(gy, wt, None, full, g.window.dilation, groups, g.x_shape[2:])


def backward_weight(gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``w``, shape ``g.w_shape``: per chunk, one dot product per filter
    and tap over the chunk's output rows, then summed over chunks."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = g.w_shape
    groups, dilation = g.groups, g.window.dilation
    pt, pb, pl, pr = g.window.padding
    hp, wp = h + pt + pb, wd + pl + pr
    off = _tap_offsets(g.w_shape, hp, wp, dilation)
    chunks = _chunks(n, c * hp * wp * x.itemsize)
    nfb, ntg = -(-f // groups // FB), off.size // TB
    partial = np.zeros((chunks, groups, nfb, ntg, FB, TB), x.dtype)
    kernel = _ranged_backward_weight(x.dtype.type)
    workers.split(kernel, chunks, chunks, pt, pl, hp, wp, chunks, gy, x, off, partial)
    # (G, nfb, ntg, FB, TB) -> (G, nfb * FB, ntg * TB), then the real filters and taps
    gw = partial.sum(axis=0).transpose(0, 1, 3, 2, 4).reshape(groups, nfb * FB, ntg * TB)
    out = np.empty(g.w_shape, x.dtype)
    np.copyto(out.reshape(gw.shape[0], f // groups, -1), gw[:, : f // groups, : cg * kh * kw])
    return out


def _pack_weights(w, groups) -> np.ndarray:
    """``w`` in pass order, ``(G, nfb, ntg, FB, TB)``: group, block of ``FB`` filters, group of
    ``TB`` taps, with zero weights for the padding filters and taps."""
    f, cg, kh, kw = w.shape
    fg, taps = f // groups, cg * kh * kw
    nfb, ntg = -(-fg // FB), -(-taps // TB)
    wg = np.zeros((groups, nfb * FB, ntg * TB), w.dtype)
    wg[:, :fg, :taps] = w.reshape(groups, fg, taps)
    return np.ascontiguousarray(wg.reshape(groups, nfb, FB, ntg, TB).transpose(0, 1, 3, 2, 4))


def _tap_offsets(w_shape, hp, wp, dilation) -> np.ndarray:
    """``(ntg * TB,)``: each tap's offset in padded pixels from its group's first channel, in
    ``_pack_weights``' tap order; the padding taps read offset 0 (with zero weights)."""
    _, cg, kh, kw = w_shape
    ci, i, j = np.meshgrid(np.arange(cg), np.arange(kh), np.arange(kw), indexing="ij")
    off = np.zeros(-(-ci.size // TB) * TB, np.int64)
    off[: ci.size] = (ci * hp * wp + i * dilation[0] * wp + j * dilation[1]).ravel()
    return off


def _chunks(n, sample_bytes) -> int:
    """How many chunks to cut ``n`` samples into: a multiple of the thread count (so no thread
    idles through a last round) with each chunk's padded input under
    ``_config.DIRECT_CHUNK_BYTES``."""
    threads = numba.get_num_threads()
    by_size = -(-n * sample_bytes // _config.DIRECT_CHUNK_BYTES)
    return min(n, -(-max(by_size, 1) // threads) * threads)


def _correlate(x, w, b, padding, dilation, groups, out_hw) -> np.ndarray:
    """The forward on plain geometry: ``padding`` (top, bottom, left, right) >= 0."""
    n, c, h, wd = x.shape
    pt, pb, pl, pr = padding
    hp, wp = h + pt + pb, wd + pl + pr
    off = _tap_offsets(w.shape, hp, wp, dilation)
    y = buffers.empty((n, w.shape[0], *out_hw), x.dtype)
    bias = np.zeros(w.shape[0], x.dtype) if b is None else b
    chunks = _chunks(n, c * hp * wp * x.itemsize)
    wb = _pack_weights(w, groups)
    kernel = _ranged_forward(x.dtype.type)
    workers.split(kernel, chunks, chunks, pt, pl, hp, wp, chunks, x, wb, off, bias, y)
    return y


@njit(**_config.JIT)
def _chunk(a, ch, chunks, pt, pl, hp, wp):
    """Chunk ``ch`` of ``chunks`` of ``a (N, C, H, W)``: its first sample ``n0``, its size
    ``nc``, and its samples zero-padded into a flat ``(C, hp, wp, nc)`` buffer."""
    n, c, h, wd = a.shape
    n0 = ch * n // chunks
    nc = (ch + 1) * n // chunks - n0
    out = np.zeros(c * hp * wp * nc, a.dtype)
    # One padded row of all the chunk's samples at a time, so its writes stay in cache. Flat
    # uint64 offsets (see the note before ``_add_taps``) keep its machine code, and so the
    # compile time of both kernels that inline it, small.
    af = a.ravel()
    step = np.uint64(nc)
    for ci in range(c):
        for iy in range(h):
            row = np.uint64(((ci * hp + iy + pt) * wp + pl) * nc)
            for s in range(nc):
                src = np.uint64((((n0 + s) * c + ci) * h + iy) * wd)
                dst = row + np.uint64(s)
                for ix in range(np.uint64(wd)):
                    out[dst + ix * step] = af[src + ix]
    return n0, nc, out


# Inlined into its ranged kernel: compiled once there, rather than compiled and then optimised
# again with it (0.25 s more on a first run).
@njit(**_config.JIT, inline="always")
def _forward_impl(x, wb, off, bias, y, pt, pl, hp, wp, chunks, lo, hi):
    """Chunks ``lo .. hi`` of ``chunks``; output rows are accumulated in ``acc`` ``FB`` filters
    at a time, then scattered back to ``y``'s sample-major layout."""
    n, f, oh, ow = y.shape
    groups, nfb, ntg = wb.shape[0], wb.shape[1], wb.shape[2]
    fg, cg = f // groups, x.shape[1] // groups
    for ch in range(lo, hi):
        n0, nc, xt = _chunk(x, ch, chunks, pt, pl, hp, wp)
        run = ow * nc
        acc = np.empty((FB, run), y.dtype)
        # The input rows of output row oy stay in cache across every filter block.
        for oy in range(oh):
            for g in range(groups):
                row = (g * cg * hp + oy) * wp * nc
                for fb in range(nfb):
                    f0 = g * fg + fb * FB
                    real = min(FB, (g + 1) * fg - f0)
                    for q in range(FB):
                        acc[q] = bias[f0 + q] if q < real else 0
                    for tg in range(ntg):
                        _add_taps(acc, xt, wb[g, fb, tg], off[tg * TB :], row, nc, run)
                    for q in range(real):
                        for s in range(nc):
                            for ox in range(ow):
                                y[n0 + s, f0 + q, oy, ox] = acc[q, ox * nc + s]


@njit(**_config.JIT, inline="always")  # as _forward_impl
def _backward_weight_impl(gy, x, off, partial, pt, pl, hp, wp, chunks, lo, hi):
    """``partial[chunk, g, fb, tg, q, m]`` for chunks ``lo .. hi``: the chunk's sum over output
    rows of filter ``fb * FB + q``'s gradient row dotted with tap ``tg * TB + m``'s input run."""
    n, f, oh, ow = gy.shape
    groups, nfb, ntg = partial.shape[1], partial.shape[2], partial.shape[3]
    fg, cg = f // groups, x.shape[1] // groups
    for ch in range(lo, hi):
        n0, nc, xt = _chunk(x, ch, chunks, pt, pl, hp, wp)
        run = ow * nc
        # gy rows in chunk layout, ``FB`` filters' rows together, zero rows for the padding
        # filters of each group
        gt = np.zeros((groups * nfb, oh, FB, run), gy.dtype)
        for g in range(groups):
            for q in range(fg):
                for oy in range(oh):
                    dst = gt[g * nfb + q // FB, oy, q % FB]
                    for s in range(nc):
                        for ox in range(ow):
                            dst[ox * nc + s] = gy[n0 + s, g * fg + q, oy, ox]
        for oy in range(oh):
            for g in range(groups):
                row = (g * cg * hp + oy) * wp * nc
                for fb in range(nfb):
                    rows = gt[g * nfb + fb, oy]
                    for tg in range(ntg):
                        _dot_taps(partial[ch, g, fb, tg], rows, xt, off[tg * TB :], row, nc, run)


@functools.cache
def _ranged_forward(dtype):
    """:func:`_forward_impl` as a ranged kernel (``workers.py``) for arrays of ``dtype``: block
    ``lo, hi, pt, pl, hp, wp, chunks, x, wb, off, bias, y``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        x, at = workers.unpack(b, 7, 4, dtype)
        wb, at = workers.unpack(b, at, 5, dtype)
        off, at = workers.unpack(b, at, 1, np.int64)
        bias, at = workers.unpack(b, at, 1, dtype)
        y, _ = workers.unpack(b, at, 4, dtype)
        _forward_impl(x, wb, off, bias, y, b[2], b[3], b[4], b[5], b[6], b[0], b[1])

    return kernel


@functools.cache
def _ranged_backward_weight(dtype):
    """:func:`_backward_weight_impl` as a ranged kernel for arrays of ``dtype``: block
    ``lo, hi, pt, pl, hp, wp, chunks, gy, x, off, partial``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        gy, at = workers.unpack(b, 7, 4, dtype)
        x, at = workers.unpack(b, at, 4, dtype)
        off, at = workers.unpack(b, at, 1, np.int64)
        partial, _ = workers.unpack(b, at, 6, dtype)
        _backward_weight_impl(gy, x, off, partial, b[2], b[3], b[4], b[5], b[6], b[0], b[1])

    return kernel


# The inner loops index flat buffers with uint64 offsets, as in im2col.py: numba guards signed
# indices against negative wraparound, and that branch stops LLVM from vectorising them. Their
# FB x TB bodies are written out so that every weight and sum is a scalar LLVM keeps in a
# register through the loop.


@njit(**_config.JIT)
def _add_taps(acc, xt, t, off, row, nc, run):
    """``acc[q, k] += sum_m t[q, m] * xt[row + off[m] * nc + k]`` for ``q < 3, m < 5, k < run``."""
    s0, s1, s2, s3, s4 = _starts(off, row, nc)
    w00, w01, w02, w03, w04 = t[0, 0], t[0, 1], t[0, 2], t[0, 3], t[0, 4]
    w10, w11, w12, w13, w14 = t[1, 0], t[1, 1], t[1, 2], t[1, 3], t[1, 4]
    w20, w21, w22, w23, w24 = t[2, 0], t[2, 1], t[2, 2], t[2, 3], t[2, 4]
    a0, a1, a2 = acc[0], acc[1], acc[2]
    for k in range(np.uint64(run)):
        x0, x1, x2, x3, x4 = xt[s0 + k], xt[s1 + k], xt[s2 + k], xt[s3 + k], xt[s4 + k]
        a0[k] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3 + w04 * x4
        a1[k] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3 + w14 * x4
        a2[k] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3 + w24 * x4


@njit(**_config.JIT)
def _dot_taps(out, g, xt, off, row, nc, run):
    """``out[q, m] += sum_k g[q, k] * xt[row + off[m] * nc + k]`` for ``q < 3, m < 5, k < run``."""
    s0, s1, s2, s3, s4 = _starts(off, row, nc)
    g0, g1, g2 = g[0], g[1], g[2]
    zero = out.dtype.type(0)
    d00 = d01 = d02 = d03 = d04 = d10 = d11 = d12 = d13 = d14 = zero
    d20 = d21 = d22 = d23 = d24 = zero
    for k in range(np.uint64(run)):
        x0, x1, x2, x3, x4 = xt[s0 + k], xt[s1 + k], xt[s2 + k], xt[s3 + k], xt[s4 + k]
        d00 += g0[k] * x0
        d01 += g0[k] * x1
        d02 += g0[k] * x2
        d03 += g0[k] * x3
        d04 += g0[k] * x4
        d10 += g1[k] * x0
        d11 += g1[k] * x1
        d12 += g1[k] * x2
        d13 += g1[k] * x3
        d14 += g1[k] * x4
        d20 += g2[k] * x0
        d21 += g2[k] * x1
        d22 += g2[k] * x2
        d23 += g2[k] * x3
        d24 += g2[k] * x4
    out[0, 0] += d00
    out[0, 1] += d01
    out[0, 2] += d02
    out[0, 3] += d03
    out[0, 4] += d04
    out[1, 0] += d10
    out[1, 1] += d11
    out[1, 2] += d12
    out[1, 3] += d13
    out[1, 4] += d14
    out[2, 0] += d20
    out[2, 1] += d21
    out[2, 2] += d22
    out[2, 3] += d23
    out[2, 4] += d24


@njit(**_config.JIT)
def _starts(off, row, nc):
    """The ``TB`` taps' run starts ``row + off[m] * nc`` as uint64 (see the note above)."""
    r, step = np.uint64(row), np.uint64(nc)
    return (
        r + np.uint64(off[0]) * step,
        r + np.uint64(off[1]) * step,
        r + np.uint64(off[2]) * step,
        r + np.uint64(off[3]) * step,
        r + np.uint64(off[4]) * step,
    )
