"""`python -m benchmarks.tuning`: its experiments name what exists, and a worker times a step."""

import importlib

import pytest

from benchmarks import tuning


def _resolve(name: str):
    module, path = name.split(":")
    owner = importlib.import_module(module)
    for part in path.split("."):
        owner = getattr(owner, part)
    return owner


@pytest.mark.parametrize("experiment", tuning.EXPERIMENTS, ids=lambda e: e.name)
def test_experiments_name_known_workloads_and_attributes(experiment):
    for name, params in experiment.workloads:
        assert name in tuning.WORKLOADS
        for attr in params.get("attrs", {}):
            _resolve(attr)
    for variant in experiment.variants:
        for attr in variant.attrs:
            _resolve(attr)


def _spec(workload, params, variant_params=None):
    return {
        "workload": workload,
        "params": params,
        "variant_params": variant_params or {},
        "attrs": {},
        "seconds": 0.0,
    }


def test_a_worker_times_a_step():
    result = tuning._worker(_spec("mlp", {"batch": 4, "sizes": (8, 6, 3)}))
    assert result["steps"] >= 5 and result["median"] > 0


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_step_with_torch_in_the_process(when):
    pytest.importorskip("torch")
    result = tuning._worker(_spec("with_torch", {"workload": "lenet", "batch": 2}, {"torch": when}))
    assert result["steps"] >= 5 and result["median"] > 0
