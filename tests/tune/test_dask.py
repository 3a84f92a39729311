"""tune.search on a Dask LocalCluster on loopback: the same results as the serial run."""

import time

import pytest

from autodiff import tune
from tests.tune.test_search import SPACE, summary
from tests.tune.trainables import bowl

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    start = time.perf_counter()
    cluster = distributed.LocalCluster(
        host="127.0.0.1",
        dashboard_address=None,
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        timeout="60s",
    )
    try:
        with distributed.Client(cluster, timeout="60s") as client:
            print(f"local Dask cluster of 2 workers up in {time.perf_counter() - start:.2f} s")
            yield client
    finally:
        cluster.close(timeout=30)


def test_a_dask_cluster_gives_the_serial_results(client):
    space = {**SPACE, "sleep": 0.05}
    serial = tune.search(bowl, space, 6, seed=3, rounds=2)
    on_dask = tune.search(bowl, space, 6, seed=3, rounds=2, executor=client.get_executor())
    assert summary(on_dask) == summary(serial)
    assert len({t.worker for t in on_dask.trials}) == 2  # both worker processes ran trials


def test_a_failing_trial_on_dask_raises_its_own_error(client):
    from tests.tune.trainables import fails_above

    with pytest.raises(FloatingPointError, match="diverged"):
        tune.search(fails_above, {"x": tune.uniform(0, 1)}, 6, executor=client.get_executor())
