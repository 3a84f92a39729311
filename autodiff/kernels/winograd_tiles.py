"""The tile transforms of Winograd F(m x m, 3x3), m in {2, 4} (``winograd.py`` drives them).

A tile of ``m x m`` outputs comes from an ``a x a`` tile of padded input, ``a = m + 2``; the
transformed buffers hold ``a * a`` positions. The kernels work on blocks of planes whose tiles
are consecutive in the transformed buffers (the gradient transform on one sample's planes,
filters innermost), and give every plane one spare band and one spare column of tiles
(``ty == th`` or ``tx == tw``, whose values are never used; zero in the gradient tiles): tile
slot ``u = ty * cols + tx`` of plane p, the slot one band down, ``u + cols``, and the input
columns ``m u .. m u + a - 1`` of a row laid out with m columns per slot then sit at fixed
distances from the block's start, so each transform step is one long loop over the block (loops
over one row of tiles are too short for LLVM's vector body and run scalar). The spare band and
column cost ``1 / th + 1 / tw`` more GEMM work. Flat views and uint64 offsets as in im2col.py
keep numba's negative-index checks out of the loops.

The 1-D transforms ``_bt``, ``_at`` and ``_a`` hold the matrices of both tile sizes, branching
on ``m`` once per call (outside their loops); their offset tuples always have 6 entries, of which
F(2x2) reads the first 4 (or 2). They multiply only by small integers (exact in floating point).
"""

import functools

import numpy as np
from numba import cfunc, njit

from . import _config, workers


@njit(**_config.JIT, inline="always")
def _steps(d0, dstep):
    """``d0 + i * dstep`` for ``i < 6``, as uint64 (an int64 would bring back index checks)."""
    d1 = d0 + dstep
    d2 = d1 + dstep
    d3 = d2 + dstep
    d4 = d3 + dstep
    return d0, d1, d2, d3, d4, d4 + dstep


@njit(**_config.JIT, inline="always")
def _bt(m, dst, d0, dstep, src, s, sstride, n):
    """``dst[d0 + i * dstep + t] = sum_k B^T[i, k] src[s[k] + t * sstride]`` for ``t < n``.

    All offsets are uint64; ``s`` is a 6-tuple.
    """
    d0, d1, d2, d3, d4, d5 = _steps(d0, dstep)
    s0, s1, s2, s3, s4, s5 = s
    if m == 2:
        for t in range(n):
            q = t * sstride
            a1 = src[s1 + q]
            a2 = src[s2 + q]
            dst[d0 + t] = src[s0 + q] - a2
            dst[d1 + t] = a1 + a2
            dst[d2 + t] = a2 - a1
            dst[d3 + t] = a1 - src[s3 + q]
        return
    for t in range(n):
        q = t * sstride
        a0 = src[s0 + q]
        a1 = src[s1 + q]
        a2 = src[s2 + q]
        a3 = src[s3 + q]
        a4 = src[s4 + q]
        a5 = src[s5 + q]
        # Shared partial sums: rows 1/2 and 3/4 differ only in the signs of a1 and a3.
        p = a4 - 4 * a2
        r = 4 * a1 - a3
        h = a4 - a2
        e = 2 * (a1 - a3)
        dst[d0 + t] = 4 * a0 - 5 * a2 + a4
        dst[d1 + t] = p - r
        dst[d2 + t] = p + r
        dst[d3 + t] = h - e
        dst[d4 + t] = h + e
        dst[d5 + t] = 4 * a1 - 5 * a3 + a5


@njit(**_config.JIT, inline="always")
def _at(m, dst, d0, dstep, src, s0, sstep, n):
    """``dst[d0 + i * dstep + t] = sum_k A^T[i, k] src[s0 + k * sstep + t]`` for ``t < n``."""
    d0, d1, d2, d3, _, _ = _steps(d0, dstep)
    s0, s1, s2, s3, s4, s5 = _steps(s0, sstep)
    if m == 2:
        for t in range(n):
            a1 = src[s1 + t]
            a2 = src[s2 + t]
            dst[d0 + t] = src[s0 + t] + a1 + a2
            dst[d1 + t] = a1 - a2 - src[s3 + t]
        return
    for t in range(n):
        a1 = src[s1 + t]
        a2 = src[s2 + t]
        a3 = src[s3 + t]
        a4 = src[s4 + t]
        p1 = a1 + a2
        m1 = a1 - a2
        p3 = a3 + a4
        m3 = a3 - a4
        dst[d0 + t] = src[s0 + t] + p1 + p3
        dst[d1 + t] = m1 + 2 * m3
        dst[d2 + t] = p1 + 4 * p3
        dst[d3 + t] = m1 + 8 * m3 + src[s5 + t]


@njit(**_config.JIT, inline="always")
def _a(m, dst, d0, dstep, src, s0, sstep, n):
    """``dst[d0 + i * dstep + t] = sum_k A[i, k] src[s0 + k * sstep + t]`` for ``t < n``."""
    d0, d1, d2, d3, d4, d5 = _steps(d0, dstep)
    s0, s1, s2, s3, _, _ = _steps(s0, sstep)
    if m == 2:
        for t in range(n):
            a0 = src[s0 + t]
            a1 = src[s1 + t]
            dst[d0 + t] = a0
            dst[d1 + t] = a0 + a1
            dst[d2 + t] = a0 - a1
            dst[d3 + t] = -a1
        return
    for t in range(n):
        a0 = src[s0 + t]
        a1 = src[s1 + t]
        a2 = src[s2 + t]
        a3 = src[s3 + t]
        e = a0 + a2
        o = a1 + a3
        e4 = a0 + 4 * a2
        o4 = 2 * a1 + 8 * a3
        dst[d0 + t] = a0
        dst[d1 + t] = e + o
        dst[d2 + t] = e - o
        dst[d3 + t] = e4 + o4
        dst[d4 + t] = e4 - o4
        dst[d5 + t] = a3


@njit(**_config.JIT, inline="always")
def _row(i, m, a, j, rlen, ucols):
    """Offset in ``rows`` of tile row ``i``, column ``j`` (meaningless for ``i >= a``)."""
    return np.uint64(a * (i % m) + j) * rlen + np.uint64(i // m) * ucols


@njit(**_config.JIT, inline="always")  # into its ranged kernel, below
def input_transform_impl(m, x, v, pt, pl, th, cols, block, start, stop):
    """``v[k, c, (n, u)] = (B^T d B)[k]`` for the ``a x a`` tile ``d`` of zero-padded ``x`` at
    slot u (``a = m + 2``), for planes ``(c, n)`` ``start .. stop`` of ``nb * C``.

    ``x`` is (nb, C, H, W), ``v`` is (a * a, C, nb * (th + 1) * cols). Tile (ty, tx) starts at
    row ``m ty - pt``, column ``m tx - pl`` of ``x``; ``pt``/``pl`` may be negative.
    """
    nb, c, h, w = x.shape
    xf = x.ravel()
    vf = v.ravel()
    a = m + 2
    bands = th + 1
    slots = bands * cols
    planes = nb * c
    stride_k = np.uint64(planes * slots)
    stride_ka = np.uint64(a) * stride_k
    ucols = np.uint64(cols)
    # lines[r % m] holds padded row m ty + r % m of every band of the block, m columns per
    # slot, so B^T along the rows reads tile (ty, tx) at m * slot + 0..a-1 of one flat array
    # (the spare column's tile reads into the next row: its values are never used).
    # rows[a (r % m) + j] is column j of B applied along those rows. Both end with one zero
    # band, read by the last plane's extra band only.
    wl = m * cols
    llen = np.uint64((block * bands + 1) * wl)
    rlen = np.uint64((block * bands + 1) * cols)
    lines = np.zeros(m * (block * bands + 1) * wl, x.dtype)
    rows = np.empty(m * a * (block * bands + 1) * cols, x.dtype)
    lo = max(0, pl)
    hi = min(wl, w + pl)
    for p0 in range(start, stop, block):
        held = min(block, stop - p0)  # planes in this block
        for k in range(held):
            # Slots run over (c, n); x is stored (n, c).
            ci = (p0 + k) // nb
            n = p0 + k - ci * nb
            plane = (n * c + ci) * h * w
            # Only the rows and columns inside x: the padding around them is at the same
            # places in every block, so it stays zero from the allocation on.
            for r in range(max(0, pt), min(m * bands, h + pt)):
                dst = np.uint64(r % m) * llen + np.uint64((k * bands + r // m) * wl)
                src = np.uint64(plane + (r - pt) * w - pl)
                for e in range(np.uint64(lo), np.uint64(hi)):
                    lines[dst + e] = xf[src + e]
        count = np.uint64(held * slots)
        for q in range(m):
            taps = _steps(np.uint64(q) * llen, np.uint64(1))
            _bt(m, rows, np.uint64(a * q) * rlen, rlen, lines, taps, np.uint64(m), count)
        for e in range(m * a):
            end = np.uint64(e) * rlen + count
            rows[end : end + ucols] = 0
        # B^T down the columns: tile row i is rows[a (i % m) + j], one band on per m rows.
        base = np.uint64(p0 * slots)
        for j in range(a):
            tile_rows = (
                _row(0, m, a, j, rlen, ucols),
                _row(1, m, a, j, rlen, ucols),
                _row(2, m, a, j, rlen, ucols),
                _row(3, m, a, j, rlen, ucols),
                _row(4, m, a, j, rlen, ucols),
                _row(5, m, a, j, rlen, ucols),
            )
            out = np.uint64(j) * stride_k + base
            _bt(m, vf, out, stride_ka, rows, tile_rows, np.uint64(1), count)


@njit(**_config.JIT, inline="always")  # into its ranged kernel, below
def clear_spare_slots_impl(v, th, cols, start, stop):
    """Zero the spare band and column of planes ``start .. stop`` of the ``a * a * C * nb`` of
    ``v``, (a * a, C, nb * (th + 1) * cols).

    The input transform fills them from the neighbouring rows and planes. The weight gradient
    multiplies them by zero gradient tiles, and an inf or NaN there would turn that zero into
    NaN in the gradient of another input channel.
    """
    vf = v.ravel()
    slots = (th + 1) * cols
    ucols = np.uint64(cols)
    for p in range(np.uint64(start), np.uint64(stop)):
        base = p * np.uint64(slots)
        for ty in range(np.uint64(th)):
            vf[base + ty * ucols + ucols - 1] = 0
        band = base + np.uint64(th) * ucols
        vf[band : band + ucols] = 0


@njit(**_config.JIT, inline="always")  # into its ranged kernel, below
def output_transform_impl(m, mm, bias, y, th, cols, block, start, stop):
    """``y[n, f]`` tile (ty, tx) = ``A^T mm[:, f, (n, u)] A + bias[f]``, cropped to (oh, ow), for
    planes ``(f, n)`` ``start .. stop`` of ``nb * F``.

    ``mm`` is (a * a, F, nb * (th + 1) * cols); the spare band and column of each plane are
    ignored.
    """
    nb, f, oh, ow = y.shape
    mf = mm.ravel()
    yf = y.ravel()
    a = m + 2
    slots = (th + 1) * cols
    planes = nb * f
    stride_k = np.uint64(planes * slots)
    stride_ka = np.uint64(a) * stride_k
    clen = np.uint64(block * slots)
    clen_a = np.uint64(a) * clen
    um = np.uint64(m)
    down = np.empty(m * a * block * slots, y.dtype)
    half = np.empty(m * block * slots, y.dtype)
    for p0 in range(start, stop, block):
        held = min(block, stop - p0)
        count = np.uint64(held * slots)
        base = np.uint64(p0 * slots)
        # A^T down the columns: down[a i + j] = row i of the m x a half-transformed tiles.
        # Each mm[k] is read once: it is the largest buffer, and no longer in L1.
        for j in range(a):
            m0 = base + np.uint64(j) * stride_k
            _at(m, down, np.uint64(j) * clen, clen_a, mf, m0, stride_ka, count)
        for i in range(m):
            # A along the rows: half[e] = output column e of output row i of each tile.
            _at(m, half, np.uint64(0), clen, down, np.uint64(a * i) * clen, clen, count)
            # Scatter, dropping rows/columns past the edge. Slots run over (f, n); y is
            # stored (n, f).
            for k in range(held):
                fo = (p0 + k) // nb
                n = p0 + k - fo * nb
                bf = bias[fo]
                for ty in range(th):
                    r = m * ty + i
                    if r >= oh:
                        continue
                    row = np.uint64(((n * f + fo) * oh + r) * ow)
                    src = np.uint64(k * slots + ty * cols)
                    for e in range(m):
                        h = np.uint64(e) * clen + src
                        o = row + np.uint64(e)
                        for tx in range(np.uint64((ow - e + m - 1) // m)):
                            yf[o + um * tx] = half[h + tx] + bf


@njit(**_config.JIT, inline="always")  # into its ranged kernel, below
def grad_transform_impl(m, gy, g, th, cols, start, stop):
    """``g[k, (n, u), f] = (A gy_tile A^T)[k]`` for the m x m tile of ``gy[n, f]`` at slot u, for
    samples ``start .. stop`` of ``nb``.

    ``gy`` is (nb, F, oh, ow), ``g`` is (a * a, nb * (th + 1) * cols, F): filters innermost, so
    the weight gradient's GEMMs are ``v @ g`` with neither operand transposed (faster in
    OpenBLAS than ``v @ g^T``: ``python -m benchmarks.conv_tuning gemm_layouts``). Entries past
    the edge of ``gy`` and the spare band and column of each plane are zero, so they add nothing
    to the weight gradient.
    """
    nb, f, oh, ow = gy.shape
    gyf = gy.ravel()
    gf = g.ravel()
    a = m + 2
    slots = (th + 1) * cols
    uf = np.uint64(f)
    plane = np.uint64(oh * ow)
    # One sample at a time: its (slot, filter) pairs run along every stream.
    count = np.uint64(slots * f)
    stride_k = np.uint64(nb) * count
    count_m = np.uint64(m) * count
    d = np.empty(m * m * slots * f, gy.dtype)
    rows = np.empty(a * m * slots * f, gy.dtype)
    for n in range(start, stop):
        # d[m i + j] = gy[n, :, m ty + i, m tx + j] at slot (ty, tx), zero past the edges.
        d[:] = 0
        for i in range(m):
            for ty in range(th):
                r = m * ty + i
                if r >= oh:
                    continue
                for j in range(m):
                    for tx in range((ow - j + m - 1) // m):
                        dst = np.uint64(m * i + j) * count + np.uint64(ty * cols + tx) * uf
                        src = np.uint64((n * f * oh + r) * ow + m * tx + j)
                        for fo in range(uf):
                            d[dst + fo] = gyf[src + fo * plane]
        # A down the columns: rows[m i + j] = row i of the a x m tiles; then A^T along the rows.
        for j in range(m):
            _a(m, rows, np.uint64(j) * count, count_m, d, np.uint64(j) * count, count_m, count)
        base = np.uint64(n) * count
        for i in range(a):
            out = np.uint64(a * i) * stride_k + base
            _a(m, gf, out, stride_k, rows, np.uint64(m * i) * count, count, count)


# Each transform runs over a range of its planes (or samples) as a ranged kernel (workers.py), in
# float32, which Winograd's pipeline on the register tile calls on its own thread's chunk.


@functools.cache
def input_transform_kernel():
    """Block ``lo, hi, m, pt, pl, th, cols, block, x, v``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        x, at = workers.unpack(b, 8, 4, np.float32)
        v, _ = workers.unpack(b, at, 3, np.float32)
        input_transform_impl(b[2], x, v, b[3], b[4], b[5], b[6], b[7], b[0], b[1])

    return kernel


@functools.cache
def clear_spare_slots_kernel():
    """Block ``lo, hi, th, cols, v``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        v, _ = workers.unpack(b, 4, 3, np.float32)
        clear_spare_slots_impl(v, b[2], b[3], b[0], b[1])

    return kernel


@functools.cache
def output_transform_kernel():
    """Block ``lo, hi, m, th, cols, block, mm, bias, y``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        mm, at = workers.unpack(b, 6, 3, np.float32)
        bias, at = workers.unpack(b, at, 1, np.float32)
        y, _ = workers.unpack(b, at, 4, np.float32)
        output_transform_impl(b[2], mm, bias, y, b[3], b[4], b[5], b[0], b[1])

    return kernel


@functools.cache
def grad_transform_kernel():
    """Block ``lo, hi, m, th, cols, gy, g``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        gy, at = workers.unpack(b, 5, 4, np.float32)
        g, _ = workers.unpack(b, at, 3, np.float32)
        grad_transform_impl(b[2], gy, g, b[3], b[4], b[0], b[1])

    return kernel
