"""Timing: the first call apart, then repeats interleaved across peers under a time budget.

Each peer's first call is timed on its own and reported as "first call": it includes JIT
compilation (numba, tinygrad), lazy imports and allocator warm-up, which a steady-state number
should not hide or absorb. After a few untimed warm-up calls, a call shorter than the target
sample time is looped so that one *sample* lasts about that long (the timer's resolution and
the loop's overhead then don't matter), and the time per call is sample time / calls.

Peers take turns sample by sample (A B B A A B ...), so a burst of load on this shared machine
hits all of them alike and their ratio stays meaningful; the order flips every round so neither
peer always runs right after the other's cache footprint. Garbage collection stays enabled: the
cost of freeing a library's graph is part of what it costs to use.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """How long to measure one case.

    Attributes
    ----------
    seconds : float
        Wall time of the interleaved rounds of one case, all peers together; rounds stop once
        it is spent and ``min_repeats`` are done.
    min_repeats, max_repeats : int
        Bounds on the number of samples per peer.
    sample_seconds : float
        Target duration of one sample; faster calls are looped within it.
    warmup : int
        Untimed calls after the first one, before calibration.
    """

    seconds: float
    min_repeats: int
    max_repeats: int
    sample_seconds: float
    warmup: int

    def __post_init__(self):
        if not 1 <= self.min_repeats <= self.max_repeats:
            raise ValueError(
                f"Budget: need 1 <= min_repeats <= max_repeats, got {self.min_repeats}, "
                f"{self.max_repeats}"
            )


DEFAULT = Budget(seconds=5.0, min_repeats=5, max_repeats=200, sample_seconds=0.02, warmup=1)
QUICK = Budget(seconds=0.05, min_repeats=2, max_repeats=3, sample_seconds=0.002, warmup=0)


@dataclass(frozen=True)
class Timing:
    """One peer's measurements of one case, in seconds per call.

    In the isolated mode the samples come from ``processes`` fresh processes, ``first_call``
    is the median of their first calls and ``calls_per_sample`` the median of their loops.
    """

    first_call: float
    samples: tuple[float, ...]
    calls_per_sample: int
    processes: int = 1

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def p25(self) -> float:
        return float(np.percentile(self.samples, 25))

    @property
    def p75(self) -> float:
        return float(np.percentile(self.samples, 75))


def time_call(fn: Callable[[], object]) -> tuple[float, object]:
    """Run ``fn`` once; return (seconds, its result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _loop(fn: Callable[[], object], calls: int) -> float:
    """Seconds taken by ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def _calls_per_sample(fn: Callable[[], object], target: float) -> int:
    """Calls that fill about ``target`` seconds, measured on growing loops (timeit's way)."""
    calls, elapsed = 1, _loop(fn, 1)
    while elapsed < target / 10:
        calls *= 10
        elapsed = _loop(fn, calls)
    return max(1, round(calls * target / elapsed))


def interleave(
    fns: dict[str, Callable[[], object]], first_calls: dict[str, float], budget: Budget
) -> tuple[dict[str, Timing], dict[str, Exception]]:
    """Time several peers' steps of one case, taking turns.

    Parameters
    ----------
    fns : dict
        Peer name -> step, each already called once (its first call).
    first_calls : dict
        Peer name -> seconds of that first call, carried into the result.
    budget : Budget
        How long to measure.

    Returns
    -------
    timings : dict
        Peer name -> :class:`Timing`.
    errors : dict
        Peer name -> the exception that stopped it; such a peer is dropped from the rounds.
    """
    errors: dict[str, Exception] = {}
    calls: dict[str, int] = {}
    for name, fn in fns.items():
        try:
            _loop(fn, budget.warmup)
            calls[name] = _calls_per_sample(fn, budget.sample_seconds)
        except Exception as exc:  # one failing peer must not stop the others
            errors[name] = exc
    samples: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    start = time.perf_counter()
    rounds = 0
    while (
        order
        and rounds < budget.max_repeats
        and (rounds < budget.min_repeats or time.perf_counter() - start < budget.seconds)
    ):
        for name in order if rounds % 2 == 0 else reversed(order):
            try:
                samples[name].append(_loop(fns[name], calls[name]) / calls[name])
            except Exception as exc:
                errors[name] = exc
        order = [name for name in order if name not in errors]
        rounds += 1
    timings = {
        name: Timing(first_calls[name], tuple(samples[name]), calls[name])
        for name in order
        if samples[name]
    }
    return timings, errors
