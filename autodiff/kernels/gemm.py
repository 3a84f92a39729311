"""Batched float32 products ``out[p] = u[p] @ v[p]`` on a register tile: a convolution's GEMMs.

Winograd multiplies its transformed filters by the transformed tiles of each chunk, per tile
position ``p`` (``(F, C) @ (C, T)``, and ``(C, T) @ (T, F)`` for the weight gradient); im2col
multiplies the filter matrix by the columns of each chunk (``(F, C * 9) @ (C * 9, N)``, its
transpose by the output gradient for the input gradient, and the output gradient by the
transposed columns for the weight gradient). Most of these operands are views (a transpose, a
slice of a larger buffer); here they are read in place, through their strides, so no operand is
copied or packed first: a convolution's weights are read once per panel instead of copied and
then read.

Per panel of ``NR`` columns of ``out``, and per ``KC`` rows of ``v``, the panel of ``v`` is
copied into a contiguous block that stays in cache while every block of ``MR`` rows of ``u``
passes over it; an ``MR x NR`` register tile (:func:`_tile`, written in LLVM IR: one fused
multiply-add per accumulator and ``k``) does the arithmetic. Its size fits the vector registers
of the CPU numba compiles for: on AVX-512, 16 accumulators of 16 floats (about twice OpenBLAS's
rate with its AVX2 kernels, about its rate with its AVX-512 ones); on AVX2 with FMA, 12
accumulators of 8 floats (faster than OpenBLAS's AVX2 kernels in Winograd and ResNet-18). Both
are measured by ``python -m benchmarks.tuning gemm``, the AVX2 tile with numba told to compile
for Haswell (``NUMBA_CPU_NAME``, ``NUMBA_CPU_FEATURES``). :data:`AVAILABLE` says whether one of
them runs here; otherwise callers use BLAS (:func:`takes`).
"""

import functools

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import cfunc, njit, prange, types
from numba.core import cgutils
from numba.core import config as numba_config
from numba.extending import intrinsic, register_jitable

from . import _config, workers


def _target_features() -> set[str]:
    """The CPU features numba compiles for: the host's, unless ``NUMBA_CPU_FEATURES`` names
    others (numba's cache keeps the code of each set apart)."""
    features = numba_config.CPU_FEATURES
    if features is None:
        features = llvm.get_host_cpu_features().flatten()
    return set(features.split(","))


_FEATURES = _target_features()
_AVX512 = "+avx512f" in _FEATURES
#: Whether a register tile runs here: AVX-512 (32 vector registers of 16 floats) or AVX2 with
#: FMA (16 registers of 8 floats).
AVAILABLE = _AVX512 or {"+avx2", "+fma"} <= _FEATURES
#: The register tile: MR rows of ``u`` by NR columns of ``v`` (NR a multiple of W floats), whose
#: MR * NR / W accumulators, NR / W vectors of ``v`` and a broadcast fill all but a few registers.
MR, NR, W = (8, 32, 16) if _AVX512 else (6, 16, 8)
#: Rows of ``v`` per panel copy: KC x NR floats (128 KiB on AVX-512) stay in L2 while every
#: block of rows of ``u`` passes over them (256 rows, which fit L1, ran ResNet-18's im2col
#: layers no faster).
KC = 1024

_FLOAT, _I64, _I32 = ir.FloatType(), ir.IntType(64), ir.IntType(32)
_VEC = ir.VectorType(_FLOAT, W)


def takes(dtype) -> bool:
    """Whether the tile runs products of this dtype here: float32, on a CPU with AVX-512, or
    AVX2 and FMA."""
    return AVAILABLE and dtype == np.float32


def matmul(u: np.ndarray, v: np.ndarray, out: np.ndarray, accumulate: bool = False) -> np.ndarray:
    """``out[p] = u[p] @ v[p]`` (``+=`` with ``accumulate``) for ``u (P, M, K)``, ``v (P, K, N)``
    and ``out (P, M, N)``, float32 arrays with any strides; ``out`` must not overlap ``u`` or
    ``v``. Fastest with ``v``'s and ``out``'s rows contiguous. One job per panel of ``NR``
    columns of ``out``, on numba's threads. Returns ``out``."""
    _check(u, v, out)
    _matmul_threads(*_operands(u, v, out), accumulate)
    return out


@njit(**_config.JIT)
def product(kernel, u, v, out, accumulate):
    """:func:`matmul` on the calling thread, for numba kernels that run on a thread of their own
    (Winograd's ranges), without :func:`matmul`'s checks (the shapes must fit): through the
    address ``kernel`` of :func:`serial_kernel`."""
    u_at, v_at, out_at, shape = _operands(u, v, out)
    block = np.empty(17, np.int64)
    for i in range(4):  # element by element: numba's slice assignment takes seconds to compile
        block[i], block[4 + i], block[8 + i], block[12 + i] = u_at[i], v_at[i], out_at[i], shape[i]
    block[16] = accumulate
    workers.call(kernel, block)


@functools.cache
def serial_kernel():
    """:func:`_matmul` on the calling thread as a C function of an int64 block: the operands of
    ``u``, ``v`` and ``out`` (:func:`_operand`), the shape, then ``accumulate``."""

    @cfunc(workers.SIGNATURE, **_config.JIT)
    def kernel(b):
        block = np.empty(17, np.int64)
        for i in range(17):
            block[i] = b[i]
        _matmul(block[0:4], block[4:8], block[8:12], block[12:16], block[16] != 0)

    return kernel


@register_jitable
def _operands(u, v, out):
    """The kernels' arguments: ``u``, ``v`` and ``out`` as :func:`_operand`, and the shape
    ``(P, M, K, N)``."""
    shape = np.array([u.shape[0], u.shape[1], u.shape[2], v.shape[2]], np.int64)
    return _operand(u), _operand(v), _operand(out), shape


def _check(u, v, out) -> None:
    """The tile reads and writes through raw pointers: refuse operands that do not fit first."""
    arrays = (u, v, out)
    fits = all(
        isinstance(a, np.ndarray)
        and a.dtype == np.float32
        and a.ndim == 3
        and all(s % 4 == 0 for s in a.strides)
        for a in arrays
    )
    if fits:
        (p, m, k), n = u.shape, v.shape[2]
        fits = v.shape[:2] == (p, k) and out.shape == (p, m, n) and out.flags.writeable
    if not fits:
        described = ", ".join(
            f"{getattr(a, 'shape', None)} {getattr(a, 'dtype', type(a).__name__)}" for a in arrays
        )
        raise ValueError(
            f"gemm.matmul: u (P, M, K), v (P, K, N) and a writeable out (P, M, N), float32 "
            f"arrays; got {described}"
        )


@register_jitable
def _operand(a):
    """A 3-D float32 array as the kernels take it: its address, then its strides in floats."""
    strides = a.strides
    return np.array(
        [np.int64(a.ctypes.data), strides[0] // 4, strides[1] // 4, strides[2] // 4], np.int64
    )


@njit(**_config.JIT)
def _matmul(u, v, out, shape, accumulate):
    tails = _tails(u, shape)
    panel, scratch = _buffers(shape)
    for p in range(shape[0]):
        for j0 in range(0, shape[3], NR):
            _panel(u, v, out, tails, shape, accumulate, p, j0, panel, scratch)


@njit(**_config.PARALLEL)
def _matmul_threads(u, v, out, shape, accumulate):
    tails = _tails(u, shape)
    panels = -(-shape[3] // NR)
    for job in prange(shape[0] * panels):
        p, j = divmod(np.int64(job), panels)  # int64: prange's index is unsigned here
        panel, scratch = _buffers(shape)
        _panel(u, v, out, tails, shape, accumulate, p, j * NR, panel, scratch)


@njit(**_config.JIT)
def _tails(u, shape):
    """``u``'s last rows, fewer than a block of ``MR``, copied zero-padded: ``(P, K, MR)``,
    flat."""
    p, m, k = shape[0], shape[1], shape[2]
    rest = m % MR
    tails = np.zeros(p * k * MR if rest else 0, np.float32)
    for q in range(p):
        for kk in range(k):
            for r in range(rest):
                tails[(q * k + kk) * MR + r] = _at(u, q, m - rest + r, kk)[0]
    return tails


@njit(**_config.JIT)
def _buffers(shape):
    """A panel of ``v`` (KC x NR) and a scratch block of ``out`` (M rounded up x NR)."""
    return np.empty(KC * NR, np.float32), np.empty(-(-shape[1] // MR) * MR * NR, np.float32)


@njit(**_config.JIT)
def _panel(u, v, out, tails, shape, accumulate, p, j0, panel, scratch):
    """Columns ``j0 .. j0 + NR`` (up to N) of ``out[p] (+)= u[p] @ v[p]``.

    Per ``KC`` rows of ``v``, their panel is copied into ``panel`` (zero-padded to ``NR``
    columns), then one register tile runs per block of ``MR`` rows of ``u`` (the last, short
    block from ``tails``): straight into ``out`` where a whole tile fits its contiguous rows,
    into ``scratch`` otherwise, copied out at the end.
    """
    m, k, n = shape[1], shape[2], shape[3]
    full, blocks, width = m // MR, -(-m // MR), min(NR, n - j0)
    direct = full if width == NR and out[3] == 1 else 0  # blocks written straight into out
    if accumulate:
        for row in range(direct * MR, m):
            for j in range(width):
                scratch[row * NR + j] = _at(out, p, row, j0 + j)[0]
    if k == 0 and not accumulate:  # an empty sum
        for row in range(m):
            for j in range(width):
                _at(out, p, row, j0 + j)[0] = 0
        return
    for k0 in range(0, k, KC):
        kc = min(KC, k - k0)
        if v[3] == 1:  # rows of v contiguous: one copy per row
            for kk in range(kc):
                if width == NR:  # a constant count: the copy is inlined
                    _copy(_at_flat(panel, kk * NR), _at(v, p, k0 + kk, j0), NR)
                else:
                    _copy(_at_flat(panel, kk * NR), _at(v, p, k0 + kk, j0), width)
                    panel[kk * NR + width : (kk + 1) * NR] = 0
        else:  # a transposed v (im2col's columns for the weight gradient): down each column
            for j in range(width):
                src, step = _at(v, p, k0, j0 + j), v[2]
                for kk in range(kc):
                    panel[kk * NR + j] = src[kk * step]
            for j in range(width, NR):
                for kk in range(kc):
                    panel[kk * NR + j] = 0
        add = accumulate or k0 > 0
        for b in range(blocks):
            if b < full:
                a, a_row, a_k = _at(u, p, b * MR, k0), u[2], u[3]
            else:
                a, a_row, a_k = _at_flat(tails, (p * k + k0) * MR), 1, MR
            if b < direct:
                c, ldc = _at(out, p, b * MR, j0), out[2]
            else:
                c, ldc = _at_flat(scratch, b * MR * NR), NR
            _tile(kc, a, a_row, a_k, _at_flat(panel, 0), c, ldc, add)
    for row in range(direct * MR, m):
        for j in range(width):
            _at(out, p, row, j0 + j)[0] = scratch[row * NR + j]


@njit(**_config.JIT)
def _at(operand, i, j, k):
    """A pointer to element ``[i, j, k]`` of an operand (address and strides, as :func:`_operand`
    gives them)."""
    return _pointer(operand[0], i * operand[1] + j * operand[2] + k * operand[3])


@intrinsic
def _pointer(typingctx, address, offset):
    """A float32 pointer ``offset`` floats past ``address``."""
    sig = types.CPointer(types.float32)(types.int64, types.int64)

    def codegen(context, builder, signature, args):
        base = builder.inttoptr(args[0], _FLOAT.as_pointer())
        return builder.gep(base, [args[1]])

    return sig, codegen


@intrinsic
def _at_flat(typingctx, array, offset):
    """A pointer to element ``offset`` of a 1-D float32 array."""
    sig = types.CPointer(types.float32)(array, types.int64)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.gep(data, [args[1]])

    return sig, codegen


@intrinsic
def _copy(typingctx, dst, src, count):
    """Copy ``count`` floats from ``src`` to ``dst`` (a memcpy: they do not overlap)."""
    sig = types.void(dst, src, types.int64)

    def codegen(context, builder, signature, args):
        cgutils.raw_memcpy(builder, args[0], args[1], args[2], 4, align=4)

    return sig, codegen


@intrinsic
def _tile(typingctx, k, a, a_row, a_k, b, c, ldc, add):
    """``c[i, j] (+)= sum over kk < k of a[i * a_row + kk * a_k] * b[kk, j]`` for ``i < MR``,
    ``j < NR``: ``b`` packed ``(k, NR)``, ``c``'s rows ``ldc`` floats apart, ``+=`` when ``add``.

    The ``MR * NR / W`` accumulators are vectors that LLVM keeps in registers through the loop;
    each step loads ``NR / W`` vectors of ``b``, broadcasts each of ``a``'s ``MR`` values and
    multiplies-adds. numba has no vector types, hence the IR.
    """
    ptr = types.CPointer(types.float32)
    sig = types.void(types.int64, ptr, types.int64, types.int64, ptr, ptr, types.int64, add)

    def codegen(context, builder, signature, args):
        k, a, a_row, a_k, b, c, ldc, add = args
        fma_type = ir.FunctionType(_VEC, [_VEC] * 3)
        fma = cgutils.get_or_insert_function(builder.module, fma_type, f"llvm.fma.v{W}f32")
        add = builder.icmp_unsigned("!=", add, ir.Constant(add.type, 0))
        zero = ir.Constant(_VEC, [0.0] * W)
        c_rows = [builder.gep(c, [builder.mul(ir.Constant(_I64, i), ldc)]) for i in range(MR)]
        acc = [
            [
                cgutils.alloca_once_value(
                    builder, builder.select(add, _load(builder, c_rows[i], j * W), zero)
                )
                for j in range(NR // W)
            ]
            for i in range(MR)
        ]
        a_offsets = [builder.mul(ir.Constant(_I64, i), a_row) for i in range(MR)]
        broadcast = ir.Constant(ir.VectorType(_I32, W), [0] * W)
        with cgutils.for_range(builder, k) as loop:
            b_row = builder.gep(b, [builder.mul(loop.index, ir.Constant(_I64, NR))])
            b_vecs = [_load(builder, b_row, j * W) for j in range(NR // W)]
            a_col = builder.gep(a, [builder.mul(loop.index, a_k)])
            for i in range(MR):
                value = builder.load(builder.gep(a_col, [a_offsets[i]]))
                one = builder.insert_element(ir.Constant(_VEC, None), value, ir.Constant(_I32, 0))
                a_vec = builder.shuffle_vector(one, ir.Constant(_VEC, None), broadcast)
                for j in range(NR // W):
                    total = builder.call(fma, [a_vec, b_vecs[j], builder.load(acc[i][j])])
                    builder.store(total, acc[i][j])
        for i in range(MR):
            for j in range(NR // W):
                target = _vector_at(builder, c_rows[i], j * W)
                builder.store(builder.load(acc[i][j]), target, align=4)

    return sig, codegen


def _load(builder, row, offset: int):
    """The ``W`` floats at ``row + offset`` as one vector (unaligned)."""
    return builder.load(_vector_at(builder, row, offset), align=4)


def _vector_at(builder, row, offset: int):
    """``row + offset`` as a pointer to a vector of ``W`` floats."""
    return builder.bitcast(builder.gep(row, [ir.Constant(_I64, offset)]), _VEC.as_pointer())
