"""Products through autodiff.kernels.blas: numpy's results, OpenBLAS's jobs on numba's threads."""

import json
import os
import platform
import subprocess
import sys
import threading

import numpy as np
import pytest

from autodiff.kernels import blas


@pytest.mark.parametrize(
    "a_shape,b_shape",
    [
        ((3,), (3,)),
        ((3,), (3, 4)),
        ((2, 3), (3,)),
        ((5, 2, 3), (3, 4)),
        ((2, 1, 2, 3), (4, 3, 2)),
        ((256, 1), (1, 784)),  # outer products: a broadcast multiply
        ((3, 5, 1), (1, 4)),
        ((1,), (1, 4)),  # a 1-D operand stays with np.matmul
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy(a_shape, b_shape, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    a.flat[0], b.flat[-1] = np.nan, np.inf  # propagated as numpy's product does
    want = np.matmul(a, b)
    np.testing.assert_array_equal(blas.matmul(a, b), want)
    out = np.empty_like(want)
    assert blas.matmul(a, b, out=out) is out
    np.testing.assert_array_equal(out, want)


# In a fresh process: OpenBLAS's own workers (the threads that exist before numba's pool starts)
# burn no CPU time while autodiff's products run, with one_pool on; they do with it off.
# scipy, where installed, loads an OpenBLAS of its own first: the callback must go to numpy's.
WORKERS_CPU = r"""
import json, os, sys, time
import numpy as np
try:
    import scipy.linalg
except ImportError:
    pass
import autodiff
from autodiff.kernels import blas

def cpu_seconds(tids):
    total = 0
    for tid in tids:
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")

openblas_workers = [t for t in os.listdir("/proc/self/task") if int(t) != os.getpid()]
n = int(os.environ.get("SIZE", 512))
a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
seconds = float(os.environ["SECONDS"])
if os.environ.get("WAKE"):
    blas.matmul(a, a)  # routes decided (slow: loads numba), then
    a @ a  # the program's own product wakes OpenBLAS's workers; they spin, then sleep
before = cpu_seconds(openblas_workers)
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    blas.matmul(a, a)
route = blas._routing()
built = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["version"]
print(json.dumps({"workers": len(openblas_workers),
                  "numpys": route is None or route.openblas.version == built,
                  "cpu": cpu_seconds(openblas_workers) - before,
                  "route": blas.describe_route()}))
"""


def _fresh(code: str, **env) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


TWO_THREADS = {"OPENBLAS_NUM_THREADS": "2", "NUMBA_NUM_THREADS": "2"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_products_leave_openblas_workers_asleep():
    on = _fresh(WORKERS_CPU, SECONDS="0.5", **TWO_THREADS)
    if not on["route"].startswith("numba's threads"):
        pytest.skip(f"products cannot reach numba's threads here: {on['route']}")
    off = _fresh(WORKERS_CPU, SECONDS="0.5", AUTODIFF_RUNTIME="one_pool=off", **TWO_THREADS)
    assert on["numpys"]  # numpy's OpenBLAS, not scipy's
    assert on["workers"] >= 1 and off["workers"] >= 1
    assert off["cpu"] > 0.1  # of about 0.5 s of products on two threads
    assert on["cpu"] < 0.02


@pytest.mark.skipif(platform.machine() != "x86_64", reason="names x86 kernel sets")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_numpys_openblas_is_found_whichever_kernels_it_chose():
    # numpy records the build machine's kernels in its OpenBLAS configuration ("... Haswell
    # MAX_THREADS=64"); at run time OpenBLAS names the ones it chose for this CPU (SkylakeX on
    # an AVX-512 machine), and products must reach numba's threads all the same
    built = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if "openblas configuration" not in built:
        pytest.skip("numpy's BLAS is not OpenBLAS")
    other = "Haswell" if "Sandybridge" in built["openblas configuration"] else "Sandybridge"
    default = _fresh(WORKERS_CPU, SECONDS="0", **TWO_THREADS)
    if not default["route"].startswith("numba's threads"):
        pytest.skip(f"products cannot reach numba's threads here: {default['route']}")
    got = _fresh(WORKERS_CPU, SECONDS="0.2", OPENBLAS_CORETYPE=other, **TWO_THREADS)
    assert got["route"].startswith("numba's threads") and got["numpys"]
    assert got["cpu"] < 0.02


def test_configuration_without_kernels_name():
    words = blas._without_core("OpenBLAS 0.3.31 USE64BITINT DYNAMIC_ARCH SkylakeX MAX_THREADS=64")
    assert words == ["OpenBLAS", "0.3.31", "USE64BITINT", "DYNAMIC_ARCH", "MAX_THREADS=64"]
    assert blas._without_core("OpenBLAS 0.3.31 Haswell") == ["OpenBLAS", "0.3.31"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_workers_the_program_woke_go_back_to_sleep():
    # OpenBLAS marks its thread i busy while job i runs: run as thread i, the jobs kept an awake
    # worker spinning while products ran (0.35-0.8 s of these 1.5 s, in three runs)
    got = _fresh(WORKERS_CPU, SECONDS="1.5", WAKE="1", SIZE="300", **TWO_THREADS)
    if not got["route"].startswith("numba's threads"):
        pytest.skip(f"products cannot reach numba's threads here: {got['route']}")
    assert got["cpu"] < 0.25  # OpenBLAS's spin before sleeping: about 0.1 s by default


@pytest.mark.parametrize(
    "a_shape,b_shape",
    [((300, 700), (700, 200)), ((4, 128, 256), (256, 96)), ((2, 1, 64, 300), (3, 300, 64))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_products_equal_numpys_bit_for_bit(a_shape, b_shape, dtype):
    # OpenBLAS splits a product the same way whoever runs its jobs
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    np.testing.assert_array_equal(blas.matmul(a, b), np.matmul(a, b))


FEWER_NUMBA_THREADS = r"""
import json
import numba, numpy as np
import autodiff
from autodiff.kernels import blas
numba.set_num_threads(1)  # fewer than OpenBLAS's 2: its jobs must not queue on one thread
a = np.random.default_rng(0).standard_normal((400, 400)).astype(np.float32)
print(json.dumps({"equal": bool(np.array_equal(blas.matmul(a, a), a @ a))}))
"""


def test_fewer_numba_threads_than_blas_threads_fall_back_to_openblas():
    # run with a timeout: two jobs of one product queued on one thread would wait for ever
    assert _fresh(FEWER_NUMBA_THREADS, OPENBLAS_NUM_THREADS="2", NUMBA_NUM_THREADS="2") == {
        "equal": True
    }


def test_products_from_several_threads_at_once():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 256, 256)).astype(np.float32)
    want = np.matmul(a, a)
    results = [None] * 4

    def work(i):
        for _ in range(10):
            results[i] = blas.matmul(a, a)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    for got in results:
        np.testing.assert_array_equal(got, want)


class FakeBlas:
    """A BLAS library handle that only records its thread count."""

    def __init__(self, threads):
        self.threads = threads

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.threads = n


def test_overlapping_limits_restore_the_thread_count(monkeypatch):
    # Fake handles: OpenBLAS 0.3.31 ignores a thread count set from a thread other than the
    # main one, which is not what this test is about.
    libs = [FakeBlas(2), FakeBlas(3)]
    monkeypatch.setattr(blas, "_libraries", libs)
    inside, leave = threading.Barrier(2), threading.Event()

    def hold():
        with blas.one_thread():
            inside.wait(timeout=10)
            leave.wait(timeout=10)

    other = threading.Thread(target=hold, daemon=True)
    other.start()
    try:
        with blas.one_thread():
            inside.wait(timeout=10)  # both inside
            with blas.one_thread():  # nested
                assert [b.threads for b in libs] == [1, 1]
        assert [b.threads for b in libs] == [1, 1]  # the other thread is still inside
    finally:
        leave.set()
        other.join()
    assert [b.threads for b in libs] == [2, 3]
