"""Running one case on every peer: build, first call, correctness check, interleaved timing.

The check comes before any timing: each peer's first call is compared with the reference
peer's (torch where it runs, else numpy), output and every gradient, and a peer that disagrees
is reported as an error and not timed, so a fast wrong answer can never win.
"""

import gc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks.cases import Case
from benchmarks.peers import Peer, Unsupported
from benchmarks.timing import Budget, Timing, interleave, time_call

#: Peers whose results the others are checked against, most trusted first.
REFERENCES = ("torch", "numpy")

#: Errors that mean "this library lacks something the case needs" rather than a wrong answer;
#: a library under development meets them until its ops land.
MISSING = (Unsupported, ImportError, AttributeError, NotImplementedError)

OK, NA, ERROR = "ok", "n/a", "error"


@dataclass(frozen=True)
class Result:
    """The outcome of one case on one peer.

    Attributes
    ----------
    case : Case
    peer : str
    status : str
        ``"ok"`` (timed), ``"n/a"`` (peer can't run it) or ``"error"`` (failed or wrong).
    note : str
        Why it is n/a or an error; empty when ok.
    timing : Timing or None
        Present when ok.
    """

    case: Case
    peer: str
    status: str
    note: str = ""
    timing: Timing | None = None


def compare(got: dict, ref: dict, rtol: float) -> str | None:
    """Check a peer's results against the reference's.

    Each array must have the reference's shape and satisfy
    ``|got - ref| <= rtol * (|ref| + max|ref|)`` elementwise: relative where values are large,
    and relative to the array's scale where they are near zero (gradients of sums of many
    float32 terms cancel to small values whose digits differ between summation orders).

    Parameters
    ----------
    got, ref : dict
        Name -> ndarray (or None for a missing gradient), as returned by a step.
    rtol : float
        Relative tolerance.

    Returns
    -------
    str or None
        A description of the first disagreement, or None if they agree.
    """
    if set(got) != set(ref):
        return f"returns {sorted(got)} but the reference returns {sorted(ref)}"
    for name, r in ref.items():
        g = got[name]
        if g is None:
            return f"{name}: no value (gradient not computed?)"
        g, r = np.asarray(g, dtype=np.float64), np.asarray(r, dtype=np.float64)
        if g.shape != r.shape:
            return f"{name}: shape {g.shape}, reference {r.shape}"
        scale = float(np.abs(r).max()) if r.size else 0.0
        bad = ~(np.abs(g - r) <= rtol * (np.abs(r) + scale))
        if bad.any():
            i = tuple(int(k) for k in np.unravel_index(np.argmax(bad), bad.shape))
            return (
                f"{name}{list(i) if i else ''}: {g[i]:.6g}, reference {r[i]:.6g} "
                f"({int(bad.sum())} of {bad.size} elements differ, rtol {rtol:g})"
            )
    return None


def disagreement(case: Case, peer: str, got: dict, ref: dict, ref_peer: str) -> Result | None:
    """An error :class:`Result` if ``peer``'s first-call values differ from ``ref_peer``'s."""
    problem = compare(got, ref, case.rtol)
    return Result(case, peer, ERROR, f"wrong vs {ref_peer}: {problem}") if problem else None


def first_call(peer: Peer, case: Case, inputs: dict) -> tuple[Callable, float, dict] | Result:
    """Build the peer's step on its own copy of the inputs and call it once.

    Returns
    -------
    (step, seconds, values) or Result
        The step, its first call's duration and its results as arrays; or an n/a or error
        :class:`Result` when the peer has no adapter, lacks something or fails.
    """
    if case.kind not in peer.builders:
        return Result(case, peer.name, NA, "no adapter for this case")
    try:
        step = peer.builders[case.kind](case, {k: v.copy() for k, v in inputs.items()})
        seconds, values = time_call(step)
        arrays = {k: None if v is None else np.asarray(peer.to_numpy(v)) for k, v in values.items()}
    except MISSING as exc:
        return Result(case, peer.name, NA, describe(exc))
    except Exception as exc:  # report and go on with the other peers
        return Result(case, peer.name, ERROR, describe(exc))
    return step, seconds, arrays


def check(
    case: Case, peers: list[Peer], referee: Peer | None = None
) -> tuple[dict[str, Callable], dict, dict[str, Result]]:
    """Build every peer's step, call it once, and check its results against the reference's.

    Parameters
    ----------
    case : Case
    peers : list of Peer
        Available peers; those excluded by ``case.peers`` are left out.
    referee : Peer, optional
        A reference peer to check against without timing or reporting it, for runs whose
        ``peers`` include none of :data:`REFERENCES`; it must not be in ``peers``.

    Returns
    -------
    steps : dict
        Peer name -> step, for the peers that agree with the reference (ready to time).
    first_calls : dict
        Peer name -> seconds its first call took.
    failed : dict
        Peer name -> an n/a or error :class:`Result` for the others.
    """
    inputs = case.make_inputs()
    applicable = [p for p in peers if case.peers is None or p.name in case.peers]
    failed: dict[str, Result] = {}
    steps, first, values = {}, {}, {}
    for peer in applicable + ([referee] if referee and applicable else []):
        outcome = first_call(peer, case, inputs)
        if isinstance(outcome, Result):
            failed[peer.name] = outcome
        else:
            steps[peer.name], first[peer.name], values[peer.name] = outcome
    ref = next((name for name in REFERENCES if name in values), next(iter(values), None))
    for name in list(steps):
        bad = None if name == ref else disagreement(case, name, values[name], values[ref], ref)
        if bad:
            failed[name] = bad
            del steps[name]
    if referee:
        for found in (steps, first, failed):
            found.pop(referee.name, None)
    return steps, first, failed


def run_case(
    case: Case, peers: list[Peer], budget: Budget, referee: Peer | None = None
) -> list[Result]:
    """Check one case on every peer that can run it, then time those that passed.

    Parameters
    ----------
    case : Case
    peers : list of Peer
        Available peers; those excluded by ``case.peers`` get no result at all.
    budget : Budget
        Timing budget for this case.
    referee : Peer, optional
        Checked against but not timed; see :func:`check`.

    Returns
    -------
    list of Result
        One per peer that the case applies to, in the order of ``peers``.
    """
    steps, first, outcome = check(case, peers, referee)
    gc.collect()  # the check's arrays and graphs must not be freed inside a timed sample
    timings, errors = interleave(steps, first, budget)
    for name, exc in errors.items():
        outcome[name] = Result(case, name, ERROR, describe(exc))
    for name, timing in timings.items():
        outcome[name] = Result(case, name, OK, timing=timing)
    return [outcome[p.name] for p in peers if p.name in outcome]


def describe(exc: Exception) -> str:
    """``Type: message`` of an exception (the reason alone for Unsupported), first line only."""
    message = str(exc).strip().splitlines()
    if isinstance(exc, Unsupported):
        return message[0] if message else "not supported"
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
