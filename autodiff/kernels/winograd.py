"""Winograd F(m x m, 3x3) convolution for 3x3 filters, stride 1, dilation 1, one group.

Each ``m x m`` block of output comes from an ``a x a`` tile of padded input ``d``, ``a = m + 2``
(tiles overlap by 2)::

    y_tile = A^T [(G w G^T) * (B^T d B)] A        (* is the elementwise product)

Two tile sizes, with Lavin and Gray's matrices. F(2x2, 3x3), points 0, 1, -1 and infinity::

    B^T = [[1,  0, -1,  0],     G = [[  1,    0,   0],     A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],          [1/2,  1/2, 1/2],            [0, 1, -1, -1]]
           [0, -1,  1,  0],          [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]          [  0,    0,   1]]

F(4x4, 3x3), points 0, 1, -1, 2, -2 and infinity::

    B^T = [[4,  0, -5,  0, 1, 0],     G = [[ 1/4,     0,    0],     A^T = [[1, 1,  1, 1,  1, 0],
           [0, -4, -4,  1, 1, 0],          [-1/6,  -1/6, -1/6],            [0, 1, -1, 2, -2, 0],
           [0,  4, -4, -1, 1, 0],          [-1/6,   1/6, -1/6],            [0, 1,  1, 4,  4, 0],
           [0, -2, -1,  2, 1, 0],          [1/24, 1/12,  1/6],            [0, 1, -1, 8, -8, 1]]
           [0,  2, -1, -2, 1, 0],          [1/24, -1/12, 1/6],
           [0,  4,  0, -5, 0, 1]]          [   0,     0,    1]]

Summed over input channels, the elementwise product becomes ``a * a`` independent GEMMs, one
per position ``k`` of the transformed tile: ``9 m^2 / a^2`` times fewer multiplications than
im2col's GEMM (2.25x for m = 2, 4x for m = 4), and no 9-fold copy of the input. Layouts, for a
chunk of ``nb`` samples with ``th = ceil(oh / m)`` by ``tw = ceil(ow / m)`` tiles each: tile
(ty, tx) covers output rows ``m ty .. m ty + m - 1`` and columns ``m tx .. m tx + m - 1`` and
sits at slot ``t = (n * (th + 1) + ty) * cols + tx`` of ``T = nb * (th + 1) * cols``,
``cols = tw + 1``; the spare band ``ty == th`` and column ``tx == tw`` of every sample are
scratch that keeps the kernels' loops long (``winograd_tiles.py``) and are never used::

    u = G w G^T              (a*a, F, C)   filter transform (one float64 GEMM over all filters)
    v = B^T d B              (a*a, C, T)   input transform (numba)
    m = u @ v                (a*a, F, T)   batched GEMMs (gemm.py's tile, else OpenBLAS)
    y = A^T m A              (N, F, oh, ow) output transform (numba), partial last tiles cropped

Gradients reuse the same pieces:

* ``gx`` is the same convolution of ``gy`` with the filters rotated by 180 degrees and the
  channel axes swapped, padded by ``2 - p`` on each side (negative padding crops).
* ``gw``: with ``z = u * v`` the product above, ``dL/dz = A gy_tile A^T`` (the "gradient tile",
  ``gy`` zero beyond ``oh, ow``), so ``dL/du[k, f, c] = sum_t (A gy A^T)[k, f, t] v[k, c, t]``
  (GEMMs ``v @ g`` contracting over tiles, ``g`` stored (a*a, T, F)) and
  ``gw = G^T (dL/du) G``.

On the register tile (float32, on AVX-512 or AVX2 CPUs), the batch is split into one contiguous
range per thread (``workers.py``), and each thread runs the whole pipeline on its range, chunked
so that one transformed buffer stays about cache-sized (``_chunk``), in buffers kept from call
to call (``_scratch``). Otherwise (float64, or a CPU without AVX2) the same pipeline runs in
Python, which can call BLAS, one range per Python thread (``workers.split_in_python``). The tile
kernels (``winograd_tiles.py``) are generic over float32/float64 and multiply only by small
integers (exact); the fractions of ``G`` are applied in float64.

Accuracy decides which tile sizes run by default. F(2x2)'s transforms only add and subtract, so
its float32 error stays near im2col's, within twice torch's (``F2``, on). F(4x4)'s points +-2
amplify rounding error: several times torch's float32 error on realistic layers
(``python -m benchmarks.conv_tuning accuracy``), so it runs only on request (``F4.enabled``).
"""

import functools

import numpy as np
from numba import cfunc, njit

from . import _config, buffers, gemm, workers
from ._checks import ConvGeometry
from .blas import one_thread
from .winograd_tiles import (
    clear_spare_slots_impl,
    clear_spare_slots_kernel,
    grad_transform_impl,
    grad_transform_kernel,
    input_transform_impl,
    input_transform_kernel,
    output_transform_impl,
    output_transform_kernel,
)


class Winograd:
    """F(m x m, 3x3) as one algorithm of ``conv.ALGORITHMS``.

    Parameters
    ----------
    m : int
        Output tile size, 2 or 4.
    g_matrix : ndarray, shape (m + 2, 3)
        The filter transform ``G``; ``B^T`` and ``A^T`` of this ``m`` are in winograd_tiles.py.
    name : str
        ``__name__``, as a module's: what the registry's tests and benchmarks print.
    limits : (str, str)
        Names of the ``_config`` constants of its least channels each way and least output
        pixels per plane per ``max(C, F)`` (read at each choice, so they can be patched).
    enabled : bool
        Whether a convolution may choose it (``autodiff.runtime.configure(winograd=...)``
        switches F(4x4)).
    """

    def __init__(self, m: int, g_matrix, name: str, limits: tuple[str, str], enabled: bool):
        self.m, self.positions = m, (m + 2) ** 2
        # (G ⊗ G)[a i + j, 3 r + s] = G[i, r] G[j, s], so that G w G^T is one GEMM over filters.
        self.gg = np.kron(np.asarray(g_matrix, np.float64), np.asarray(g_matrix, np.float64))
        self.__name__ = name
        self.limits = limits
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"<conv algorithm {self.__name__}: Winograd F({self.m}x{self.m}, 3x3)>"

    def supports(self, g: ConvGeometry) -> bool:
        """When ``enabled``: 3x3 filters, stride 1, dilation 1, one group, at least
        ``limits[0]`` channels each way and ``limits[1] * max(C, F)`` output pixels per plane."""
        win = g.window
        if not self.enabled or (win.kh, win.kw) != (3, 3) or g.groups != 1:
            return False
        if win.stride != (1, 1) or win.dilation != (1, 1):
            return False
        min_channels, min_pixels = (getattr(_config, name) for name in self.limits)
        c, f = g.x_shape[1], g.w_shape[0]
        return min(c, f) >= min_channels and win.oh * win.ow >= min_pixels * max(c, f)

    def forward(self, x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray:
        """``y (N, F, oh, ow)`` from ``x (N, C, H, W)``, ``w (F, C, 3, 3)``, ``b (F,)`` or None."""
        return self.correlate(x, w, b, g.window.padding, g.window.out_hw)

    def backward_input(self, gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray:
        """Gradient with respect to ``x``, shape ``g.x_shape``.

        The "full" correlation of ``gy`` (N, F, oh, ow) with ``w`` (F, C, 3, 3) rotated by 180
        degrees and transposed to (C, F, 3, 3), padded by ``2 - p`` per side; dtype of ``gy``.
        """
        top, bottom, left, right = g.window.padding
        w_rot = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        flipped = (2 - top, 2 - bottom, 2 - left, 2 - right)
        return self.correlate(gy, w_rot, None, flipped, g.x_shape[2:])

    def backward_weight(self, gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray:
        """Gradient with respect to ``w``: shape (F, C, 3, 3), dtype of ``x``.

        ``gy`` is (N, F, oh, ow) and ``x`` (N, C, H, W), both C-contiguous. Per chunk,
        ``gu += v @ (A gy A^T)`` over tiles, then ``gw = G^T gu G``.
        """
        m, pos, padding = self.m, self.positions, g.window.padding
        n, c = x.shape[:2]
        f, oh, ow = gy.shape[1:]
        th, cols = -(-oh // m), -(-ow // m) + 1
        tiles = (th + 1) * cols
        chunk = _chunk(n, max(c, f), tiles, pos, x.itemsize)
        setup = m, chunk, padding[0], padding[2], th, cols, _block(pos * tiles)
        v_size, g_size = pos * c * chunk * tiles, pos * f * chunk * tiles
        if gemm.takes(x.dtype):
            bounds = workers.ranges(n, -(-n // chunk))
            gus = np.zeros((len(bounds), pos, c, f), x.dtype)  # one sum per range
            scratch = _scratch(len(bounds), v_size, x.dtype), _scratch(len(bounds), g_size, x.dtype)
            stages = input_transform_kernel(), clear_spare_slots_kernel()
            stages += grad_transform_kernel(), gemm.serial_kernel()
            addresses = [stage.address for stage in stages]
            blocks = workers.blocks(bounds, *setup, *addresses, x, gy, list(gus), *scratch)
            workers.run(_ranged_weight(), blocks)
            gu = gus.sum(axis=0)
        else:
            run = functools.partial(_weight_in_python, x, gy, (pos, c, f), v_size, g_size, *setup)
            gu = sum(workers.split_in_python(run, n, -(-n // chunk)))
        # gw[f, c, r, s] = sum_k (G ⊗ G)[k, 3 r + s] gu[k, c, f], in float64 as filter_transform
        gw = _small_product(self.gg.T, gu.reshape(pos, c * f).astype(np.float64)).reshape(9, c, f)
        return np.ascontiguousarray(gw.transpose(2, 1, 0).reshape(f, c, 3, 3), dtype=x.dtype)

    def filter_transform(self, w: np.ndarray) -> np.ndarray:
        """``u[k, f, c] = (G w[f, c] G^T)[k // a, k % a]``: (F, C, 3, 3) -> (a*a, F, C), same dtype.

        Computed in float64, so the fractions of ``G`` cost float32 one rounding only.
        """
        f, c = w.shape[:2]
        u = _small_product(self.gg, w.reshape(f * c, 9).T.astype(np.float64))
        return u.astype(w.dtype).reshape(self.positions, f, c)

    def correlate(self, x: np.ndarray, w: np.ndarray, b, padding: tuple, out_hw: tuple):
        """Cross-correlate ``x`` with 3x3 filters ``w``, stride 1, by Winograd F(m x m, 3x3).

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
        m, pos = self.m, self.positions
        n, c = x.shape[:2]
        f = w.shape[0]
        oh, ow = out_hw
        th, cols = -(-oh // m), -(-ow // m) + 1
        tiles = (th + 1) * cols
        u = self.filter_transform(w)
        bias = np.zeros(f, x.dtype) if b is None else b
        y = buffers.empty((n, f, oh, ow), x.dtype)
        chunk = _chunk(n, max(c, f), tiles, pos, x.itemsize)
        setup = m, chunk, padding[0], padding[2], th, cols, _block(pos * tiles)
        v_size, m_size = pos * c * chunk * tiles, pos * f * chunk * tiles
        if gemm.takes(x.dtype):
            bounds = workers.ranges(n, -(-n // chunk))
            scratch = _scratch(len(bounds), v_size, x.dtype), _scratch(len(bounds), m_size, x.dtype)
            stages = input_transform_kernel(), output_transform_kernel()
            addresses = [stage.address for stage in (*stages, gemm.serial_kernel())]
            blocks = workers.blocks(bounds, *setup, *addresses, u, x, bias, y, *scratch)
            workers.run(_ranged_correlate(), blocks)
        else:
            run = functools.partial(_correlate_in_python, u, x, bias, y, v_size, m_size, *setup)
            workers.split_in_python(run, n, -(-n // chunk))
        return y


#: F(2x2, 3x3): within twice torch's float32 error (tests/kernels/test_conv_accuracy.py), on by
#: default where its limits in ``_config`` say it is faster than the algorithms after it.
F2 = Winograd(
    2,
    [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
    "autodiff.kernels.winograd.F2",
    ("WINOGRAD2_MIN_CHANNELS", "WINOGRAD2_MIN_PIXELS_PER_CHANNEL"),
    enabled=True,
)

#: F(4x4, 3x3): off by default, its float32 error being several times torch's, past the twice
#: torch's that a fast path may cost (tests/kernels/test_conv_accuracy.py).
F4 = Winograd(
    4,
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    __name__,
    ("WINOGRAD_MIN_CHANNELS", "WINOGRAD_MIN_PIXELS_PER_CHANNEL"),
    enabled=False,
)


# The pipelines on the tile (``_ranged_*``) run a range of samples each, so that a chunk's buffers
# stay in one thread's cache, and call the transforms and the tile through their addresses
# (``workers.invoke``), so that each is compiled once. Without the tile (``*_in_python``), the
# same pipeline runs in Python, to call BLAS, on Python threads (``workers.split_in_python``).


def _correlate_in_python(
    u, x, bias, y, v_size, m_size, m, chunk, top, left, th, cols, block, lo, hi
):
    """``y[lo:hi]`` per chunk of ``chunk`` samples: ``v = B^T d B``, ``out = u @ v`` through BLAS,
    then ``y = A^T out A + bias``; ``v`` and ``out`` in flat buffers of these sizes."""
    pos, f, c = u.shape
    tiles = (th + 1) * cols
    v_buf, m_buf = np.empty(v_size, x.dtype), np.empty(m_size, x.dtype)
    for n0 in range(lo, hi, chunk):
        nb = min(chunk, hi - n0)
        # Flat buffers sliced then reshaped, so a short last chunk is still C-contiguous.
        v = v_buf[: pos * c * nb * tiles].reshape(pos, c, nb * tiles)
        input_transform_impl(m, x[n0 : n0 + nb], v, top, left, th, cols, block, 0, nb * c)
        prod = m_buf[: pos * f * nb * tiles].reshape(pos, f, nb * tiles)
        used = nb * tiles - cols  # the last sample's spare band holds no tile
        np.matmul(u, v[..., :used], out=prod[..., :used])
        output_transform_impl(m, prod, bias, y[n0 : n0 + nb], th, cols, block, 0, nb * f)


def _weight_in_python(
    x, gy, gu_shape, v_size, g_size, m, chunk, top, left, th, cols, block, lo, hi
):
    """``gu (a*a, C, F) = sum v @ (A gy A^T)`` over the tiles of samples ``lo .. hi``, per chunk
    of ``chunk`` samples, the products through BLAS."""
    pos, c, f = gu_shape
    tiles = (th + 1) * cols
    gu = np.zeros(gu_shape, x.dtype)
    part = np.empty_like(gu)  # each chunk's product, before the sum
    v_buf, g_buf = np.empty(v_size, x.dtype), np.empty(g_size, x.dtype)
    for n0 in range(lo, hi, chunk):
        nb = min(chunk, hi - n0)
        v = v_buf[: pos * c * nb * tiles].reshape(pos, c, nb * tiles)
        input_transform_impl(m, x[n0 : n0 + nb], v, top, left, th, cols, block, 0, nb * c)
        clear_spare_slots_impl(v, th, cols, 0, pos * c * nb)
        g = g_buf[: pos * f * nb * tiles].reshape(pos, nb * tiles, f)
        grad_transform_impl(m, gy[n0 : n0 + nb], g, th, cols, 0, nb)
        used = nb * tiles - cols
        gu += np.matmul(v[..., :used], g[:, :used], out=part)
    return gu


@functools.cache
def _ranged_correlate():
    """The forward pipeline on the tile, for samples ``lo .. hi`` (float32): block ``lo, hi, m,
    chunk, top, left, th, cols, block``, the addresses of the input and output transforms and of
    the tile, then ``u, x, bias, y`` and the range's own ``v_buf, m_buf``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        lo, hi, m, chunk, top, left, th, cols, block = _setup(b)
        transform_in, transform_out, tile = b[9], b[10], b[11]
        u, at = workers.unpack(b, 12, 3, np.float32)
        x, at = workers.unpack(b, at, 4, np.float32)
        bias, at = workers.unpack(b, at, 1, np.float32)
        y, at = workers.unpack(b, at, 4, np.float32)
        v_buf, at = workers.unpack(b, at, 1, np.float32)
        m_buf, _ = workers.unpack(b, at, 1, np.float32)
        pos, f, c = u.shape
        tiles = (th + 1) * cols
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            v = v_buf[: pos * c * nb * tiles].reshape(pos, c, nb * tiles)
            ints = (0, nb * c, m, top, left, th, cols, block)
            workers.invoke(transform_in, ints, (x[n0 : n0 + nb], v))
            prod = m_buf[: pos * f * nb * tiles].reshape(pos, f, nb * tiles)
            used = nb * tiles - cols
            gemm.product(tile, u, v[:, :, :used], prod[:, :, :used], False)
            ints = (0, nb * f, m, th, cols, block)
            workers.invoke(transform_out, ints, (prod, bias, y[n0 : n0 + nb]))

    return kernel


@functools.cache
def _ranged_weight():
    """The weight gradient's pipeline on the tile, for samples ``lo .. hi`` (float32): block
    ``lo, hi, m, chunk, top, left, th, cols, block``, the addresses of the input transform, the
    spare-slot clearing, the gradient transform and the tile, then ``x, gy`` and the range's own
    ``gu, v_buf, g_buf``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        lo, hi, m, chunk, top, left, th, cols, block = _setup(b)
        transform_in, clear, transform_grad, tile = b[9], b[10], b[11], b[12]
        x, at = workers.unpack(b, 13, 4, np.float32)
        gy, at = workers.unpack(b, at, 4, np.float32)
        gu, at = workers.unpack(b, at, 3, np.float32)
        v_buf, at = workers.unpack(b, at, 1, np.float32)
        g_buf, _ = workers.unpack(b, at, 1, np.float32)
        pos, c, f = gu.shape
        tiles = (th + 1) * cols
        for n0 in range(lo, hi, chunk):
            nb = min(chunk, hi - n0)
            v = v_buf[: pos * c * nb * tiles].reshape(pos, c, nb * tiles)
            ints = (0, nb * c, m, top, left, th, cols, block)
            workers.invoke(transform_in, ints, (x[n0 : n0 + nb], v))
            workers.invoke(clear, (0, pos * c * nb, th, cols), (v,))
            g = g_buf[: pos * f * nb * tiles].reshape(pos, nb * tiles, f)
            workers.invoke(transform_grad, (0, nb, m, th, cols), (gy[n0 : n0 + nb], g))
            used = nb * tiles - cols
            gemm.product(tile, v[:, :, :used], g[:, :used], gu, True)

    return kernel


@njit(**_config.JIT)
def _setup(b):
    """The first entries of a pipeline's block: ``lo, hi, m, chunk, top, left, th, cols,
    block``."""
    return b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]


def _scratch(count: int, size: int, dtype) -> list[np.ndarray]:
    """``count`` flat buffers of ``size`` values, one per range, from ``buffers``: allocated on
    the calling thread and kept from call to call. A range's own ``np.empty`` on a numba thread
    takes memory from that thread's malloc arena, which glibc hands back to the system when it
    is freed, so every call faulted its pages in again (2 ms of a ResNet block's step)."""
    return [buffers.empty((size,), dtype) for _ in range(count)]


def _small_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` on one BLAS thread: the filter transforms contract over 9 or 16 values only, so
    over many columns they count enough multiply-adds for BLAS to wake its threads, which then
    cost more than the work (64 x 64 filters: 0.17 ms threaded, 0.04 ms on one thread)."""
    with one_thread():
        return np.matmul(a, b)


def _chunk(n: int, channels: int, tiles: int, positions: int, itemsize: int) -> int:
    """Samples per chunk, for ``max(C, F) = channels``, ``tiles`` slots per plane and
    ``positions = a * a`` values per slot.

    One transformed buffer (``positions * channels * tiles`` values per sample) stays under
    ``_TILE_BUFFER_BYTES``, unless that leaves the GEMMs fewer tile columns than ``channels``:
    each chunk's GEMMs read all of ``u`` (``positions * F * C`` values), so thinner ones only
    stream filters. Never over ``_config.COLS_BUDGET_BYTES``, and at least 1.
    """
    per_sample = positions * channels * tiles * itemsize
    nb = max(_TILE_BUFFER_BYTES // per_sample, -(-channels // tiles))
    return int(max(1, min(n, nb, _config.COLS_BUDGET_BYTES // per_sample)))


# Bytes of one transformed buffer per chunk: the transforms write and read these buffers at
# cache speed only while chunks are small, and the GEMMs get thin (per-call overhead) when they
# are too small (python -m benchmarks.tuning tile_buffer).
_TILE_BUFFER_BYTES = 2**20


def _block(values: int) -> int:
    """Planes per kernel block, for ``values`` transformed values per plane: the scratch stays
    in L2."""
    return max(1, _SCRATCH_ELEMENTS // values)


_SCRATCH_ELEMENTS = 2**15
