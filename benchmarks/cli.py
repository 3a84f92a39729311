"""Command line: ``python -m benchmarks [-k PATTERN] [--peers a,b] [--quick] [--json PATH] ...``.

Progress goes to stderr as cases run; the table goes to stdout at the end. The exit status is 1
when any peer failed or computed a wrong result, so a CI smoke run catches both.
"""

import argparse
import os
import sys
import time
from dataclasses import asdict, replace

from benchmarks import machine, report, scaling, timing
from benchmarks.cases import Case, all_cases, scaling_cases
from benchmarks.peers import PEER_NAMES, load_peers
from benchmarks.runner import ERROR, REFERENCES, Result, run_case

#: Scaling runs many sizes, the largest slow; a shorter budget per size keeps the mode quick.
SCALING = replace(timing.DEFAULT, seconds=2.0, min_repeats=3)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time autodiff against its peers (torch, a numpy baseline, ...) on "
        "the same cases, after checking they compute the same thing.",
    )
    p.add_argument(
        "-k",
        dest="pattern",
        default="",
        help="run only cases whose name contains one of these comma-separated "
        "substrings, e.g. -k conv,mlp",
    )
    p.add_argument(
        "--peers",
        default=",".join(PEER_NAMES),
        help=f"comma-separated peers (default: all of {','.join(PEER_NAMES)}; "
        "those not installed are skipped)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a few repeats and a tiny budget: a smoke test, not a measurement",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of timed rounds per case, all peers together "
        f"(default {timing.DEFAULT.seconds:g}, --scaling {SCALING.seconds:g})",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads for BLAS, OpenMP, numba and torch (default 2)",
    )
    p.add_argument("--json", metavar="PATH", help="also write results and machine description")
    p.add_argument(
        "--scaling",
        action="store_true",
        help="time the conv and MLP cases at batch sizes "
        f"{', '.join(map(str, scaling.BATCHES))} and print time per sample",
    )
    p.add_argument(
        "--plot", metavar="PATH.png", help="with --scaling, save a plot (needs matplotlib)"
    )
    p.add_argument("--list", action="store_true", help="list the cases and peers, then exit")
    return p


def select(cases: list[Case], pattern: str) -> list[Case]:
    """Cases whose name contains any comma-separated term of ``pattern`` (all if empty)."""
    terms = [t.strip() for t in pattern.split(",") if t.strip()]
    return [c for c in cases if not terms or any(t in c.name for t in terms)]


def _budget(args: argparse.Namespace) -> timing.Budget:
    """The timing budget the options ask for."""
    budget = timing.QUICK if args.quick else SCALING if args.scaling else timing.DEFAULT
    return budget if args.budget is None else replace(budget, seconds=args.budget)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; return the process exit status (1 if any result is an error)."""
    args = _parser().parse_args(argv)
    if args.plot and not args.scaling:
        _parser().error("--plot needs --scaling")
    machine.pin_threads_early(args.threads)
    peers, skipped = load_peers(tuple(p for p in args.peers.split(",") if p), args.threads)
    cases = select(scaling_cases(scaling.BATCHES) if args.scaling else all_cases(), args.pattern)
    if args.list:
        for case in cases:
            print(f"{case.name:16} {case.description}")
        print("\npeers:", ", ".join(p.name for p in peers) or "none")
        for name, why in skipped.items():
            print(f"not available: {name} ({why})")
        return 0
    if not cases:
        print(f"no case matches -k {args.pattern!r}", file=sys.stderr)
        return 2
    budget = _budget(args)
    # without torch or numpy among the peers, numpy still checks their answers (untimed)
    referee = None if any(p.name in REFERENCES for p in peers) else load_peers(("numpy",))[0][0]
    results: list[Result] = []
    load_at_start = os.getloadavg()
    start = time.perf_counter()
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name}: {case.description}", file=sys.stderr, flush=True)
        machine.pin_threads(args.threads)  # again: the last case may have loaded a new pool
        results.extend(run_case(case, peers, budget, referee))
    elapsed = time.perf_counter() - start
    described = machine.describe(args.threads, load_at_start)
    print(machine.summary(described))
    print()
    print(scaling.table(results) if args.scaling else report.table(results))
    if skipped:
        print("\nnot run: " + "; ".join(f"{name} ({why})" for name, why in skipped.items()))
    print(f"\n{len(cases)} cases in {elapsed:.0f} s", file=sys.stderr)
    if args.json:
        settings = {"argv": sys.argv[1:] if argv is None else argv, "budget": asdict(budget)}
        report.write_json(args.json, report.to_json(results, described, settings, skipped))
    if args.plot:
        try:
            scaling.plot(results, args.plot)
        except ImportError:
            print("--plot needs matplotlib, which is not installed", file=sys.stderr)
    return 1 if any(r.status == ERROR for r in results) else 0
