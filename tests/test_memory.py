"""The runtime's malloc setting: glibc keeps freed heap memory only when the user asks for it."""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# Megabytes the heap's free memory grew by when an 8 MiB array was freed, in a fresh interpreter
# (what was free before, e.g. left over from imports, does not count). argv[1] is run after
# importing autodiff.
FREED_AND_KEPT = r"""
import ctypes, sys
import numpy as np
import autodiff
exec(sys.argv[1])
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
before = libc.mallinfo2().fordblks
a = np.ones(2**20)
del a
print((libc.mallinfo2().fordblks - before) / 2**20)
"""


def _kept_mib(code: str = "", **env) -> float:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "AUTODIFF_"))}
    result = subprocess.run(
        [sys.executable, "-c", FREED_AND_KEPT, code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


def test_importing_autodiff_leaves_glibc_alone():
    assert _kept_mib() < 0.5  # glibc maps 8 MiB on its own and unmaps it when freed


def test_the_environment_switch_keeps_freed_blocks():
    assert _kept_mib(AUTODIFF_RUNTIME="malloc=on") > 4  # most of the 8 MiB stays in the heap


def test_configure_turns_it_on_and_off():
    assert _kept_mib("autodiff.runtime.configure(malloc=True)") > 4
    off = "autodiff.runtime.configure(malloc=True); autodiff.runtime.configure(malloc=False)"
    assert _kept_mib(off) < 0.5
