"""Batched float32 products ``u[p] @ v[p]`` with a packed left operand: a convolution's GEMMs.

A convolution multiplies the same weights ``u`` (Winograd's transformed filters, or im2col's
filter matrix) by the columns of every chunk of its batch: Winograd per tile position ``p``,
``(F, C) @ (C, T)`` with ``C`` the channels (16-512) and ``T`` a chunk's tiles; im2col
``(F, C * 9) @ (C * 9, N)`` for the forward and ``(C * 9, F) @ (F, N)`` for the input
gradient. BLAS packs both operands on every call, and with a short ``C`` the packing costs as
much as the arithmetic. Here ``u`` is packed once per convolution (:func:`pack`), each
``K x NR`` panel of ``v`` once, and an ``MR x NR`` register tile (:func:`_tile`, written in
LLVM IR: 16 accumulators of 16 floats, one fused multiply-add per accumulator and ``k``) does
the arithmetic: on AVX-512 about twice OpenBLAS's rate with its AVX2 kernels, and about its
rate with its AVX-512 ones (``python -m benchmarks.tuning gemm``). Winograd's threads call
:func:`products` each on their own, also for the weight gradient (``v @ g`` over the tiles,
``v`` packed per chunk); im2col uses :func:`left`, which runs the panels on numba's threads.
im2col's weight gradient stays with BLAS: its columns would need a transposed copy first.
:data:`AVAILABLE` says whether the CPU has AVX-512; without it the tile would not fit the
registers, and callers use BLAS.
"""

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _config, blas

#: The register tile: MR rows of ``u`` by NR columns of ``v`` (NR a multiple of W floats).
MR, NR, W = 8, 32, 16
#: Whether this CPU runs the tile in registers (AVX-512: 32 vector registers of 16 floats).
AVAILABLE = "+avx512f" in llvm.get_host_cpu_features().flatten().split(",")

_FLOAT, _I64, _I32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
_VEC = ir.VectorType(_FLOAT, W)


def takes(dtype) -> bool:
    """Whether the tile runs products of this dtype here: float32, on a CPU with AVX-512."""
    return AVAILABLE and dtype == np.float32


def left(a: np.ndarray):
    """A function ``(b, out)`` setting ``out = a @ b`` for a fixed left operand ``a (G, M, K)``
    (the weights of a convolution, for every chunk of its batch): through the register tile on
    numba's threads, ``a`` packed once, when the CPU has AVX-512 and the arrays are float32 and
    C-contiguous (``a`` may be a transposed view); through ``blas.matmul`` otherwise."""
    if not takes(a.dtype):
        return lambda b, out: blas.matmul(a, b, out=out)
    packed = pack(a)

    def product(b, out):
        if b.dtype != np.float32 or not (b.flags.c_contiguous and out.flags.c_contiguous):
            return blas.matmul(a, b, out=out)
        products_parallel(packed, b, out)
        return out

    return product


def pack(u: np.ndarray) -> np.ndarray:
    """``u (P, M, K)`` float32, any strides, as ``(P, ceil(M / MR), K, MR)``: per position and
    block of ``MR`` rows, column after column, the rows past ``M`` zero."""
    p, m, k = u.shape
    packed = np.empty((p, -(-m // MR), k, MR), np.float32)
    _pack_impl(u, packed)
    return packed


@njit(**_config.JIT)
def _pack_impl(u, packed):
    m = u.shape[1]
    for p in range(packed.shape[0]):
        for b in range(packed.shape[1]):
            for kk in range(packed.shape[2]):
                for i in range(MR):
                    row = b * MR + i
                    packed[p, b, kk, i] = u[p, row, kk] if row < m else 0


def products(packed: np.ndarray, v: np.ndarray, out: np.ndarray, used: int) -> None:
    """``out[p, :, :used] = u[p] @ v[p, :K, :used]`` for ``packed = pack(u)``, ``u (P, M, K)``;
    ``v (P, K', N)`` with ``K' >= K`` (rows past ``K`` are not read) and ``out (P, M, N)``
    float32, C-contiguous; columns from ``used`` on are left alone. On the calling thread
    (Winograd's threads call it)."""
    _check(packed, v, out, used)
    _products_impl(packed, v, out, used)


def products_parallel(packed: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    """``out[p] = u[p] @ v[p]`` as :func:`products` (all columns), one panel of ``v`` per job
    on numba's threads."""
    _check(packed, v, out, v.shape[2] if v.ndim == 3 else 0)
    _products_parallel_impl(packed, v, out)


def _check(packed, v, out, used) -> None:
    """The tile writes through raw pointers: refuse operands that do not fit, before it runs."""
    arrays = (packed, v, out)
    fits = all(a.dtype == np.float32 and a.flags.c_contiguous for a in arrays)
    fits = fits and packed.ndim == 4 and packed.shape[3] == MR and v.ndim == out.ndim == 3
    if fits:
        (p, blocks, k, _), m = packed.shape, out.shape[1]
        fits = v.shape[0] == out.shape[0] == p and v.shape[1] >= k and v.shape[2] == out.shape[2]
        fits = fits and (blocks - 1) * MR < m <= blocks * MR and 0 <= used <= v.shape[2]
    if not fits:
        described = ", ".join(f"{a.shape} {a.dtype}" for a in arrays)
        raise ValueError(
            f"gemm.products: packed (P, M/MR, K, MR), v (P, >=K, N) and out (P, M, N), float32 "
            f"and C-contiguous, with used <= N; got {described}, used={used}"
        )


@njit(**_config.JIT)
def _products_impl(packed, v, out, used):
    panel = np.empty(v.shape[1] * NR, np.float32)
    tile = np.empty(MR * NR, np.float32)
    for p in range(packed.shape[0]):
        for j0 in range(0, used, NR):
            _panel(packed, v, out, used, p, j0, panel, tile)


@njit(**_config.PARALLEL)
def _products_parallel_impl(packed, v, out):
    positions, n = packed.shape[0], v.shape[2]
    panels = -(-n // NR)
    for job in prange(positions * panels):
        p, j = divmod(np.int64(job), panels)  # int64: prange's index is unsigned here
        _panel(packed, v, out, n, p, j * NR, np.empty(v.shape[1] * NR, np.float32),
               np.empty(MR * NR, np.float32))  # fmt: skip


@njit(**_config.JIT)
def _panel(packed, v, out, used, p, j0, panel, tile):
    """Columns ``j0 .. j0 + NR`` (up to ``used``) of ``out[p] = u[p] @ v[p]``: ``v``'s panel
    copied row after row into ``panel``, then one register tile per block of ``MR`` rows."""
    blocks, k = packed.shape[1], packed.shape[2]
    m, n = out.shape[1], out.shape[2]
    a, vf, of = packed.ravel(), v.ravel(), out.ravel()
    width = min(NR, used - j0)
    # uint64 offsets: a signed index's wraparound check would stop the copy vectorising
    for kk in range(k):
        src = np.uint64((p * v.shape[1] + kk) * n + j0)
        dst = np.uint64(kk * NR)
        for j in range(np.uint64(width)):
            panel[dst + j] = vf[src + j]
        for j in range(np.uint64(width), np.uint64(NR)):
            panel[dst + j] = 0
    for b in range(blocks):
        rows = min(MR, m - b * MR)
        block = _at(a, (p * blocks + b) * k * MR)
        if rows == MR and width == NR:
            _tile(k, block, _at(panel, 0), _at(of, (p * m + b * MR) * n + j0), n)
        else:
            _tile(k, block, _at(panel, 0), _at(tile, 0), NR)
            for i in range(rows):
                for j in range(width):
                    out[p, b * MR + i, j0 + j] = tile[i * NR + j]


@intrinsic
def _at(typingctx, array, offset):
    """A pointer to element ``offset`` of a 1-D float32 array."""
    sig = types.CPointer(types.float32)(array, offset)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.gep(data, [args[1]])

    return sig, codegen


@intrinsic
def _tile(typingctx, k, a, b, c, ldc):
    """``c[i, j] = sum over kk < k of a[kk, i] * b[kk, j]`` for ``i < MR``, ``j < NR``: ``a``
    packed ``(k, MR)``, ``b`` packed ``(k, NR)``, ``c``'s rows ``ldc`` floats apart.

    The ``MR * NR / W`` accumulators are vectors that LLVM keeps in registers through the loop;
    each step loads ``NR / W`` vectors of ``b``, broadcasts each of ``a``'s ``MR`` values and
    multiplies-adds. numba has no vector types, hence the IR.
    """
    ptr = types.CPointer(types.float32)
    sig = types.void(types.intp, ptr, ptr, ptr, types.intp)

    def codegen(context, builder, signature, args):
        k, a, b, c, ldc = args
        fma_type = ir.FunctionType(_VEC, [_VEC] * 3)
        fma = cgutils.get_or_insert_function(builder.module, fma_type, "llvm.fma.v16f32")
        zero = ir.Constant(_VEC, [0.0] * W)
        acc = [
            [cgutils.alloca_once_value(builder, zero) for _ in range(NR // W)] for _ in range(MR)
        ]
        broadcast = ir.Constant(ir.VectorType(_I32, W), [0] * W)
        with cgutils.for_range(builder, k) as loop:
            b_row = builder.gep(b, [builder.mul(loop.index, ir.Constant(_I64, NR))])
            b_vecs = [_load(builder, b_row, j * W) for j in range(NR // W)]
            a_row = builder.gep(a, [builder.mul(loop.index, ir.Constant(_I64, MR))])
            for i in range(MR):
                value = builder.load(builder.gep(a_row, [ir.Constant(_I64, i)]))
                one = builder.insert_element(ir.Constant(_VEC, None), value, ir.Constant(_I32, 0))
                a_vec = builder.shuffle_vector(one, ir.Constant(_VEC, None), broadcast)
                for j in range(NR // W):
                    total = builder.call(fma, [a_vec, b_vecs[j], builder.load(acc[i][j])])
                    builder.store(total, acc[i][j])
        for i in range(MR):
            c_row = builder.gep(c, [builder.mul(ir.Constant(_I64, i), ldc)])
            for j in range(NR // W):
                builder.store(builder.load(acc[i][j]), _vector_at(builder, c_row, j * W), align=4)

    return sig, codegen


def _load(builder, row, offset: int):
    """The ``W`` floats at ``row + offset`` as one vector (unaligned)."""
    return builder.load(_vector_at(builder, row, offset), align=4)


def _vector_at(builder, row, offset: int):
    """``row + offset`` as a pointer to a vector of ``W`` floats."""
    return builder.bitcast(builder.gep(row, [ir.Constant(_I64, offset)]), _VEC.as_pointer())
