"""DataLoader with worker processes: order, seeding, errors, timeouts and clean-up.

Every loader here has a `timeout`, so a test that would hang fails instead.
"""

import os
import random
import time

import numpy as np
import pytest

import autodiff as ad
from autodiff.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    TensorDataset,
    get_worker_info,
)
from tests.data.worker_probes import (
    INIT,
    Dies,
    Probe,
    Raises,
    fail_init,
    remember_init,
)

TIMEOUT = 20


def _probe_loader(dataset=None, **kwargs):
    kwargs = dict(batch_size=1, num_workers=2, timeout=TIMEOUT) | kwargs
    return DataLoader(Probe() if dataset is None else dataset, **kwargs)


def _gone(pids, within=5.0):
    """Whether every process in `pids` has exited, waiting up to `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


def _x(n=23):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


@pytest.mark.parametrize("kwargs", [dict(), dict(drop_last=True), dict(prefetch_factor=1)])
def test_same_batches_as_without_workers(kwargs):
    def epoch(num_workers):
        sampler = RandomSampler(_x(), generator=3)
        options = kwargs if num_workers else {"drop_last": kwargs.get("drop_last", False)}
        loader = DataLoader(_x(), 4, sampler=sampler, num_workers=num_workers, **options)
        return [(xb.data, yb.data) for xb, yb in loader]

    ours, reference = epoch(2), epoch(0)
    assert len(ours) == len(reference) == (5 if kwargs.get("drop_last") else 6)
    for (x, y), (x0, y0) in zip(ours, reference, strict=True):
        assert x.dtype == x0.dtype and y.dtype == y0.dtype
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(y, y0)


def test_batches_come_in_order_even_when_a_worker_is_slow():
    loader = _probe_loader(Probe(n=8, sleep=0.05), batch_size=2)
    batches = list(loader)
    assert [b["i"].data.tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b["worker"].data.tolist() for b in batches] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    unordered = [b["i"].data[0] for b in _probe_loader(Probe(n=8, sleep=0.3), in_order=False)]
    assert sorted(unordered) == list(range(8))
    assert unordered != sorted(unordered)  # worker 1's examples overtake worker 0's


def test_each_worker_seeds_random_numpy_and_autodiff_with_base_seed_plus_id():
    examples = list(_probe_loader(batch_size=None))  # unbatched: Python floats stay float64
    seeds = {e["worker"]: e["seed"] for e in examples}
    assert seeds[1] == seeds[0] + 1
    for worker, seed in seeds.items():
        mine = [e for e in examples if e["worker"] == worker]
        random.seed(seed)
        np_rng = np.random.RandomState(seed % 2**32)
        ad_rng = ad.manual_seed(seed)
        for e in mine:
            assert e["random"] == random.random()
            assert e["numpy"] == np_rng.rand()
            assert e["autodiff"] == ad_rng.random()
    ad.manual_seed(0)


def test_base_seed_comes_from_the_generator():
    def seeds(**kwargs):
        return sorted({b["seed"].item() for b in _probe_loader(**kwargs)})

    assert seeds(generator=5) == seeds(generator=5) != seeds(generator=6)
    ad.manual_seed(1)
    first = seeds()
    ad.manual_seed(1)
    assert seeds() == first


def test_worker_init_fn_runs_in_each_worker_before_loading():
    inits = {
        b["worker"].item(): b["init"].item() for b in _probe_loader(worker_init_fn=remember_init)
    }
    assert inits == {0: 100, 1: 101}
    assert INIT == {}  # it ran in the workers, not here
    assert get_worker_info() is None


def test_an_error_in_a_worker_is_raised_here_with_its_traceback_and_the_loop_goes_on():
    iterator = iter(_probe_loader(Probe(n=6, fail_at=2)))
    assert [next(iterator)["i"].item() for _ in range(2)] == [0, 1]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 0") as e:
        next(iterator)
    assert "bad example 2" in str(e.value) and "in __getitem__" in str(e.value)
    assert [b["i"].item() for b in iterator] == [3, 4, 5]


def test_errors_of_init_functions_and_odd_exception_classes():
    with pytest.raises(KeyError, match="worker_init_fn of DataLoader worker"):
        list(_probe_loader(worker_init_fn=fail_init))
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs"):
        list(_probe_loader(Raises()))


def test_a_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match="exited unexpectedly with exit code 3"):
        list(_probe_loader(Dies()))


def test_timeout():
    loader = _probe_loader(Probe(n=2, sleep=0.5), timeout=0.1)
    with pytest.raises(RuntimeError, match="timed out after 0.1 seconds"):
        list(loader)


def test_workers_stop_after_the_epoch_and_when_the_loop_breaks():
    pids = {b["pid"].item() for b in _probe_loader()}
    assert len(pids) == 2 and os.getpid() not in pids
    assert _gone(pids)
    for batch in _probe_loader(Probe(n=100)):
        pid = batch["pid"].item()
        break
    del batch
    assert _gone([pid])
    iterator = iter(_probe_loader(Probe(n=100)))
    pid = next(iterator)["pid"].item()
    del iterator
    assert _gone([pid])


def test_persistent_workers_serve_every_epoch_until_the_loader_goes():
    loader = _probe_loader(persistent_workers=True, batch_size=3)
    first = list(loader)
    pids = {b["pid"].data[0] for b in first}
    for batch in loader:  # an abandoned epoch: its late answers must not leak into the next
        assert batch["i"].data.tolist() == [0, 1, 2]
        break
    second = list(loader)
    assert [b["i"].data.tolist() for b in second] == [b["i"].data.tolist() for b in first]
    assert {b["pid"].data[0] for b in second} == pids
    del loader, batch
    assert _gone(pids)


def test_sampler_batch_sampler_and_no_batching_with_workers():
    batches = BatchSampler(range(10), 3, drop_last=False)
    loader = _probe_loader(Probe(n=10), batch_sampler=batches)
    assert len(loader) == 4
    assert [b["i"].data.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    single = _probe_loader(batch_size=None, sampler=[5, 1, 3], pin_memory=True)
    assert [e["i"] for e in single] == [5, 1, 3]  # one example at a time, numbers unconverted
    assert len(single) == 3


def test_spawn_context():
    loader = _probe_loader(Probe(n=4), multiprocessing_context="spawn", batch_size=2)
    assert [b["i"].data.tolist() for b in loader] == [[0, 1], [2, 3]]


INVALID = [
    (dict(num_workers=-1), ValueError, "num_workers must be >= 0"),
    (dict(num_workers=1.5), TypeError, "num_workers must be an int"),
    (dict(timeout=-1), ValueError, "timeout must be >= 0"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor needs num_workers > 0"),
    (dict(num_workers=2, prefetch_factor=0), ValueError, "prefetch_factor must be >= 1"),
    (dict(persistent_workers=True), ValueError, "persistent_workers needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler is mutually exclusive"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler is mutually"),
    (dict(batch_size=None, drop_last=True), ValueError, "excludes drop_last"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), INVALID, ids=[m for *_, m in INVALID])
def test_invalid_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(_x(), **kwargs)


def test_what_cannot_be_pickled_to_the_workers_is_explained():
    loader = _probe_loader(collate_fn=lambda examples: len(examples))
    with pytest.raises(Exception, match="pickle") as error:
        list(loader)
    assert "multiprocessing_context='fork'" in "".join(error.value.__notes__)
