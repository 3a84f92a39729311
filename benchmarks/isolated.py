"""The isolated mode (the default): each peer runs each case in fresh interpreters of its own.

That is how a user meets a library: a new process, numpy imported first, the environment as the
user set it, a plain loop of training steps. Nothing here sets an environment variable (no
``OPENBLAS_THREAD_TIMEOUT``, ``GOMP_SPINCOUNT``, ``KMP_BLOCKTIME``...): the children get the
environment the command started with. Thread counts given with ``--threads`` are set through the
libraries' calls (threadpoolctl for BLAS and OpenMP, ``torch.set_num_threads``,
``numba.set_num_threads``); numba's pool cannot grow past its size at import, which only
``NUMBA_NUM_THREADS`` sets, and the output says so when that limits a run.

For each case the processes alternate between peers, A B B A A B ..., so that a change in the
machine's load during the case reaches all of them alike. The first round runs the reference
peer (torch, else numpy, else the first that works) first: it saves its loss and gradients, and
every later process compares its own first call with them (:func:`benchmarks.runner.compare`)
before timing anything; a process that disagrees reports the error and times nothing. Within
a process the timing is :func:`benchmarks.timing.interleave` with one peer: warm-up, then
samples of a plain loop of calls.

The parent starts each child as ``python -m benchmarks.isolated --peer NAME --case NAME ...``
(an internal command line) and reads its report, a JSON file.
"""

import numpy as np  # noqa: I001 (a child imports numpy first, as a user's script does)

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks import machine, scaling
from benchmarks.cases import Case, all_cases, scaling_cases
from benchmarks.peers import Peer, load_peers
from benchmarks.runner import (
    ERROR,
    NA,
    OK,
    REFERENCES,
    Result,
    describe,
    disagreement,
    first_call,
)
from benchmarks.timing import Budget, Timing, interleave

#: Processes per peer and case unless ``--processes`` says otherwise (``--quick``: one).
PROCESSES = 4

#: Where ``benchmarks`` is importable from, the children's working directory.
ROOT = Path(__file__).resolve().parents[1]

#: Key of the reference peer's name in a saved reference file.
_PEER_KEY = "__peer__"


def _applies(case: Case, peer: Peer) -> bool:
    """Whether the case is meant for this peer (machine limits are numpy's only)."""
    return case.peers is None or peer.name in case.peers


def _reference_first(peers: list[Peer]) -> list[Peer]:
    """The peers with the references first, in :data:`REFERENCES` order, the rest as given."""
    rank = {name: i for i, name in enumerate(REFERENCES)}
    return sorted(peers, key=lambda p: rank.get(p.name, len(rank)))


def run(
    cases: list[Case],
    peers: list[Peer],
    budget: Budget,
    *,
    processes: int,
    threads: int | None,
    env: dict[str, str],
    shared: bool = False,
    referee: Peer | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> tuple[list[Result], dict[str, dict]]:
    """Check and time every case on every peer, each (case, peer) in ``processes`` children.

    Parameters
    ----------
    cases, peers : list
        What to run; a case excluded for a peer by ``case.peers`` gets no result for it.
    budget : Budget
        ``seconds`` is the timed time of one case, all peers and processes together; each
        process gets its share, and the repeat bounds apply per process.
    processes : int
        Fresh processes per peer and case, alternating between peers.
    threads : int or None
        Thread count each child sets for its libraries; None leaves their defaults.
    env : dict
        The children's environment: the user's, as it was before any library loaded here.
    shared : bool
        One process per peer runs all the cases in turn (a smoke test, ``--quick``).
    referee : Peer, optional
        Checked against, not timed nor reported, when no peer is a reference.
    log : Callable
        Receives a progress line per case.

    Returns
    -------
    results : list of Result
        Per case, one per applicable peer in the order of ``peers``.
    pools : dict
        Peer name -> its last process's thread pools (:func:`benchmarks.machine.pools`).
    """
    order = _reference_first(peers)
    groups = [cases] if shared else [[case] for case in cases]
    runs: dict[tuple[str, str], list[dict]] = {}
    failed: dict[tuple[str, str], Result] = {}
    pools: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="benchmarks-") as refdir:
        for i, group in enumerate(groups, 1):
            if not shared:
                log(f"[{i}/{len(groups)}] {group[0].name}: {group[0].description}")
            taking_part = [p for p in order if any(_applies(c, p) for c in group)]
            share = replace(budget, seconds=budget.seconds / processes / max(1, len(taking_part)))
            if referee:
                _child(referee, group, None, threads, refdir, env)
            for turn in range(processes):
                for peer in taking_part if turn % 2 == 0 else taking_part[::-1]:
                    todo = [
                        c for c in group if _applies(c, peer) and (c.name, peer.name) not in failed
                    ]
                    if not todo:
                        continue
                    report = _child(peer, todo, share, threads, refdir, env)
                    pools[peer.name] = report.get("pools", {})
                    for case, outcome in zip(todo, report["results"], strict=True):
                        if outcome["status"] == OK:
                            runs.setdefault((case.name, peer.name), []).append(outcome)
                        else:
                            failed[case.name, peer.name] = Result(
                                case, peer.name, outcome["status"], outcome["note"]
                            )
    results = []
    for case in cases:
        for peer in peers:
            key = (case.name, peer.name)
            if key in failed:
                results.append(failed[key])
            elif key in runs:
                results.append(Result(case, peer.name, OK, timing=_combine(runs[key])))
    return results, pools


def _combine(runs: list[dict]) -> Timing:
    """One :class:`Timing` from the reports of a (case, peer)'s processes."""
    return Timing(
        first_call=statistics.median(r["first_call"] for r in runs),
        samples=tuple(s for r in runs for s in r["samples"]),
        calls_per_sample=round(statistics.median(r["calls_per_sample"] for r in runs)),
        processes=len(runs),
    )


def _child(
    peer: Peer,
    cases: list[Case],
    budget: Budget | None,
    threads: int | None,
    refdir: str,
    env: dict[str, str],
) -> dict:
    """Run one child process; return its report (an error per case if it died)."""
    with tempfile.NamedTemporaryFile(suffix=".json", dir=refdir, delete=False) as f:
        out = f.name
    command = [sys.executable, "-m", "benchmarks.isolated", "--peer", peer.name]
    command += [arg for case in cases for arg in ("--case", case.name)]
    command += ["--refdir", refdir, "--out", out]
    if budget is not None:
        command += ["--budget", json.dumps(asdict(budget))]
    if threads is not None:
        command += ["--threads", str(threads)]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        with open(out) as f:
            report = json.load(f)
    except (OSError, json.JSONDecodeError):
        report = None
    finally:
        os.unlink(out)
    if proc.returncode != 0 or report is None:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        note = f"process exited with status {proc.returncode}: {last}"
        return {"results": [{"status": ERROR, "note": note} for _ in cases]}
    if "unavailable" in report:
        return {"results": [{"status": NA, "note": report["unavailable"]} for _ in cases]}
    return report


# The child's side: one peer, the given cases, one after the other.


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.isolated",
        description="Internal: one peer's process of the isolated mode of python -m benchmarks.",
    )
    p.add_argument("--peer", required=True)
    p.add_argument("--case", action="append", required=True, help="case name (repeatable)")
    p.add_argument("--refdir", required=True, help="directory of the reference results")
    p.add_argument("--out", required=True, help="where to write the JSON report")
    p.add_argument("--budget", help="Budget fields as JSON; without it, check only")
    p.add_argument("--threads", type=int, help="thread count for the libraries")
    return p


def find_case(name: str) -> Case:
    """The case called ``name``, among the default suite and the scaling cases."""
    for case in all_cases() + scaling_cases(scaling.BATCHES):
        if case.name == name:
            return case
    raise ValueError(f"no case named {name!r}")


def _reference_path(refdir: str, case: Case) -> Path:
    """Where the reference peer's results for ``case`` are saved."""
    return Path(refdir) / (re.sub(r"[^\w.-]", "_", case.name) + ".npz")


def _check_and_time(
    peer: Peer, case: Case, refdir: str, budget: Budget | None, threads: int | None
) -> dict:
    """First call, check against the saved reference (or save it), then time; as JSON data."""
    outcome = first_call(peer, case, case.make_inputs())
    if isinstance(outcome, Result):
        return {"status": outcome.status, "note": outcome.note}
    step, seconds, values = outcome
    path = _reference_path(refdir, case)
    if path.exists():
        with np.load(path) as saved:
            ref = dict(saved)
        bad = disagreement(case, peer.name, values, ref, str(ref.pop(_PEER_KEY)))
        if bad:
            return {"status": bad.status, "note": bad.note}
    else:
        kept = {k: v for k, v in values.items() if v is not None}
        np.savez(path, **kept, **{_PEER_KEY: np.array(peer.name)})
    if budget is None:
        return {"status": OK, "first_call": seconds, "samples": [], "calls_per_sample": 0}
    if threads is not None:
        machine.pin_threads(threads)  # again: the first call may have loaded a new pool
    gc.collect()  # the check's arrays must not be freed inside a timed sample
    timings, errors = interleave({peer.name: step}, {peer.name: seconds}, budget)
    if errors:
        return {"status": ERROR, "note": describe(errors[peer.name])}
    t = timings[peer.name]
    return {
        "status": OK,
        "first_call": t.first_call,
        "samples": list(t.samples),
        "calls_per_sample": t.calls_per_sample,
    }


def child_main(argv: list[str] | None = None) -> int:
    """Run one peer's cases in this process and write the report; the exit status is 0."""
    args = _parser().parse_args(argv)
    cases = [find_case(name) for name in args.case]
    budget = Budget(**json.loads(args.budget)) if args.budget else None
    peers, unavailable = load_peers((args.peer,), args.threads)
    if not peers:
        report = {"unavailable": unavailable[args.peer]}
    else:
        note = None if args.threads is None else machine.pin_threads(args.threads)
        results = [_check_and_time(peers[0], c, args.refdir, budget, args.threads) for c in cases]
        report = {"results": results, "pools": {**machine.pools(), "note": note}}
    with open(args.out, "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
