"""One trial: what a worker runs (`run_trial`), the `Reporter` it hands to `train_fn`, and the
`Trial` record the search keeps.

`run_trial` is a module-level function so that every executor can ship it: a process pool pickles
it by reference, Dask and MPI with cloudpickle or pickle. It returns plain data (dicts, floats,
strings), never the model.
"""

import math
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


class Reporter:
    """The `report` argument of `train_fn(config, report)`.

    `report(step, {"dev_accuracy": 0.9, ...})` (or `report(step, dev_accuracy=0.9)`) records the
    metrics at `step` (an epoch, say) in the trial's history. If `train_fn` returns None, the
    last reported metrics are the trial's result.

    Attributes
    ----------
    trial : int
        The trial's index in the search.
    seed : int
        A seed for the trial's own randomness (initialisation, shuffling), drawn by the search
        from its seed: pass it to `autodiff.manual_seed` for reproducible trials.
    """

    def __init__(self, trial: int, seed: int):
        self.trial, self.seed = trial, seed
        self.history: list[tuple[int, dict]] = []

    def __call__(self, step: int, metrics: Mapping | None = None, **more) -> None:
        values = {**(metrics or {}), **more}
        self.history.append((int(step), _plain(values, f"report at step {step}")))


def run_trial(train_fn, config: dict, trial: int, seed: int) -> dict:
    """Run `train_fn(config, report)` once; its metrics, history, wall time and worker."""
    report = Reporter(trial, seed)
    start = time.perf_counter()
    returned = train_fn(dict(config), report)
    wall_time = time.perf_counter() - start
    if returned is None:
        if not report.history:
            raise ValueError(
                f"search: train_fn returned None and reported nothing for trial {trial} "
                f"(config {config}); return a dict of metrics or call report(step, metrics)"
            )
        metrics = report.history[-1][1]
    elif isinstance(returned, Mapping):
        metrics = _plain(returned, "train_fn's result")
    else:
        raise TypeError(
            f"search: train_fn must return a dict of metrics (or None after report), got "
            f"{type(returned).__name__} for trial {trial}"
        )
    return {
        "metrics": metrics,
        "history": report.history,
        "wall_time": wall_time,
        "worker": worker_name(),
    }


def worker_name() -> str:
    """host:pid, and the thread's name when not the main thread."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    thread = threading.current_thread()
    return name if thread is threading.main_thread() else f"{name}:{thread.name}"


def _plain(metrics: Mapping, what: str) -> dict:
    """Metrics as {str: float} (a 0-d array or tensor becomes a float)."""
    try:
        return {str(k): float(v) for k, v in metrics.items()}
    except (TypeError, ValueError) as error:
        raise TypeError(f"search: {what} must map names to numbers, got {dict(metrics)}") from error


@dataclass
class Trial:
    """One configuration tried by `search`, with what became of it.

    Attributes
    ----------
    index : int
        Position in the search (round by round, in the order drawn); results are kept in this
        order, never in the order trials finished.
    round : int
        The coarse-to-fine round (0 first) that drew it.
    config : dict
        The hyperparameters passed to `train_fn` (with successive halving, at the trial's
        largest budget).
    metrics : dict
        What its last run returned.
    history : list of (step, dict)
        What its last run reported.
    wall_time : float
        Seconds in `train_fn`, summed over its runs.
    worker : str
        host:pid (and thread) of its last run.
    seed : int
        The seed its `report.seed` carried (the same at every rung).
    rungs : list of dict
        With successive halving, the metrics at each budget it ran (else one entry).
    stopped : bool
        Whether successive halving stopped it before the largest budget.
    """

    index: int
    round: int
    config: dict
    seed: int
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    wall_time: float = 0.0
    worker: str = ""
    rungs: list = field(default_factory=list)
    stopped: bool = False

    def record(self, config: dict, outcome: dict) -> None:
        """Take in the outcome of one run of `run_trial` with `config`."""
        self.config = config
        self.metrics = outcome["metrics"]
        self.history = outcome["history"]
        self.wall_time += outcome["wall_time"]
        self.worker = outcome["worker"]
        self.rungs.append(outcome["metrics"])

    def score(self, metric: str, mode: str) -> float:
        """The metric as a number to maximise; NaN (a diverged run) ranks below everything."""
        if metric not in self.metrics:
            raise ValueError(
                f"search: trial {self.index} has no metric {metric!r}; it returned "
                f"{sorted(self.metrics)} (config {self.config})"
            )
        value = self.metrics[metric]
        if math.isnan(value):
            return -math.inf
        return value if mode == "max" else -value
