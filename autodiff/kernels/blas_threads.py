"""OpenBLAS's parallel jobs run on numba's threads: one pool of threads for the whole library.

OpenBLAS (0.3.27 and later) lets a program take over its threading. Given a callback, each
multithreaded call hands it the call's jobs instead of waking OpenBLAS's own workers::

    callback(sync, dojob, numjobs, jobdata_elsize, jobdata, dojob_data)
    # must run dojob(i, jobdata + i * jobdata_elsize, dojob_data) for i < numjobs, and return
    # when all are done

:data:`run_jobs` is that callback: a numba ``cfunc`` whose ``prange`` gives job ``i`` to numba's
thread ``i`` (numba splits a range of ``n <= threads`` iterations one per thread). The jobs must
run at the same time, not one after another: the jobs of a level-3 product wait for each other's
packed panels. So the caller routes a product here only while numba has at least as many threads
as OpenBLAS (``blas.matmul``), and only on numba's OpenMP layer, whose threads each take one
share of a range (TBB's tasks may run two shares on one thread).

Job ``i`` runs as OpenBLAS's thread ``i + JOB_OFFSET``: OpenBLAS marks "its" thread busy while a
job runs, and its own worker ``i`` (those of indices below its thread count), if awake, would
then never go back to sleep while autodiff's products run; indices past its workers are slots
with no thread. ``blas.matmul`` sets the offset (read by the compiled callback through a symbol,
so the cached machine code stays valid in every process).
"""

import ctypes

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import cfunc, prange, types
from numba.extending import intrinsic

from ._config import JIT

#: The index of OpenBLAS's thread that job 0 runs as (see the module docstring).
JOB_OFFSET = ctypes.c_int32(0)
llvm.add_symbol("autodiff_blas_job_offset", ctypes.addressof(JOB_OFFSET))


@intrinsic
def _job_offset(typingctx):
    """The current value of :data:`JOB_OFFSET`."""

    def codegen(context, builder, signature, args):
        offset = builder.module.globals.get("autodiff_blas_job_offset")
        if offset is None:
            offset = ir.GlobalVariable(builder.module, ir.IntType(32), "autodiff_blas_job_offset")
            offset.linkage = "external"
        return builder.load(offset)

    return types.int32(), codegen


@intrinsic
def _call_job(typingctx, dojob, i, data, dojob_data):
    """``dojob(i, data, dojob_data)``, ``dojob`` being a C function pointer."""
    sig = types.void(types.voidptr, types.int32, types.voidptr, types.int32)

    def codegen(context, builder, signature, args):
        fn, *call_args = args
        c_type = ir.FunctionType(
            ir.VoidType(), [ir.IntType(32), ir.IntType(8).as_pointer(), ir.IntType(32)]
        )
        builder.call(builder.bitcast(fn, c_type.as_pointer()), call_args)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _byte_offset(typingctx, pointer, offset):
    """``(char *) pointer + offset``."""

    def codegen(context, builder, signature, args):
        return builder.gep(args[0], [args[1]])

    return types.voidptr(types.voidptr, types.intp), codegen


# A cfunc that is itself parallel, rather than one calling a parallel njit function: numba's
# cache restores the latter with a broken reference to its parallel part (numba issue 8578).
@cfunc(
    types.void(types.int32, types.voidptr, types.int32, types.uintp, types.voidptr, types.int32),
    parallel=True,
    **JIT,
)
def run_jobs(sync, dojob, numjobs, jobdata_elsize, jobdata, dojob_data):
    """OpenBLAS's threads callback: runs its ``numjobs`` jobs on numba's threads, one each."""
    offset = _job_offset()
    for i in prange(numjobs):
        data = _byte_offset(jobdata, i * np.intp(jobdata_elsize))
        _call_job(dojob, np.int32(i) + offset, data, dojob_data)
