"""Run by tests/tune/test_mpi_executor.py in a process of its own: tune.search on
mpi4py.futures.MPIPoolExecutor (2 workers spawned over MPI) and serially; prints both summaries
and the workers as JSON."""

import json

from mpi4py.futures import MPIPoolExecutor

from autodiff import tune
from tests.tune.test_search import SPACE, summary
from tests.tune.trainables import bowl

if __name__ == "__main__":
    space = {**SPACE, "sleep": 0.05}
    serial = tune.search(bowl, space, 6, seed=3, rounds=2)
    with MPIPoolExecutor(max_workers=2) as pool:
        on_mpi = tune.search(bowl, space, 6, seed=3, rounds=2, executor=pool)
    print(
        json.dumps(
            {
                "same": summary(on_mpi) == summary(serial),
                "workers": sorted({str(t.worker) for t in on_mpi.trials}),
            }
        )
    )
