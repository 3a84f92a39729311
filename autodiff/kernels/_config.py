"""Numba flags shared by every kernel, and the tuning constants the kernels read at call time.

Every ``@njit`` in ``autodiff.kernels`` takes its flags from here, so caching, fastmath and
threading are decided in one place. The other constants are read when a kernel is called, so
assigning ``autodiff.kernels._config.COLS_BUDGET_BYTES = ...`` takes effect immediately.
``python -m benchmarks.tuning`` measures the effect of each constant.
"""

import os
import sys

from numba.core import event

# Fastmath without "nnan" and "ninf": NaN and inf must still propagate through the kernels
# (a NaN in a pooling window must come out as NaN, as in PyTorch).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# cache=True: compiled machine code is stored next to the sources (or in NUMBA_CACHE_DIR), so a
# fresh process loads instead of compiling. nogil lets callers run kernels from threads.
# error_model="numpy" drops the zero-division checks from integer index arithmetic.
JIT = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
PARALLEL = dict(JIT, parallel=True)


class _CompileNotice(event.Listener):
    """Prints one line when this process first compiles (rather than loads) an autodiff kernel,
    so that a first run's slow first steps are explained."""

    printed = False

    def on_start(self, ev):
        name = getattr(ev.data["dispatcher"], "py_func", None)
        module = getattr(name, "__module__", "")
        if self.printed or not module.startswith("autodiff."):
            return
        self.printed = True
        cache = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
            os.path.dirname(__file__), "__pycache__"
        )
        print(
            f"autodiff: compiling numba kernels, once per machine (first {module}.{name.__name__}; "
            f"cached in {cache})",
            file=sys.stderr,
            flush=True,
        )

    def on_end(self, ev):
        pass


event.register("numba:compile", _CompileNotice())

# Whether blas.matmul runs its products' BLAS jobs on numba's threads: autodiff.runtime's one_pool.
BLAS_ON_NUMBA_THREADS = True

# buffers.empty keeps the kernels' output arrays of at least BUFFER_MIN_BYTES (smaller ones come
# from glibc's heap without page faults), up to BUFFER_KEPT_BYTES in all, and reuses them once
# free: autodiff.runtime's buffers setting switches BUFFER_REUSE.
BUFFER_REUSE = True
BUFFER_MIN_BYTES = 2**18
BUFFER_KEPT_BYTES = 2**30

# Upper bound on one im2col buffer; convolution chunks the batch to stay under it (a sample whose
# cols alone is larger runs alone). Small on purpose: buffers under glibc's 32 MiB mmap ceiling
# are recycled from the heap instead of page-faulted afresh, and chunk-sized GEMMs run faster.
COLS_BUDGET_BYTES = 32 * 2**20

# Stride-1 convolutions with at most this many weights per group (filters per group times
# C / groups * kh * kw) run as direct loops (direct.py) instead of im2col + GEMM, unless
# Winograd takes them: below it the GEMM is too shallow to run near the BLAS peak.
DIRECT_MAX_GROUP_WEIGHTS = 16384

# The weight gradient of a float32 convolution whose forward ran im2col + GEMM runs as direct
# loops (conv.choose_weight_gradient) up to this many weights per group: no im2col copy and no
# GEMM (python -m benchmarks.conv_tuning algorithms) ...
DIRECT_WEIGHT_GRADIENT_MAX_GROUP_WEIGHTS = 2**18

# ... and only where its inner loops run over at least this many values (output columns times
# the samples of a chunk): shorter runs lose to im2col + GEMM, 1.2-2.4x slower on 8x8 and 4x4
# planes at batch 8-32 (python -m benchmarks.tuning direct_weight_gradient).
DIRECT_WEIGHT_GRADIENT_MIN_RUN = 128

# Largest padded input chunk (bytes) one direct-kernel iteration copies into its batch-innermost
# buffer (direct.py): larger chunks give longer runs, smaller ones keep the input rows of an
# output row in cache; LeNet's layers fit whole.
DIRECT_CHUNK_BYTES = 2**20

# When winograd.F4.enabled, 3x3 stride-1 convolutions (one group, no dilation) with at least
# WINOGRAD_MIN_CHANNELS input and output channels, and at least WINOGRAD_MIN_PIXELS_PER_CHANNEL *
# max(C, F) output pixels per plane, run as Winograd F(4x4, 3x3) (winograd.py) instead of im2col
# + GEMM: with fewer tiles per plane the GEMMs stream the 36 transformed filters (4x the
# weights) for few columns.
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_PIXELS_PER_CHANNEL = 1

# The same limits for Winograd F(2x2, 3x3) (winograd.F2, on by default): below them the
# GEMMs (16 transformed filters, 1.8x the weights) are too thin to beat the direct loops or
# im2col + GEMM (python -m benchmarks.conv_tuning algorithms).
WINOGRAD2_MIN_CHANNELS = 16
WINOGRAD2_MIN_PIXELS_PER_CHANNEL = 1
