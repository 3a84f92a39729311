"""Numba flags shared by every kernel, and the memory budget for im2col buffers.

Every ``@njit`` in ``autodiff.kernels`` takes its flags from here, so caching, fastmath and
threading are decided in one place. Reading ``COLS_BUDGET_BYTES`` happens at call time, so
assigning ``autodiff.kernels._config.COLS_BUDGET_BYTES = ...`` takes effect immediately.
"""

import os

# How long numba's idle OpenMP workers spin before they sleep. Sleeping workers take 70-90 us
# to start each parallel kernel (a 64-element kernel: 1.7 us with spinning workers); workers
# that spin long (libgomp's default, 300,000 spins) take the cores OpenBLAS's workers need for
# the large matrix products between kernels. 10,000 spins (measured: 0.1-0.3 ms) serve kernels
# that follow each other closely and free the core soon after. Plain training loops, 2 cores,
# default OpenBLAS settings, with OMP_WAIT_POLICY=PASSIVE / GOMP_SPINCOUNT=10000 / 300,000:
# LeNet-5 step (batch 64) 4.6 / 3.5 / 3.2 ms; the demo's 15 epochs 1.2 / 0.8 / 0.6 s; an MLP
# 784-1024-1024-10 step at batch 512 20.5 / 21.2 / 44 ms; the benchmark's ResNet block 17.3 /
# 17.6 / 27.7 ms. This must be set before the OpenMP runtime starts, so it is set here, on import,
# unless the user chose a waiting policy. (A program that imports torch first has already started
# torch's OpenMP runtime, which numba then shares: there, set GOMP_SPINCOUNT=10000 in the
# environment, as the README says.)
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")

# Fastmath without "nnan" and "ninf": NaN and inf must still propagate through the kernels
# (a NaN in a pooling window must come out as NaN, as in PyTorch).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

# cache=True: compiled machine code is stored next to the sources (or in NUMBA_CACHE_DIR), so a
# fresh process loads instead of compiling. nogil lets callers run kernels from threads.
# error_model="numpy" drops the zero-division checks from integer index arithmetic.
JIT = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
PARALLEL = dict(JIT, parallel=True)

# Upper bound on one im2col buffer; convolution chunks the batch to stay under it (a sample whose
# cols alone is larger runs alone). Small on purpose: buffers under glibc's 32 MiB mmap ceiling
# are recycled from the heap instead of page-faulted afresh on every call, and the GEMMs ran
# faster on chunk-sized operands. conv2d forward+backward on 32x64x32x32 float32 with 64 3x3
# filters: 54 ms with 32 MiB chunks, 82 ms with 256 MiB (the whole batch in one chunk).
COLS_BUDGET_BYTES = 32 * 2**20

# Stride-1 convolutions with at most this many weights per group (filters per group times
# C / groups * kh * kw) run as direct loops (direct.py) instead of im2col + GEMM, unless
# Winograd takes them: the GEMM is too shallow to run near the BLAS peak. Forward+backward,
# float32, 2 threads, direct against im2col: LeNet's 6 -> 16 5x5 on 64x6x14x14 1.4 against
# 2.9 ms; 3 -> 32 7x7 on 16x3x64x64 15 against 19 ms; 16 -> 32 5x5 on 32x16x16x16 (12,800
# weights) 5.4 against 6.6 ms; 16 -> 64 5x5 (25,600) 9.7 against 8.3 ms.
DIRECT_MAX_GROUP_WEIGHTS = 16384

# Largest padded input chunk (bytes) one direct-kernel iteration copies into its batch-innermost
# buffer (direct.py). Larger chunks give longer runs; smaller ones keep the input rows of an
# output row in cache. Forward on one thread, 16 -> 16 3x3 on 32x16x32x32 (forced onto the
# direct path; Winograd takes it by default): 2.6 ms with 1 MiB chunks, 3.0 ms with 256 KiB,
# 5.8 ms with 64 KiB. LeNet's layers fit whole in 1 MiB.
DIRECT_CHUNK_BYTES = 2**20

# 3x3 stride-1 convolutions (one group, no dilation) with at least WINOGRAD_MIN_CHANNELS input
# and output channels, and at least WINOGRAD_MIN_PIXELS_PER_CHANNEL * max(C, F) output pixels
# per plane, run as Winograd F(4x4, 3x3) (winograd.py) instead of im2col + GEMM. Float32,
# 2 threads, Winograd / im2col time for forward and forward+backward: 32x16x32x32 -> 32 filters
# 0.51x / 0.66x, 32x64x32x32 -> 64 0.41x / 0.49x, 32x128x12x12 -> 128 0.64x / 0.80x,
# 16x256x16x16 -> 256 0.69x / 0.87x, 32x32x8x8 -> 32 0.77x / 0.85x; but 32x128x8x8 -> 128
# 1.00x / 1.13x, 32x256x8x8 -> 256 1.04x / 1.24x, 8x512x16x16 -> 512 1.34x / 1.42x: with few
# tiles per plane the GEMMs stream the 36 transformed filters (4x the weights) for few columns,
# and the spare tiles (winograd.py) weigh more.
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_PIXELS_PER_CHANNEL = 1
