"""Batched float32 products ``u[p] @ v[p]`` with a packed ``u``, for Winograd's GEMMs.

Winograd's products are many small ones: per tile position ``p``, ``(F, C) @ (C, T)`` with ``C``
and ``F`` the channels (16-512) and ``T`` a chunk's tiles. BLAS packs both operands for each
call, and with ``C`` that short the packing costs as much as the arithmetic: OpenBLAS reaches
about half its peak there. Here ``u`` (the transformed filters) is packed once per convolution
(:func:`pack`), each ``C x NR`` panel of ``v`` once per position, and an ``MR x NR`` register
tile (:func:`_tile`, written in LLVM IR: 16 accumulators of 16 floats, one fused multiply-add
per accumulator and ``k``) does the arithmetic. On AVX-512 that is about twice OpenBLAS's
rate with its AVX2 kernels and about its rate with its AVX-512 ones
(``python -m benchmarks.tuning winograd_gemm``). :data:`AVAILABLE` says whether the CPU has
AVX-512; without it the tile would not fit the registers, and callers use BLAS.
"""

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _config

#: The register tile: MR rows of ``u`` by NR columns of ``v`` (NR a multiple of W floats).
MR, NR, W = 8, 32, 16
#: Whether this CPU runs the tile in registers (AVX-512: 32 vector registers of 16 floats).
AVAILABLE = "+avx512f" in llvm.get_host_cpu_features().flatten().split(",")

_FLOAT, _I64, _I32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
_VEC = ir.VectorType(_FLOAT, W)


def pack(u: np.ndarray) -> np.ndarray:
    """``u (P, F, C)`` float32 as ``(P, ceil(F / MR), C, MR)``: per position and block of
    ``MR`` rows, column after column, the rows past ``F`` zero."""
    p, f, c = u.shape
    blocks = -(-f // MR)
    padded = np.zeros((p, blocks * MR, c), np.float32)
    padded[:, :f] = u
    return np.ascontiguousarray(padded.reshape(p, blocks, MR, c).transpose(0, 1, 3, 2))


def products(packed: np.ndarray, v: np.ndarray, out: np.ndarray, used: int) -> None:
    """``out[p, :, :used] = u[p] @ v[p, :, :used]`` for ``packed = pack(u)``; ``v (P, C, T)``
    and ``out (P, F, T)`` float32, C-contiguous; columns from ``used`` on are left alone."""
    _products_impl(packed, v, out, used)


@njit(**_config.JIT)
def _products_impl(packed, v, out, used):
    positions, blocks, c = packed.shape[0], packed.shape[1], packed.shape[2]
    f, t = out.shape[1], out.shape[2]
    a, vf, of = packed.ravel(), v.ravel(), out.ravel()
    panel = np.empty(c * NR, np.float32)  # NR columns of v, row after row
    tile = np.empty(MR * NR, np.float32)  # the tiles that overhang out's edges
    for p in range(positions):
        for j0 in range(0, used, NR):
            width = min(NR, used - j0)
            # uint64 offsets: a signed index's wraparound check would stop the copy vectorising
            for k in range(c):
                src = np.uint64((p * c + k) * t + j0)
                dst = np.uint64(k * NR)
                for j in range(np.uint64(width)):
                    panel[dst + j] = vf[src + j]
                for j in range(np.uint64(width), np.uint64(NR)):
                    panel[dst + j] = 0
            for b in range(blocks):
                rows = min(MR, f - b * MR)
                block = _at(a, (p * blocks + b) * c * MR)
                if rows == MR and width == NR:
                    _tile(c, block, _at(panel, 0), _at(of, (p * f + b * MR) * t + j0), t)
                else:
                    _tile(c, block, _at(panel, 0), _at(tile, 0), NR)
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
