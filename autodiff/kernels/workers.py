"""Kernels that split their work into ranges run one range per thread on numba's threads.

Winograd's transforms and pipeline and the direct convolution's loops are serial numba functions
over a range of their work (planes, samples, chunks of samples). Each has a *ranged kernel*: a
numba ``cfunc`` of C signature :data:`SIGNATURE`, ``void kernel(int64 *block)``, whose block
holds one range and the call's arguments as integers (:func:`blocks` writes them,
:func:`unpack` reads the arrays back). :func:`run` hands one block per thread to numba's threads
through one parallel ``cfunc`` that calls the kernel's address, so:

* the work runs on the same threads as numba's parallel kernels and BLAS's jobs
  (``blas_threads.py``): one pool, whose idle threads spin a while before they sleep and so
  answer within microseconds, where waking Python threads cost tens of microseconds per call;
* one parallel build serves every kernel, and each kernel is a serial build: numba's parallel
  build of the same loop took twice as long to compile, on every machine's first run.

A ranged kernel may call another on its own thread through the other's address
(:func:`invoke`), as Winograd's pipeline calls its transforms: a call from one numba function to
another links the callee's code into the caller, where numba optimises and compiles it again.

The calling thread takes the first range itself, as in any numba parallel kernel. As with those,
a process forked after numba's OpenMP threads started cannot use them (numba stops it with a
message); autodiff's own worker processes start from a fork server.

Work that calls BLAS between its kernels (Winograd without the register tile) cannot run on
numba's threads, numba code having no BLAS to call: :func:`split_in_python` runs its ranges on a
small pool of Python threads instead, BLAS held to one thread meanwhile.
"""

import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from llvmlite import ir
from numba import cfunc, literal_unroll, njit, prange, types
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from ._config import JIT
from .blas import one_thread

#: The C signature of a ranged kernel: ``void kernel(int64 *block)``.
SIGNATURE = types.void(types.CPointer(types.int64))


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges covering ``range(n)``: as many as ``parts`` and numba's thread count
    allow, at least one."""
    count = max(1, min(numba.get_num_threads(), parts, n))
    return [(n * i // count, n * (i + 1) // count) for i in range(count)]


def blocks(bounds: list[tuple[int, int]], *arguments) -> np.ndarray:
    """One block per range, as a ranged kernel reads it: ``lo, hi``, then each argument, an int
    as itself and a C-contiguous array as its address then its shape (:func:`unpack`). The arrays
    must outlive the :func:`run` that reads them. A list of arrays, one per range, passes each
    range its own array."""
    rows = []
    for i, (lo, hi) in enumerate(bounds):
        row = [lo, hi]
        for a in arguments:
            a = a[i] if isinstance(a, list) else a
            if isinstance(a, np.ndarray):
                if not a.flags.c_contiguous:
                    raise ValueError(f"workers.blocks: a {a.shape} array that is not C-contiguous")
                row += [a.ctypes.data, *a.shape]
            else:
                row.append(int(a))
        rows.append(row)
    return np.array(rows, np.int64)


def split(kernel, n: int, parts: int, *arguments) -> None:
    """Run ``kernel`` over :func:`ranges` of ``range(n)`` with these arguments (see
    :func:`blocks`)."""
    run(kernel, blocks(ranges(n, parts), *arguments))


def run(kernel, block_rows: np.ndarray) -> None:
    """``kernel(block)`` for each row of ``block_rows`` (from :func:`blocks`), one row per
    thread of numba's, the calling thread waiting for all."""
    if len(block_rows) == 1:
        kernel.ctypes(block_rows.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)))
        return
    _runner().ctypes(kernel.address, block_rows.ctypes.data, block_rows.shape[1], len(block_rows))


@intrinsic(prefer_literal=True)
def unpack(typingctx, block, at, ndim, dtype):
    """In a ranged kernel: ``(array, next)``, the ``ndim``-dimensional (a constant) C-contiguous
    array of ``dtype`` whose address is ``block[at]`` and shape the next ``ndim`` entries, and
    the index after them. (An array built in place: numba's ``carray`` took 0.4 s more to
    compile per kernel.)"""
    if not isinstance(ndim, types.IntegerLiteral):
        raise TypingError("workers.unpack: ndim must be a constant")
    n, target = ndim.literal_value, dtype.instance_type
    array_type = types.Array(target, n, "C")

    def codegen(context, builder, signature, args):
        block, at = args[0], args[1]

        def entry(i):
            return builder.load(builder.gep(block, [builder.add(at, ir.Constant(at.type, i))]))

        data_type = context.get_data_type(target)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(data_type))
        shape = [entry(1 + i) for i in range(n)]
        strides, stride = [], itemsize
        for extent in reversed(shape):
            strides.insert(0, stride)
            stride = builder.mul(stride, extent)
        array = context.make_array(array_type)(context, builder)
        data = builder.inttoptr(entry(0), data_type.as_pointer())
        populate_array(
            array, data=data, shape=shape, strides=strides, itemsize=itemsize, meminfo=None
        )
        after = builder.add(at, ir.Constant(at.type, 1 + n))
        return context.make_tuple(builder, signature.return_type, [array._getvalue(), after])

    return types.Tuple([array_type, types.int64])(block, types.int64, ndim, dtype), codegen


@njit(**JIT)
def invoke(kernel, ints, arrays):
    """In a numba kernel: call the ranged kernel at address ``kernel`` on this thread, with the
    block ``ints`` (a tuple of ints, ``lo, hi`` first) then ``arrays`` (a tuple of C-contiguous
    arrays), as :func:`blocks` writes it."""
    size = len(ints)
    for a in literal_unroll(arrays):
        size += 1 + a.ndim
    block = np.empty(size, np.int64)
    at = 0
    for value in ints:
        block[at] = value
        at += 1
    for a in literal_unroll(arrays):
        block[at] = np.int64(a.ctypes.data)
        for d in range(a.ndim):
            block[at + 1 + d] = a.shape[d]
        at += 1 + a.ndim
    call(kernel, block)


@njit(**JIT)
def call(kernel, block):
    """In a numba kernel: the ranged kernel at address ``kernel`` on ``block``, an int64 array
    (see :func:`invoke`)."""
    _call(kernel, block.ctypes.data)


@intrinsic
def _call(typingctx, kernel, block):
    """``kernel(block)``: the ranged kernel at address ``kernel`` on the block at address
    ``block`` (integers)."""

    def codegen(context, builder, signature, args):
        c_type = ir.FunctionType(ir.VoidType(), [ir.IntType(64).as_pointer()])
        fn = builder.inttoptr(args[0], c_type.as_pointer())
        builder.call(fn, [builder.inttoptr(args[1], ir.IntType(64).as_pointer())])
        return context.get_dummy_value()

    if not isinstance(kernel, types.Integer) or not isinstance(block, types.Integer):
        return None
    return types.void(kernel, block), codegen


@functools.cache
def _runner():
    """The parallel ``cfunc`` that runs a kernel on each block, compiled (or loaded) on first
    use: ``(kernel address, blocks address, entries per block, blocks)``."""

    # A cfunc that is itself parallel, as blas_threads.run_jobs (numba issue 8578).
    @cfunc(types.void(types.intp, types.intp, types.intp, types.intp), parallel=True, **JIT)
    def run_blocks(kernel, first, width, count):
        for i in prange(count):
            _call(kernel, first + np.intp(i) * width * 8)  # 8 bytes per entry

    return run_blocks


def split_in_python(run, n: int, parts: int) -> list:
    """``[run(lo, hi), ...]`` over :func:`ranges` of ``range(n)``, each on a thread of a pool of
    Python threads while the caller waits (one range: on the caller), BLAS on one thread."""
    bounds = ranges(n, parts)
    if len(bounds) == 1:
        return [run(0, n)]
    pool = _python_pool(len(bounds))
    with one_thread():
        runs = [pool.submit(run, lo, hi) for lo, hi in bounds]
        return [r.result() for r in runs]


def _python_pool(size: int) -> ThreadPoolExecutor:
    """The pool of Python threads, grown to at least ``size``, created on first use."""
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or size > _POOL_SIZE:
            _POOL = ThreadPoolExecutor(size, thread_name_prefix="autodiff-worker")
            _POOL_SIZE = size
        return _POOL


_POOL = None
_POOL_SIZE = 0
_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's Python threads do not exist there (and a lock one of them
    held stays held), so start afresh."""
    global _POOL, _POOL_SIZE, _LOCK
    _POOL, _POOL_SIZE = None, 0
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
