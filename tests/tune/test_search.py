"""tune.search: reproducible on every executor, coarse to fine, successive halving, results."""

import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from autodiff import tune
from tests.tune.trainables import bowl, fails_above, nan_above, reports_only

SPACE = {
    "lr": tune.log_uniform(1e-4, 1e-1),
    "beta": tune.one_minus_log_uniform(0.9, 0.999),
    "batch_size": tune.choice([16, 32, 64, 128]),
}


def summary(result):
    """What must not depend on the executor."""
    return (
        [(t.index, t.round, t.config, t.seed, t.metrics, t.history) for t in result.trials],
        result.best.index,
    )


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_same_seed_same_trials_results_and_best_on_every_executor(executor):
    space = {**SPACE, "sleep": 0.05}  # the first trials finish last on a pool
    serial = tune.search(bowl, space, 6, seed=3, rounds=2)
    if executor == "thread":
        with ThreadPoolExecutor(2) as pool:
            pooled = tune.search(bowl, space, 6, seed=3, rounds=2, executor=pool)
    else:  # a pool of one worker per core, two here, owned and shut down by the search
        pooled = tune.search(bowl, space, 6, seed=3, rounds=2, executor="process")
    assert summary(pooled) == summary(serial)
    assert [t.index for t in pooled.trials] == list(range(12))
    if executor == "process":
        assert all(str(os.getpid()) not in t.worker.split(":") for t in pooled.trials)
    assert all(str(os.getpid()) in t.worker.split(":") for t in serial.trials)


def test_another_seed_draws_other_trials():
    a = tune.search(bowl, SPACE, 4, seed=0)
    b = tune.search(bowl, SPACE, 4, seed=1)
    assert [t.config for t in a.trials] != [t.config for t in b.trials]


def test_the_first_trials_do_not_depend_on_the_number_of_trials():
    few, more = tune.search(bowl, SPACE, 3, seed=0), tune.search(bowl, SPACE, 7, seed=0)
    assert summary(few)[0] == summary(more)[0][:3]


def test_rounds_narrow_the_box_around_the_top_k_of_all_rounds():
    result = tune.search(bowl, SPACE, 8, seed=0, rounds=3, top_k=3)
    assert [t.round for t in result.trials] == [0] * 8 + [1] * 8 + [2] * 8
    for number in (1, 2):
        earlier = [t for t in result.trials if t.round < number]
        top = tune.result.rank(earlier, "dev_accuracy", "max")[:3]
        lrs = [t.config["lr"] for t in top]
        assert result.boxes[number]["lr"] == tune.log_uniform(min(lrs), max(lrs))
        drawn = [t for t in result.trials if t.round == number]
        assert all(min(lrs) <= t.config["lr"] <= max(lrs) for t in drawn)
    best_of = [
        max(t.metrics["dev_accuracy"] for t in result.trials if t.round == r) for r in (0, 2)
    ]
    assert best_of[1] >= best_of[0]
    assert result.best.metrics["dev_accuracy"] == max(
        t.metrics["dev_accuracy"] for t in result.trials
    )


def test_successive_halving_keeps_the_best_fraction_at_each_budget():
    halving = tune.SuccessiveHalving("epochs", [1, 2, 4], keep=0.5)
    result = tune.search(bowl, SPACE, 8, seed=0, early_stop=halving)
    rungs = [len(t.rungs) for t in result.trials]
    assert sorted(rungs) == [1, 1, 1, 1, 2, 2, 3, 3]
    first = sorted(result.trials, key=lambda t: -t.rungs[0]["dev_accuracy"])
    assert {t.index for t in first[:4]} == {t.index for t in result.trials if len(t.rungs) > 1}
    for trial in result.trials:
        assert trial.stopped == (len(trial.rungs) < 3)
        assert trial.config["epochs"] == [1, 2, 4][len(trial.rungs) - 1]
        assert len(trial.history) == trial.config["epochs"]  # the last run's reports
    assert result.best.config["epochs"] == 4
    assert result.ranked()[2].config["epochs"] == 2  # stopped trials rank below finishers


def test_mode_min_and_nan_metrics_rank_last():
    result = tune.search(bowl, SPACE, 6, metric="loss", mode="min")
    assert result.best.metrics["loss"] == min(t.metrics["loss"] for t in result.trials)
    diverging = tune.search(nan_above, {"x": tune.uniform(0, 1)}, 8, seed=0)
    assert any(math.isnan(t.metrics["dev_accuracy"]) for t in diverging.trials)
    ranked = diverging.ranked()
    assert not math.isnan(ranked[0].metrics["dev_accuracy"])
    assert math.isnan(ranked[-1].metrics["dev_accuracy"])


def test_reports_make_the_history_and_the_last_one_the_result():
    result = tune.search(reports_only, {"x": tune.uniform(0, 1)}, 2)
    trial = result.trials[0]
    assert [step for step, _ in trial.history] == [0, 1, 2]
    assert trial.metrics == {"dev_accuracy": 2 * trial.config["x"]}
    assert trial.wall_time >= 0


def test_a_failing_trial_raises_with_a_note_naming_it():
    with pytest.raises(FloatingPointError, match="diverged") as info:
        tune.search(fails_above, {"x": tune.uniform(0, 1)}, 8, seed=0)
    assert any("search: in trial" in note for note in info.value.__notes__)


def test_a_missing_metric_is_named():
    with pytest.raises(ValueError, match="no metric 'accuracy'"):
        tune.search(bowl, SPACE, 2, metric="accuracy")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_trials": 0}, ValueError, "n_trials must be a positive integer"),
        ({"rounds": 0}, ValueError, "rounds must be a positive integer"),
        ({"top_k": 0}, ValueError, "top_k must be a positive integer"),
        ({"mode": "maximum"}, ValueError, "mode must be 'max' or 'min'"),
        ({"executor": "cluster"}, ValueError, "unknown executor 'cluster'"),
        ({"executor": object()}, TypeError, "object with submit"),
        ({"space": [1, 2]}, TypeError, "space must be a dict"),
        ({"early_stop": 3}, TypeError, "early_stop must be None or a SuccessiveHalving"),
        (
            {"early_stop": tune.SuccessiveHalving("lr", [1, 2])},
            ValueError,
            "budget 'lr' .* is also in the space",
        ),
    ],
)
def test_bad_arguments_are_refused_before_any_trial(kwargs, error, message):
    calls = []
    arguments = {"train_fn": lambda c, r: calls.append(c), "space": SPACE, "n_trials": 2}
    with pytest.raises(error, match=message):
        tune.search(**{**arguments, **kwargs})
    assert calls == []


def test_successive_halving_checks_its_budgets():
    with pytest.raises(ValueError, match="budgets must increase"):
        tune.SuccessiveHalving("epochs", [2, 1])
    with pytest.raises(ValueError, match=r"keep must lie in \(0, 1\)"):
        tune.SuccessiveHalving("epochs", [1, 2], keep=1)


def test_table_lists_trials_best_first():
    result = tune.search(bowl, {**SPACE, "epochs": 2}, 5, seed=0)
    lines = result.to_table().splitlines()
    assert lines[0].split() == [
        "rank", "trial", "round", "lr", "beta", "batch_size",
        "dev_accuracy", "loss", "batch", "seconds", "worker",
    ]  # fmt: skip
    assert len(lines) == 6
    assert lines[1].split()[:2] == ["1", str(result.best.index)]
    assert len(result.to_table(top=2).splitlines()) == 3
    assert "best dev_accuracy=" in repr(result)


def test_plot_writes_an_image(tmp_path):
    pytest.importorskip("matplotlib")
    result = tune.search(
        bowl, SPACE, 6, rounds=2, early_stop=tune.SuccessiveHalving("epochs", [1, 3])
    )
    path = tmp_path / "search.png"
    result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_the_library_imports_no_engine():
    code = (
        "import sys, autodiff, autodiff.tune; "
        "engines = ('dask', 'distributed', 'mpi4py', 'matplotlib'); "
        "print(sorted(m for m in engines if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
