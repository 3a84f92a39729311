"""How freed array memory goes back to the system: kept by the process, on glibc.

A training step allocates and frees the same few megabytes of activations and gradients every
step. glibc hands free memory at the top of its heap back to the system once more than
``M_TRIM_THRESHOLD`` of it is free (by default twice the largest block it has recently freed),
so the next step page-faults those megabytes in afresh: the LeNet-5 training step of the
benchmark suite spent about a fifth of its time there (5.5 ms, against 4.4 ms with the settings
below, in a plain loop on two threads). :func:`keep_freed_memory` raises the thresholds once,
when autodiff is imported. The cost: the process keeps up to ``TRIM_THRESHOLD`` bytes of freed
heap it would otherwise have returned.
"""

import ctypes
import ctypes.util
import os
import platform

#: Blocks from this size up are mapped on their own and returned to the system when freed
#: (glibc's own ceiling for its sliding threshold).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of a heap beyond this goes back to the system.
TRIM_THRESHOLD = 64 * 2**20

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds (see the module docstring); True if they were set.

    Does nothing off glibc, or when the environment already sets glibc's malloc tuning
    (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or
    ``glibc.malloc`` in ``GLIBC_TUNABLES``): the user's choice wins.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    if any(k in os.environ for k in _USER_SETTINGS) or "glibc.malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    # either call ends glibc's sliding thresholds, so both are set
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
