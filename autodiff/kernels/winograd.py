"""Winograd F(4x4, 3x3) convolution for 3x3 filters, stride 1, dilation 1, one group.

Each 4x4 block of output comes from a 6x6 tile of padded input ``d`` (tiles overlap by 2)::

    y_tile = A^T [(G w G^T) * (B^T d B)] A        (* is the elementwise product)

with Lavin and Gray's matrices (interpolation points 0, 1, -1, 2, -2 and infinity)::

    B^T = [[4,  0, -5,  0, 1, 0],     G = [[ 1/4,     0,    0],     A^T = [[1, 1,  1, 1,  1, 0],
           [0, -4, -4,  1, 1, 0],          [-1/6,  -1/6, -1/6],            [0, 1, -1, 2, -2, 0],
           [0,  4, -4, -1, 1, 0],          [-1/6,   1/6, -1/6],            [0, 1,  1, 4,  4, 0],
           [0, -2, -1,  2, 1, 0],          [1/24, 1/12,  1/6],            [0, 1, -1, 8, -8, 1]]
           [0,  2, -1, -2, 1, 0],          [1/24, -1/12, 1/6],
           [0,  4,  0, -5, 0, 1]]          [   0,     0,    1]]

Summed over input channels, the elementwise product becomes 36 independent GEMMs, one per
position ``k`` of the 6x6 transformed tile: 4x fewer multiplications than im2col's GEMM, and no
9-fold copy of the input. Layouts, for a chunk of ``nb`` samples with ``th = ceil(oh / 4)`` by
``tw = ceil(ow / 4)`` tiles each: tile (ty, tx) covers output rows ``4 ty .. 4 ty + 3`` and
columns ``4 tx .. 4 tx + 3`` and sits at slot ``t = (n * (th + 1) + ty) * cols + tx`` of
``T = nb * (th + 1) * cols``, ``cols = tw + 1``; the spare band ``ty == th`` and column
``tx == tw`` of every sample are scratch that keeps the kernels' loops long (see the note above
the kernels) and are never used::

    u = G w G^T              (36, F, C)   filter transform (one float64 GEMM over all filters)
    v = B^T d B              (36, C, T)   input transform (numba)
    m = u @ v                (36, F, T)   36 batched GEMMs (OpenBLAS)
    y = A^T m A              (N, F, oh, ow) output transform (numba), partial last tiles cropped

Gradients reuse the same pieces:

* ``gx`` is the same convolution of ``gy`` with the filters rotated by 180 degrees and the
  channel axes swapped, padded by ``2 - p`` on each side (negative padding crops).
* ``gw``: with ``z = u * v`` the product above, ``dL/dz = A gy_tile A^T`` (the 6x6 "gradient
  tile", ``gy`` zero beyond ``oh, ow``), so ``dL/du[k, f, c] = sum_t (A gy A^T)[k, f, t]
  v[k, c, t]`` (36 GEMMs ``v @ g`` contracting over tiles, ``g`` stored (36, T, F)) and
  ``gw = G^T (dL/du) G``.

The batch is split into one contiguous range per thread, each run single-threaded (``_split``),
and each range is chunked so that one transformed buffer stays about cache-sized (``_chunk``);
buffers are allocated once per range and reused by every chunk. The tile kernels are generic
over float32/float64 and multiply only by small integers (exact); the fractions of ``G`` are
applied in float64. The points +-2 make the transforms amplify rounding error more than
F(2x2, 3x3) does: several times torch's float32 error on realistic layers, where im2col's is
about torch's (``python -m benchmarks.conv_tuning accuracy``), so it runs only on request
(``ENABLED``).
"""

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from . import _config
from ._checks import ConvGeometry
from .blas import one_thread

# (G ⊗ G)[6 a + b, 3 i + j] = G[a, i] G[b, j], so that G w G^T is one GEMM over all filters.
_G = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ]
)
_GG = np.kron(_G, _G)


#: Off by default: F(4x4, 3x3)'s float32 error is several times torch's, past the twice torch's
#: that a fast path may cost (tests/kernels/test_conv_accuracy.py). Set True to trade that
#: accuracy for speed on wide 3x3 layers; read when a convolution chooses its algorithm.
ENABLED = False


def supports(g: ConvGeometry) -> bool:
    """When ``ENABLED``: 3x3 filters, stride 1, dilation 1, one group, at least
    ``_config.WINOGRAD_MIN_CHANNELS`` channels each way and
    ``_config.WINOGRAD_MIN_PIXELS_PER_CHANNEL * max(C, F)`` output pixels per plane."""
    win = g.window
    if not ENABLED or (win.kh, win.kw) != (3, 3) or win.stride != (1, 1) or win.dilation != (1, 1):
        return False
    c, f = g.x_shape[1], g.w_shape[0]
    wide = min(c, f) >= _config.WINOGRAD_MIN_CHANNELS
    tiled = win.oh * win.ow >= _config.WINOGRAD_MIN_PIXELS_PER_CHANNEL * max(c, f)
    return g.groups == 1 and wide and tiled


def forward(x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
    """``y (N, F, oh, ow)`` from ``x (N, C, H, W)``, ``w (F, C, 3, 3)``, ``b (F,)`` or None."""
    return _correlate(x, w, b, g.window.padding, g.window.out_hw)


def backward_input(gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``x``, shape ``g.x_shape``.

    The "full" correlation of ``gy`` (N, F, oh, ow) with ``w`` (F, C, 3, 3) rotated by 180
    degrees and transposed to (C, F, 3, 3), padded by ``2 - p`` per side; dtype of ``gy``.
    """
    top, bottom, left, right = g.window.padding
    w_rot = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    flipped = (2 - top, 2 - bottom, 2 - left, 2 - right)
    return _correlate(gy, w_rot, None, flipped, g.x_shape[2:])


def backward_weight(gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Gradient with respect to ``w``: shape (F, C, 3, 3), dtype of ``x``.

    ``gy`` is (N, F, oh, ow) and ``x`` (N, C, H, W), both C-contiguous. Per chunk,
    ``gu += v @ (A gy A^T)`` over tiles, then ``gw = G^T gu G``.
    """
    padding = g.window.padding
    n, c = x.shape[:2]
    f, oh, ow = gy.shape[1:]
    th, cols = -(-oh // 4), -(-ow // 4) + 1
    tiles = (th + 1) * cols
    chunk = _chunk(n, max(c, f), tiles, x.itemsize)

    def samples(lo: int, hi: int) -> np.ndarray:
        v_buf = np.empty(36 * c * chunk * tiles, x.dtype)
        g_buf = np.empty(36 * f * chunk * tiles, x.dtype)
        gu = np.zeros((36, c, f), x.dtype)
        part = np.empty_like(gu)
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            v = v_buf[: 36 * c * nb * tiles].reshape(36, c, nb * tiles)
            _input_transform_impl(
                x[n0 : n0 + nb], v, padding[0], padding[2], th, cols, _block(tiles)
            )
            _clear_spare_slots_impl(v, th, cols)
            g = g_buf[: 36 * f * nb * tiles].reshape(36, nb * tiles, f)
            _grad_transform_impl(gy[n0 : n0 + nb], g, th, cols)
            np.matmul(v, g, out=part)
            gu += part
        return gu

    # gw[f, c, i, j] = sum_k (G ⊗ G)[k, 3 i + j] gu[k, c, f], in float64 as filter_transform.
    gu = sum(_split(samples, n, chunk)).reshape(36, c * f)
    gw = (_GG.T @ gu.astype(np.float64)).reshape(9, c, f)
    return np.ascontiguousarray(gw.transpose(2, 1, 0).reshape(f, c, 3, 3), dtype=x.dtype)


def _correlate(x: np.ndarray, w: np.ndarray, b, padding: tuple, out_hw: tuple) -> np.ndarray:
    """Cross-correlate ``x`` with 3x3 filters ``w``, stride 1, by Winograd F(4x4, 3x3).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64, C-contiguous
    w : ndarray, shape (F, C, 3, 3), dtype of ``x``
    b : ndarray, shape (F,), dtype of ``x``, or None
    padding : (top, bottom, left, right)
        Zero padding; entries may be negative (crop), as the input-gradient path needs.
    out_hw : (oh, ow)
        ``(H + top + bottom - 2, W + left + right - 2)``, both >= 1.

    Returns
    -------
    y : ndarray, shape (N, F, oh, ow), dtype of ``x``
    """
    n, c = x.shape[:2]
    f = w.shape[0]
    oh, ow = out_hw
    th, cols = -(-oh // 4), -(-ow // 4) + 1
    tiles = (th + 1) * cols
    u = filter_transform(w)
    bias = np.zeros(f, x.dtype) if b is None else b
    y = np.empty((n, f, oh, ow), x.dtype)
    chunk = _chunk(n, max(c, f), tiles, x.itemsize)

    def samples(lo: int, hi: int) -> None:
        v_buf = np.empty(36 * c * chunk * tiles, x.dtype)
        m_buf = np.empty(36 * f * chunk * tiles, x.dtype)
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            # Flat buffers sliced then reshaped, so a short last chunk is still C-contiguous.
            v = v_buf[: 36 * c * nb * tiles].reshape(36, c, nb * tiles)
            _input_transform_impl(
                x[n0 : n0 + nb], v, padding[0], padding[2], th, cols, _block(tiles)
            )
            m = m_buf[: 36 * f * nb * tiles].reshape(36, f, nb * tiles)
            np.matmul(u, v, out=m)
            _output_transform_impl(m, bias, y[n0 : n0 + nb], th, cols, _block(tiles))

    _split(samples, n, chunk)
    return y


def _split(samples, n: int, chunk: int) -> list:
    """``[samples(lo, hi), ...]`` over contiguous ranges covering ``range(n)``, in parallel.

    One range per worker thread (``numba.get_num_threads()`` of them, at most one per chunk),
    each running the whole pipeline single-threaded, with BLAS limited to one thread meanwhile.
    Why not numba-parallel transforms around multithreaded GEMMs: OpenBLAS's workers spin after
    each GEMM and the numba workers then share the cores with them, and 36 GEMMs of 64 x 64 x
    ~200 split poorly over threads. The BLAS limit is process-wide: BLAS calls from other
    threads meanwhile run on one thread too.
    """
    workers = max(1, min(numba.get_num_threads(), -(-n // chunk)))
    if workers == 1:
        return [samples(0, n)]
    bounds = [n * i // workers for i in range(workers + 1)]
    global _POOL, _POOL_WORKERS
    with _LOCK:
        if _POOL is None or workers > _POOL_WORKERS:
            _POOL = ThreadPoolExecutor(workers, thread_name_prefix="autodiff-winograd")
            _POOL_WORKERS = workers
        pool = _POOL
    with one_thread():
        runs = [pool.submit(samples, lo, hi) for lo, hi in itertools.pairwise(bounds)]
        return [r.result() for r in runs]


# Created on first use.
_POOL = None
_POOL_WORKERS = 0
_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist there (and a lock one of
    them held stays held), so start afresh."""
    global _POOL, _LOCK
    _POOL = None
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def filter_transform(w: np.ndarray) -> np.ndarray:
    """``u[k, f, c] = (G w[f, c] G^T)[k // 6, k % 6]``: (F, C, 3, 3) -> (36, F, C), same dtype.

    Computed in float64, so the fractions of ``G`` cost float32 one rounding only.
    """
    f, c = w.shape[:2]
    u = _GG @ w.reshape(f * c, 9).T.astype(np.float64)
    return u.astype(w.dtype).reshape(36, f, c)


def _chunk(n: int, channels: int, tiles: int, itemsize: int) -> int:
    """Samples per chunk, for ``max(C, F) = channels`` and ``tiles`` slots per plane.

    One transformed buffer (``36 * channels * tiles`` values per sample) stays under
    ``_TILE_BUFFER_BYTES``, unless that leaves the GEMMs fewer tile columns than ``channels``:
    each chunk's GEMMs read all of ``u`` (``36 * F * C`` values), so thinner ones only stream
    filters. Never over ``_config.COLS_BUDGET_BYTES``, and at least 1.
    """
    per_sample = 36 * channels * tiles * itemsize
    nb = max(_TILE_BUFFER_BYTES // per_sample, -(-channels // tiles))
    return int(max(1, min(n, nb, _config.COLS_BUDGET_BYTES // per_sample)))


# Bytes of one transformed buffer per chunk: the transforms write and read these buffers at
# cache speed only while chunks are small, and the GEMMs get thin (per-call overhead) when they
# are too small (python -m benchmarks.tuning tile_buffer).
_TILE_BUFFER_BYTES = 2 * 2**20


def _block(slots: int) -> int:
    """Planes per kernel block: the scratch (about 36 values per tile slot) stays in L2."""
    return max(1, _SCRATCH_ELEMENTS // (36 * slots))


_SCRATCH_ELEMENTS = 2**15


# The input and output transforms work on blocks of planes whose tiles are consecutive in the
# transformed buffers (the gradient transform on one sample's planes, filters innermost), and
# give every plane one spare band and one spare column of tiles (``ty == th`` or ``tx == tw``,
# whose values are never used; zero in the gradient tiles): tile slot ``u = ty * cols + tx`` of
# plane p, the slot one band down, ``u + cols``, and the input columns ``4 u .. 4 u + 5`` of a
# row laid out with 4 columns per slot then sit at fixed distances from the block's start, so
# each transform step is one long loop over the block (loops over one row of tiles are too
# short for LLVM's vector body and run scalar). The spare band and column cost
# ``1 / th + 1 / tw`` more GEMM work. Flat views and uint64 offsets as in im2col.py keep
# numba's negative-index checks out of the loops.


@njit(**_config.JIT, inline="always")
def _steps(d0, dstep):
    """``d0 + i * dstep`` for ``i < 6``, as uint64 (an int64 would bring back index checks)."""
    d1 = d0 + dstep
    d2 = d1 + dstep
    d3 = d2 + dstep
    d4 = d3 + dstep
    return d0, d1, d2, d3, d4, d4 + dstep


@njit(**_config.JIT, inline="always")
def _bt(dst, d0, dstep, src, s, sstride, n):
    """``dst[d0 + i * dstep + t] = sum_k B^T[i, k] src[s[k] + t * sstride]`` for ``t < n``.

    All offsets are uint64; ``s`` is a 6-tuple.
    """
    d0, d1, d2, d3, d4, d5 = _steps(d0, dstep)
    s0, s1, s2, s3, s4, s5 = s
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
def _at(dst, d0, dstep, src, s0, sstep, n):
    """``dst[d0 + i * dstep + t] = sum_k A^T[i, k] src[s0 + k * sstep + t]`` for ``t < n``."""
    d0, d1, d2, d3, _, _ = _steps(d0, dstep)
    s0, s1, s2, s3, s4, s5 = _steps(s0, sstep)
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
def _a(dst, d0, dstep, src, s0, sstep, n):
    """``dst[d0 + i * dstep + t] = sum_k A[i, k] src[s0 + k * sstep + t]`` for ``t < n``."""
    d0, d1, d2, d3, d4, d5 = _steps(d0, dstep)
    s0, s1, s2, s3, _, _ = _steps(s0, sstep)
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


@njit(**_config.JIT)
def _input_transform_impl(x, v, pt, pl, th, cols, block):
    """``v[k, c, (n, u)] = (B^T d B)[k]`` for the 6x6 tile ``d`` of zero-padded ``x`` at slot u.

    ``x`` is (nb, C, H, W), ``v`` is (36, C, nb * (th + 1) * cols). Tile (ty, tx) starts at row
    ``4 ty - pt``, column ``4 tx - pl`` of ``x``; ``pt``/``pl`` may be negative.
    """
    nb, c, h, w = x.shape
    xf = x.ravel()
    vf = v.ravel()
    bands = th + 1
    slots = bands * cols
    planes = nb * c
    stride_k = np.uint64(planes * slots)
    stride_k6 = np.uint64(6) * stride_k
    ucols = np.uint64(cols)
    # lines[r % 4] holds padded row 4 ty + r % 4 of every band of the block, 4 columns per
    # slot, so B^T along the rows reads tile (ty, tx) at 4 * slot + 0..5 of one flat array
    # (the spare column's tile reads into the next row: its values are never used).
    # rows[6 (r % 4) + j] is column j of B applied along those rows. Both end with one zero
    # band, read by the last plane's extra band only.
    wl = 4 * cols
    llen = np.uint64((block * bands + 1) * wl)
    rlen = np.uint64((block * bands + 1) * cols)
    rlen6 = np.uint64(6) * rlen
    lines = np.zeros(4 * (block * bands + 1) * wl, x.dtype)
    rows = np.empty(24 * (block * bands + 1) * cols, x.dtype)
    lo = max(0, pl)
    hi = min(wl, w + pl)
    for p0 in range(0, planes, block):
        held = min(block, planes - p0)  # planes in this block
        for k in range(held):
            # Slots run over (c, n); x is stored (n, c).
            ci = (p0 + k) // nb
            n = p0 + k - ci * nb
            plane = (n * c + ci) * h * w
            # Only the rows and columns inside x: the padding around them is at the same
            # places in every block, so it stays zero from the allocation on.
            for r in range(max(0, pt), min(4 * bands, h + pt)):
                dst = np.uint64(r % 4) * llen + np.uint64((k * bands + r // 4) * wl)
                src = np.uint64(plane + (r - pt) * w - pl)
                for e in range(np.uint64(lo), np.uint64(hi)):
                    lines[dst + e] = xf[src + e]
        count = np.uint64(held * slots)
        for q in range(4):
            taps = _steps(np.uint64(q) * llen, np.uint64(1))
            _bt(rows, np.uint64(6 * q) * rlen, rlen, lines, taps, np.uint64(4), count)
        for e in range(24):
            end = np.uint64(e) * rlen + count
            rows[end : end + ucols] = 0
        # B^T down the columns: tile row i is rows[i % 4], one band (cols slots) on when i >= 4.
        base = np.uint64(p0 * slots)
        for j in range(6):
            s0, s1, s2, s3, _, _ = _steps(np.uint64(j) * rlen, rlen6)
            tile_rows = (s0, s1, s2, s3, s0 + ucols, s1 + ucols)
            out = np.uint64(j) * stride_k + base
            _bt(vf, out, stride_k6, rows, tile_rows, np.uint64(1), count)


@njit(**_config.JIT)
def _clear_spare_slots_impl(v, th, cols):
    """Zero the spare band and column of every plane of ``v``, (36, C, nb * (th + 1) * cols).

    The input transform fills them from the neighbouring rows and planes. The weight gradient
    multiplies them by zero gradient tiles, and an inf or NaN there would turn that zero into
    NaN in the gradient of another input channel.
    """
    vf = v.ravel()
    slots = (th + 1) * cols
    ucols = np.uint64(cols)
    for p in range(np.uint64(vf.size // slots)):
        base = p * np.uint64(slots)
        for ty in range(np.uint64(th)):
            vf[base + ty * ucols + ucols - 1] = 0
        band = base + np.uint64(th) * ucols
        vf[band : band + ucols] = 0


@njit(**_config.JIT)
def _output_transform_impl(m, bias, y, th, cols, block):
    """``y[n, f]`` tile (ty, tx) = ``A^T m[:, f, (n, u)] A + bias[f]``, cropped to (oh, ow).

    ``m`` is (36, F, nb * (th + 1) * cols); the spare band and column of each plane are
    ignored.
    """
    nb, f, oh, ow = y.shape
    mf = m.ravel()
    yf = y.ravel()
    slots = (th + 1) * cols
    planes = nb * f
    stride_k = np.uint64(planes * slots)
    stride_k6 = np.uint64(6) * stride_k
    clen = np.uint64(block * slots)
    clen6 = np.uint64(6) * clen
    four = np.uint64(4)
    down = np.empty(24 * block * slots, y.dtype)
    half = np.empty(4 * block * slots, y.dtype)
    for p0 in range(0, planes, block):
        held = min(block, planes - p0)
        count = np.uint64(held * slots)
        base = np.uint64(p0 * slots)
        # A^T down the columns: down[6 a + j] = row a of the 4x6 half-transformed tiles. Each
        # m[k] is read once: it is the largest buffer, and no longer in L1.
        for j in range(6):
            m0 = base + np.uint64(j) * stride_k
            _at(down, np.uint64(j) * clen, clen6, mf, m0, stride_k6, count)
        for a in range(4):
            # A along the rows: half[b] = output column b of output row a of each tile.
            _at(half, np.uint64(0), clen, down, np.uint64(6 * a) * clen, clen, count)
            # Scatter, dropping rows/columns past the edge. Slots run over (f, n); y is
            # stored (n, f).
            for k in range(held):
                fo = (p0 + k) // nb
                n = p0 + k - fo * nb
                bf = bias[fo]
                for ty in range(th):
                    r = 4 * ty + a
                    if r >= oh:
                        continue
                    row = np.uint64(((n * f + fo) * oh + r) * ow)
                    src = np.uint64(k * slots + ty * cols)
                    h0, h1, h2, h3, _, _ = _steps(src, clen)
                    for tx in range(np.uint64(ow // 4)):
                        o = row + four * tx
                        yf[o] = half[h0 + tx] + bf
                        yf[o + 1] = half[h1 + tx] + bf
                        yf[o + 2] = half[h2 + tx] + bf
                        yf[o + 3] = half[h3 + tx] + bf
                    last = src + np.uint64(ow // 4)  # the partial tile
                    for e in range(ow % 4):
                        col = np.uint64(ow - ow % 4 + e)
                        yf[row + col] = half[np.uint64(e) * clen + last] + bf


@njit(**_config.JIT)
def _grad_transform_impl(gy, g, th, cols):
    """``g[k, (n, u), f] = (A gy_tile A^T)[k]`` for the 4x4 tile of ``gy[n, f]`` at slot u.

    ``gy`` is (nb, F, oh, ow), ``g`` is (36, nb * (th + 1) * cols, F): filters innermost, so
    the weight gradient's GEMMs are ``v @ g`` with neither operand transposed (faster in
    OpenBLAS than ``v @ g^T``: ``python -m benchmarks.conv_tuning gemm_layouts``). Entries past
    the edge of ``gy`` and the spare band and column of each plane are zero, so they add nothing
    to the weight gradient.
    """
    nb, f, oh, ow = gy.shape
    gyf = gy.ravel()
    gf = g.ravel()
    slots = (th + 1) * cols
    uf = np.uint64(f)
    plane = np.uint64(oh * ow)
    # One sample at a time: its (slot, filter) pairs run along every stream.
    count = np.uint64(slots * f)
    stride_k = np.uint64(nb) * count
    count4 = np.uint64(4) * count
    d = np.empty(16 * slots * f, gy.dtype)
    rows = np.empty(24 * slots * f, gy.dtype)
    for n in range(nb):
        # d[4 a + b] = gy[n, :, 4 ty + a, 4 tx + b] at slot (ty, tx), zero past the edges.
        d[:] = 0
        for a in range(4):
            for ty in range(th):
                r = 4 * ty + a
                if r >= oh:
                    continue
                for b in range(4):
                    for tx in range((ow - b + 3) // 4):
                        dst = np.uint64(4 * a + b) * count + np.uint64(ty * cols + tx) * uf
                        src = np.uint64((n * f * oh + r) * ow + 4 * tx + b)
                        for fo in range(uf):
                            d[dst + fo] = gyf[src + fo * plane]
        # A down the columns: rows[4 i + b] = row i of the 6x4 tiles; then A^T along the rows.
        for b in range(4):
            _a(rows, np.uint64(b) * count, count4, d, np.uint64(b) * count, count4, count)
        base = np.uint64(n) * count
        for i in range(6):
            out = np.uint64(6 * i) * stride_k + base
            _a(gf, out, stride_k, rows, np.uint64(4 * i) * count, count, count)
