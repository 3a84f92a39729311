"""autodiff keeps freed heap memory for the next step instead of returning it to the system."""

import os
import platform
import subprocess
import sys

import pytest

from autodiff import memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")

# Megabytes the heap's free memory grew by when an 8 MiB array was freed, in a fresh interpreter
# (what was free before, e.g. left over from imports, does not count).
FREED_AND_KEPT = r"""
import ctypes, sys
import numpy as np
if sys.argv[1] == "import":
    import autodiff
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


def _kept_mib(*args, **env) -> float:
    clean = {k: v for k, v in os.environ.items() if k not in memory._USER_SETTINGS}
    result = subprocess.run(
        [sys.executable, "-c", FREED_AND_KEPT, *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


@glibc
def test_importing_autodiff_keeps_freed_blocks():
    assert _kept_mib("plain") < 0.5  # glibc alone maps 8 MiB on its own and unmaps it
    assert _kept_mib("import") > 4  # most of the 8 MiB stays free in the heap


@glibc
def test_users_malloc_settings_win(monkeypatch):
    assert _kept_mib("import", MALLOC_MMAP_THRESHOLD_="131072") < 0.5
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert memory.keep_freed_memory() is False


@glibc
def test_sets_the_thresholds_without_user_settings(monkeypatch):
    for name in memory._USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GLIBC_TUNABLES", "")
    assert memory.keep_freed_memory() is True
