"""Ranged kernels on numba's threads: ranges, blocks, running; ranges on Python threads; the direct
convolution on 1 to 3 threads."""

import threading

import numba
import numpy as np
import pytest
from numba import cfunc

from autodiff.kernels import conv, direct, workers


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n,parts", [(0, 4), (1, 4), (7, 2), (7, 7), (10, 3)])
def test_ranges_cover_the_work_in_order_as_threads_allow(monkeypatch, threads, n, parts):
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: threads)
    ranges = workers.ranges(n, parts)
    assert len(ranges) == max(1, min(threads, parts, n))
    assert [lo for lo, _ in ranges] == [0, *(hi for _, hi in ranges[:-1])]
    assert ranges[-1][1] == n
    assert all(hi - lo in (n // len(ranges), -(-n // len(ranges))) for lo, hi in ranges)


def test_blocks_hold_ints_then_arrays_as_address_and_shape():
    a = np.zeros((2, 3), np.float32)
    own = [np.zeros(4), np.zeros(5)]
    rows = workers.blocks([(0, 1), (1, 3)], 7, -2, a, own)
    assert rows.dtype == np.int64 and rows.flags.c_contiguous
    assert rows[0].tolist() == [0, 1, 7, -2, a.ctypes.data, 2, 3, own[0].ctypes.data, 4]
    assert rows[1].tolist() == [1, 3, 7, -2, a.ctypes.data, 2, 3, own[1].ctypes.data, 5]
    with pytest.raises(ValueError, match=r"workers.blocks: a \(3, 2\) array"):
        workers.blocks([(0, 1)], a.T)


def _fill(b):
    """A ranged kernel: ``out[i] = scale * i`` and ``seen[i]`` = numba's thread id, for i in
    ``lo .. hi``; block ``lo, hi, scale, out, seen``."""
    out, at = workers.unpack(b, 3, 1, np.float64)
    seen, _ = workers.unpack(b, at, 2, np.int64)
    for i in range(b[0], b[1]):
        out[i] = b[2] * i
        seen[i // seen.shape[1], i % seen.shape[1]] = numba.get_thread_id()


FILL = cfunc(workers.SIGNATURE, nogil=True)(_fill)


@pytest.mark.parametrize("threads", [1, 2])
def test_run_calls_the_kernel_once_per_block_on_numbas_threads(threads):
    n = 1000
    out, seen = np.full(n, -1.0), np.full((10, n // 10), -1)
    with_threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    default = numba.get_num_threads()
    numba.set_num_threads(with_threads)
    try:
        ranges = workers.ranges(n, 8)
        workers.run(FILL, workers.blocks(ranges, 3, out, seen))
    finally:
        numba.set_num_threads(default)
    np.testing.assert_array_equal(out, 3.0 * np.arange(n))
    ids = seen.ravel()
    assert len(ranges) == with_threads
    # each range ran on one thread, and the ranges on different threads
    assert [len(set(ids[lo:hi])) for lo, hi in ranges] == [1] * len(ranges)
    assert len({ids[lo] for lo, _ in ranges}) == len(ranges)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_split_in_python_runs_the_ranges_in_order_on_python_threads(monkeypatch, threads):
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: threads)
    caller = threading.get_ident()
    got = workers.split_in_python(lambda lo, hi: (lo, hi, threading.get_ident()), 10, 4)
    assert [(lo, hi) for lo, hi, _ in got] == workers.ranges(10, 4)
    if threads == 1:  # no thread to wake
        assert got[0][2] == caller
    else:  # the pool's threads; the caller waits
        assert caller not in {ident for _, _, ident in got}


def test_an_error_in_a_python_thread_reaches_the_caller_and_the_pool_still_works(monkeypatch):
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: 2)

    def run(lo, hi):
        if lo == 0:
            raise ValueError("range 0")
        return hi

    with pytest.raises(ValueError, match="range 0"):
        workers.split_in_python(run, 4, 2)
    assert workers.split_in_python(lambda lo, hi: hi - lo, 4, 2) == [2, 2]


def test_direct_convolution_gives_the_same_result_on_one_to_three_threads(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 6, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    results = []
    for threads in (1, 2, 3):  # direct's chunks and the ranges follow the count
        monkeypatch.setattr(workers.numba, "get_num_threads", lambda t=threads: t)
        y, saved = conv.conv2d_forward(x, w, None, 1, 2)
        assert saved.algorithm is direct
        gy = np.cos(y)
        results.append((y, *conv.conv2d_backward(gy, saved, need_b=False)[:2]))
    for other in results[1:]:
        for got, want in zip(other, results[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
