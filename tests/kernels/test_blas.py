"""Products through autodiff.kernels.blas: numpy's results, and BLAS on one thread when small."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from autodiff.kernels import blas


def _blas_threads() -> list[int]:
    """Thread counts of the BLAS libraries the limit acts on (those loaded on its first use)."""
    return [lib.get_num_threads() for lib in blas._blas_libraries()]


@pytest.fixture
def two_blas_threads():
    with threadpool_limits(limits=2, user_api="blas"):
        yield


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


@pytest.mark.parametrize(
    "a_shape,b_shape,serial",
    [
        ((64, 400), (400, 120), True),  # 3.1M multiply-adds
        ((8, 64, 40), (40, 120), True),  # batched: 2.5M
        ((16, 16), (16, 16), False),  # OpenBLAS runs it on one thread anyway
        ((128, 784), (784, 256), False),  # 26M: worth the second thread
    ],
)
def test_small_products_run_on_one_blas_thread(
    monkeypatch, two_blas_threads, a_shape, b_shape, serial
):
    seen = []
    real = np.matmul

    def spy(a, b, out=None):
        seen.append(_blas_threads())
        return real(a, b, out=out)

    monkeypatch.setattr(blas.np, "matmul", spy)
    blas.matmul(np.ones(a_shape, np.float32), np.ones(b_shape, np.float32))
    assert all(n == (1 if serial else 2) for n in seen[0])
    assert all(n == 2 for n in _blas_threads())  # restored


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
