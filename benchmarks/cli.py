"""Command line: ``python -m benchmarks [-k PATTERN] [--peers a,b] [--quick] [--json PATH] ...``.

``--plot ratios.png`` draws each case's ratio to torch (``--from-json bench.json --plot
ratios.png`` draws it from a saved run, running nothing); with ``--scaling``, ``--plot`` draws
time per sample against batch size.

Two modes. The default, isolated (:mod:`benchmarks.isolated`), runs each peer on each case in
fresh processes of its own with the user's environment untouched, alternating between peers;
it is what a user's own training script sees. ``--in-process`` runs every peer in this one
process, taking turns sample by sample (:func:`benchmarks.timing.interleave`): quicker, and
steadier on a busy machine, but the peers share thread pools, so this mode shortens idle
threads' busy-waits (:data:`benchmarks.machine.SPIN_LIMITS`, set in the environment before
numpy loads) and pins every pool to ``--threads`` (2 unless given), ``NUMBA_NUM_THREADS``
included. Those settings belong to the in-process mode only.

Progress goes to stderr as cases run; the table goes to stdout at the end. The exit status is 1
when any peer failed or computed a wrong result, so a CI smoke run catches both.
"""

import argparse
import importlib
import json
import os
import sys
import time
from dataclasses import asdict, replace

from benchmarks import isolated, machine, report, scaling, timing
from benchmarks.cases import Case, all_cases, scaling_cases
from benchmarks.peers import PEER_NAMES, load_peers
from benchmarks.runner import ERROR, REFERENCES, Result, run_case

#: Scaling runs many sizes, the largest slow; a shorter budget per size keeps the mode quick.
SCALING = replace(timing.DEFAULT, seconds=2.0, min_repeats=3)

#: Cases that time several processes (MPI ranks, executors) rather than peers against each
#: other: name -> (module whose `main(argv)` runs it and prints its own table, description).
#: They run only when `-k` names them exactly, after the peer cases; `--quick` is passed on.
STANDALONE = {
    "ddp_lenet": (
        "benchmarks.ddp",
        "LeNet-5 step, global batch 128, 1 rank vs 2 over MPI: all-reduce time, scaling efficiency",
    ),
    "search": (
        "benchmarks.search",
        "digits CNN random search, 16 trials: serial vs process pool vs Dask wall time",
    ),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time autodiff against its peers (torch, a numpy baseline, ...) on "
        "the same cases, after checking they compute the same thing.",
        # __main__ looks for --in-process before parsing, so no abbreviation may stand for it
        allow_abbrev=False,
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
        help="a few repeats and a tiny budget: a smoke test, not a measurement (isolated "
        "mode: one process per peer runs all the cases)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of timed rounds per case, all peers together "
        f"(default {timing.DEFAULT.seconds:g}, --scaling {SCALING.seconds:g})",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run all peers in this process, taking turns sample by sample, with shortened "
        "thread spin-waits (set in the environment) and pinned thread pools; the default "
        "runs each peer in fresh processes with the environment untouched",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        help=f"isolated mode: fresh processes per peer and case (default {isolated.PROCESSES}; "
        "--quick: one process per peer for all cases)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for BLAS, OpenMP, numba and torch (default: the libraries' own in the "
        "isolated mode, 2 in-process)",
    )
    p.add_argument("--json", metavar="PATH", help="also write results and machine description")
    p.add_argument(
        "--scaling",
        action="store_true",
        help="time the conv and MLP cases at batch sizes "
        f"{', '.join(map(str, scaling.BATCHES))} and print time per sample",
    )
    p.add_argument(
        "--plot",
        metavar="PATH.png",
        help="save a bar chart of each case's ratio to torch; with --scaling, time per sample "
        "against batch size instead (needs matplotlib)",
    )
    p.add_argument(
        "--from-json",
        metavar="PATH",
        help="run nothing: plot the ratios of a file saved by --json (with --plot)",
    )
    p.add_argument("--list", action="store_true", help="list the cases and peers, then exit")
    return p


def select(cases: list[Case], pattern: str) -> list[Case]:
    """Cases whose name contains any comma-separated term of ``pattern`` (all if empty)."""
    terms = [t.strip() for t in pattern.split(",") if t.strip()]
    return [c for c in cases if not terms or any(t in c.name for t in terms)]


def select_standalone(pattern: str) -> list[str]:
    """The standalone cases named exactly by a comma-separated term of ``pattern``."""
    terms = {t.strip() for t in pattern.split(",")}
    return [name for name in STANDALONE if name in terms]


def run_standalone(names: list[str], quick: bool) -> int:
    """Run the standalone cases `names`, each printing its table; 1 if any failed."""
    status = 0
    for name in names:
        module, description = STANDALONE[name]
        _progress(f"{name}: {description}")
        print()
        try:
            importlib.import_module(module).main(["--quick"] if quick else [])
        except Exception as error:  # one failed case must not hide the others' tables
            print(f"{name}: failed: {type(error).__name__}: {error}")
            status = 1
    return status


def _budget(args: argparse.Namespace) -> timing.Budget:
    """The timing budget the options ask for."""
    budget = timing.QUICK if args.quick else SCALING if args.scaling else timing.DEFAULT
    return budget if args.budget is None else replace(budget, seconds=args.budget)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; return the process exit status (1 if any result is an error)."""
    args = _parser().parse_args(argv)
    if args.from_json:
        if not args.plot or args.scaling:
            _parser().error("--from-json needs --plot, and plots ratios only (not --scaling)")
        with open(args.from_json) as f:
            return _plot(lambda: report.plot_ratios(json.load(f), args.plot))
    if args.processes is not None and (args.in_process or args.processes < 1):
        _parser().error("--processes takes a count >= 1, in the isolated mode only")
    # the user's environment, for the isolated mode's children, before any peer library loads
    env = dict(os.environ)
    if args.in_process:
        args.threads = 2 if args.threads is None else args.threads
        machine.pin_threads_early(args.threads)
    names = tuple(p for p in args.peers.split(",") if p)
    peers, skipped = load_peers(names, args.threads if args.in_process else None)
    cases = select(scaling_cases(scaling.BATCHES) if args.scaling else all_cases(), args.pattern)
    standalone = [] if args.scaling else select_standalone(args.pattern)
    if args.list:
        for case in cases:
            print(f"{case.name:16} {case.description}")
        print("\nstandalone (own tables; run only when -k names them):")
        for name, (_, description) in STANDALONE.items():
            print(f"{name:16} {description}")
        print("\npeers:", ", ".join(p.name for p in peers) or "none")
        for name, why in skipped.items():
            print(f"not available: {name} ({why})")
        return 0
    if standalone and not cases:
        return run_standalone(standalone, args.quick)
    if not cases:
        print(f"no case matches -k {args.pattern!r}", file=sys.stderr)
        return 2
    budget = _budget(args)
    # without torch or numpy among the peers, numpy still checks their answers (untimed)
    referee = None if any(p.name in REFERENCES for p in peers) else load_peers(("numpy",))[0][0]
    load_at_start = os.getloadavg()
    start = time.perf_counter()
    if args.in_process:
        results, pools, processes = _in_process(cases, peers, budget, args.threads, referee), {}, 1
    else:
        processes = args.processes or (1 if args.quick else isolated.PROCESSES)
        results, pools = isolated.run(
            cases,
            peers,
            budget,
            processes=processes,
            threads=args.threads,
            env=env,
            shared=args.quick and args.processes is None,
            referee=referee,
            log=_progress,
        )
    elapsed = time.perf_counter() - start
    described = machine.describe(args.threads, load_at_start)
    if pools:
        described["processes"] = pools
    print(machine.summary(described))
    print(_mode_line(args, processes))
    for note in sorted({p["note"] for p in pools.values() if p.get("note")}):
        print(f"note: {note}")
    print()
    print(scaling.table(results) if args.scaling else report.table(results))
    if skipped:
        print("\nnot run: " + "; ".join(f"{name} ({why})" for name, why in skipped.items()))
    print(f"\n{len(cases)} cases in {elapsed:.0f} s", file=sys.stderr)
    settings = {
        "argv": sys.argv[1:] if argv is None else argv,
        "mode": "in-process" if args.in_process else "isolated",
        "processes": processes,
        "budget": asdict(budget),
    }
    document = report.to_json(results, described, settings, skipped)
    if args.json:
        report.write_json(args.json, document)
    if args.plot and args.scaling:
        _plot(lambda: scaling.plot(results, args.plot))
    elif args.plot:
        _plot(lambda: report.plot_ratios(document, args.plot))
    status = 1 if any(r.status == ERROR for r in results) else 0
    return max(status, run_standalone(standalone, args.quick))


def _plot(draw) -> int:
    """Call `draw`, saying on stderr why there is no plot if it fails; the exit status."""
    try:
        draw()
    except ImportError:
        print("--plot needs matplotlib, which is not installed", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"--plot: {error}", file=sys.stderr)
        return 1
    return 0


def _progress(line: str) -> None:
    """A progress line on stderr."""
    print(line, file=sys.stderr, flush=True)


def _in_process(
    cases: list[Case], peers: list, budget: timing.Budget, threads: int, referee
) -> list[Result]:
    """The in-process mode: every case checked and timed here, peers taking turns."""
    results: list[Result] = []
    for i, case in enumerate(cases, 1):
        _progress(f"[{i}/{len(cases)}] {case.name}: {case.description}")
        machine.pin_threads(threads)  # again: the last case may have loaded a new pool
        results.extend(run_case(case, peers, budget, referee))
    return results


def _mode_line(args: argparse.Namespace, processes: int) -> str:
    """How the numbers were taken, printed above the table."""
    if args.in_process:
        spins = ", ".join(f"{k}={os.environ.get(k)}" for k in machine.SPIN_LIMITS)
        return (
            f"mode: in-process, peers taking turns sample by sample; {args.threads} threads; "
            f"{spins}"
        )
    threads = f"{args.threads} threads" if args.threads else "the libraries' default threads"
    if args.quick and args.processes is None:
        how = "one fresh process per peer for all cases"
    else:
        how = f"{processes} fresh processes per peer and case, alternating A B B A"
    return f"mode: isolated, {how}; environment untouched; {threads}"
