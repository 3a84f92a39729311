"""Hyperparameter search as the course teaches it: at random, on the right scale, coarse to fine,
many trials in parallel on an executor you already have.

    from autodiff import tune

    def train_fn(config, report):          # module level, so worker processes can import it
        ...train with config["lr"], config["beta"], calling report(epoch, {...}) if you like...
        return {"dev_accuracy": acc}

    space = {
        "lr": tune.log_uniform(1e-4, 1e-1),               # 10**r, r uniform in [-4, -1]
        "beta": tune.one_minus_log_uniform(0.9, 0.999),   # 1 - 10**r
        "batch_size": tune.choice([16, 32, 64, 128]),
        "epochs": 2,                                      # a constant
    }
    result = tune.search(train_fn, space, 16, rounds=2, executor="process", seed=0)
    print(result.to_table())
    result.plot("search.png")
    result.best.config

`executor` is any `concurrent.futures.Executor` (a process pool by name, a Dask client's
`get_executor()`, mpi4py's `MPIPoolExecutor`); the engines are optional and imported by the
caller, never here. Early stopping is successive halving between rungs (`SuccessiveHalving`).
"""

from autodiff.tune.executors import SerialExecutor
from autodiff.tune.halving import SuccessiveHalving
from autodiff.tune.random_search import search
from autodiff.tune.result import SearchResult
from autodiff.tune.spaces import (
    Choice,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    Space,
    Uniform,
    choice,
    int_uniform,
    log_uniform,
    one_minus_log_uniform,
    uniform,
)
from autodiff.tune.trial import Reporter, Trial

__all__ = [
    "Choice",
    "IntUniform",
    "LogUniform",
    "OneMinusLogUniform",
    "Reporter",
    "SearchResult",
    "SerialExecutor",
    "Space",
    "SuccessiveHalving",
    "Trial",
    "Uniform",
    "choice",
    "int_uniform",
    "log_uniform",
    "one_minus_log_uniform",
    "search",
    "uniform",
]
