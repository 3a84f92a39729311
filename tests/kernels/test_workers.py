"""autodiff's worker threads: ranges, order, errors; the direct convolution on 1 to 3 threads."""

import threading

import numpy as np
import pytest

from autodiff.kernels import conv, direct, workers


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n,parts", [(0, 4), (1, 4), (7, 2), (7, 7), (10, 3)])
def test_split_covers_the_range_in_order_on_as_many_threads_as_allowed(
    monkeypatch, threads, n, parts
):
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: threads)
    caller = threading.get_ident()
    ranges = workers.split(lambda lo, hi: (lo, hi, threading.get_ident()), n, parts)
    assert len(ranges) == max(1, min(threads, parts, n))
    assert [r[0] for r in ranges] == [0, *(r[1] for r in ranges[:-1])]
    assert ranges[-1][1] == n
    if len(ranges) == 1:  # no thread to wake
        assert ranges[0][2] == caller
    else:  # the pool's threads; the caller waits
        assert caller not in {r[2] for r in ranges}


def test_an_error_in_a_worker_reaches_the_caller_and_the_pool_still_works(monkeypatch):
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: 2)

    def run(lo, hi):
        if lo == 0:
            raise ValueError("range 0")
        return hi

    with pytest.raises(ValueError, match="range 0"):
        workers.split(run, 4, 2)
    assert workers.split(lambda lo, hi: hi - lo, 4, 2) == [2, 2]


def test_direct_convolution_gives_the_same_result_on_one_to_three_threads(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 6, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    results = []
    for threads in (1, 2, 3):  # direct's chunks and the workers' ranges follow the count
        monkeypatch.setattr(workers.numba, "get_num_threads", lambda t=threads: t)
        y, saved = conv.conv2d_forward(x, w, None, 1, 2)
        assert saved.algorithm is direct
        gy = np.cos(y)
        results.append((y, *conv.conv2d_backward(gy, saved, need_b=False)[:2]))
    for other in results[1:]:
        for got, want in zip(other, results[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
