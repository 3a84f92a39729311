"""`search`: random search, coarse to fine, over any `concurrent.futures.Executor`."""

from collections.abc import Callable, Mapping

import numpy as np

from autodiff.tune.executors import open_executor
from autodiff.tune.halving import SuccessiveHalving
from autodiff.tune.result import SearchResult, rank
from autodiff.tune.spaces import check_space, narrow_space, sample_config
from autodiff.tune.trial import Trial, run_trial


def search(
    train_fn: Callable,
    space: Mapping,
    n_trials: int,
    *,
    executor=None,
    seed: int = 0,
    rounds: int = 1,
    top_k: int | None = None,
    metric: str = "dev_accuracy",
    mode: str = "max",
    early_stop: SuccessiveHalving | None = None,
) -> SearchResult:
    """Random search of `space` for the configs that make `train_fn` score best.

    Parameters
    ----------
    train_fn : callable
        `train_fn(config, report) -> dict` of metrics, e.g. {"dev_accuracy": 0.97}. `config` is
        a dict name -> value drawn from `space`; `report(step, metrics)` may record
        intermediate metrics (the trial's history; see `Reporter`), and `report.seed` seeds the
        trial's own randomness. With a process pool it must be importable (module level).
    space : dict
        Name -> space (`log_uniform(1e-4, 1e-1)`, `choice([...])`, ...); other values are
        constants given to every trial.
    n_trials : int
        Trials per round.
    executor : None, "serial", "process", "thread" or a concurrent.futures.Executor
        Where trials run (see `autodiff.tune.executors`); None runs them one after another in
        this process. A Dask client's `get_executor()` or an `MPIPoolExecutor` run them on a
        cluster.
    seed : int
        Every config and every `report.seed` is drawn in this process from
        `np.random.default_rng(seed)`: one spawned child per round, and one child of it per
        trial (so the first trials are the same for any `n_trials`); results are kept in trial
        order. So the same seed gives the same trials, results and best config on any executor
        (when `train_fn` is deterministic given its config and `report.seed`).
    rounds : int
        Coarse to fine: after each round, every space is narrowed to the box (on its own scale)
        around the `top_k` best trials of all rounds so far, and the next round draws
        `n_trials` from that box.
    top_k : int, optional
        How many of the best trials the box holds; default a quarter of `n_trials`, at least 2.
    metric, mode : str, "max" or "min"
        The entry of train_fn's dict that ranks trials, and whether higher is better. A NaN
        (a diverged run) ranks last.
    early_stop : SuccessiveHalving, optional
        Successive halving of each round's trials by budget (see `autodiff.tune.halving`);
        trials stopped early rank below those that ran at the largest budget.

    Returns
    -------
    SearchResult
        `.trials` in order drawn, `.best`, `.to_table()`, `.plot(path)`.

    Raises
    ------
    TypeError, ValueError
        For bad arguments, before any trial runs; a trial's exception propagates with a note
        naming the trial and its config, and the trials not yet started are cancelled.

    Example
    -------
    >>> from autodiff import tune
    >>> def train_fn(config, report):
    ...     return {"dev_accuracy": 1 - abs(config["lr"] - 0.01)}
    >>> result = tune.search(train_fn, {"lr": tune.log_uniform(1e-4, 1e-1)}, 8, rounds=2)
    >>> len(result.trials), result.boxes[1]  # round 1 drew from the box around the top 2
    (16, {'lr': log_uniform(0.00402125, 0.00495901)})
    """
    top_k = _check_arguments(
        train_fn, space, n_trials, rounds, top_k, metric, mode, early_stop, seed
    )
    round_rngs = np.random.default_rng(seed).spawn(rounds)
    trials, boxes = [], []
    with open_executor(executor) as pool:
        for number, rng in enumerate(round_rngs):
            box = (
                space
                if number == 0
                else narrow_space(space, _top_configs(trials, top_k, metric, mode))
            )
            # one generator per trial: trial i draws the same config whatever n_trials is
            trial_rngs = rng.spawn(n_trials)
            drawn = [
                Trial(
                    index=len(trials) + i,
                    round=number,
                    config=sample_config(box, trial_rng),
                    seed=int(trial_rng.integers(2**31)),
                )
                for i, trial_rng in enumerate(trial_rngs)
            ]
            _run_round(pool, train_fn, drawn, early_stop, metric, mode)
            trials += drawn
            boxes.append(box)
    return SearchResult(trials, space, boxes, metric, mode, early_stop)


def _top_configs(trials, k, metric, mode):
    return [t.config for t in rank(trials, metric, mode)[:k]]


def _run_round(pool, train_fn, trials, early_stop, metric, mode):
    """Run a round's trials; with successive halving, rung by rung on fewer trials."""
    budgets = [None] if early_stop is None else early_stop.budgets
    running = trials
    for rung, budget in enumerate(budgets):
        configs = [
            t.config if budget is None else {**t.config, early_stop.key: budget} for t in running
        ]
        for trial, config, outcome in zip(
            running, configs, _run_all(pool, train_fn, running, configs)
        ):
            trial.record(config, outcome)
        ranked = rank(running, metric, mode)  # also checks that every trial gave the metric
        if rung == len(budgets) - 1:
            break
        n_keep = early_stop.survivors(len(running))
        for trial in ranked[n_keep:]:
            trial.stopped = True
        running = sorted(ranked[:n_keep], key=lambda t: t.index)


def _run_all(pool, train_fn, trials, configs):
    """Each trial's outcome, in trial order whatever order they finish in."""
    futures = [
        pool.submit(run_trial, train_fn, config, t.index, t.seed)
        for t, config in zip(trials, configs)
    ]
    outcomes = []
    for trial, config, future in zip(trials, configs, futures):
        try:
            outcomes.append(future.result())
        except Exception as error:
            for pending in futures:
                pending.cancel()
            error.add_note(f"search: in trial {trial.index} (round {trial.round}), config {config}")
            raise
    return outcomes


def _check_arguments(train_fn, space, n_trials, rounds, top_k, metric, mode, early_stop, seed):
    """Validate search's arguments; returns top_k with its default filled in."""
    if not callable(train_fn):
        raise TypeError(f"search: train_fn must be callable, got {type(train_fn).__name__}")
    check_space(space)
    for name, value in (("n_trials", n_trials), ("rounds", rounds)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"search: {name} must be a positive integer, got {value!r}")
    if top_k is None:
        top_k = max(2, n_trials // 4)
    if not isinstance(top_k, int | np.integer) or top_k < 1:
        raise ValueError(f"search: top_k must be a positive integer, got {top_k!r}")
    if not isinstance(metric, str):
        raise TypeError(f"search: metric must be a name, got {metric!r}")
    if mode not in ("max", "min"):
        raise ValueError(f"search: mode must be 'max' or 'min', got {mode!r}")
    if not isinstance(seed, int | np.integer):
        raise TypeError(f"search: seed must be an integer, got {seed!r}")
    if early_stop is not None:
        if not isinstance(early_stop, SuccessiveHalving):
            raise TypeError(
                f"search: early_stop must be None or a SuccessiveHalving, got {early_stop!r}"
            )
        if early_stop.key in space:
            raise ValueError(
                f"search: the budget {early_stop.key!r} of {early_stop!r} is also in the "
                "space; successive halving sets it"
            )
    return int(top_k)
