"""The long fuzz run: `python -m tests.fuzz --n 20000`.

Draws n programs, runs each in autodiff and PyTorch, and counts mismatches by class. The first
mismatch of a new kind stops hypothesis, which shrinks it to a minimal program (printed as a
script); the run then goes on with the rest of the budget. A mismatch is of a known kind when a
shrunk program of the same class and kind used only ops this one uses too.
"""

import argparse
import sys
import time
from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from tests.fuzz.compare import CLASSES, compare
from tests.fuzz.generate import programs


class _Found(Exception):
    """Raised inside the test so that hypothesis shrinks the mismatch."""


class Session:
    """Counts, and the shrunk programs of each kind of mismatch found so far."""

    def __init__(self):
        self.graphs = 0
        self.counts = Counter()
        self.shrunk = []  # (outcome, program)
        self.target = None  # (verdict, kind) being shrunk
        self.last = None

    def known(self, outcome, program):
        return any(
            (o.verdict, o.kind) == (outcome.verdict, outcome.kind)
            and set(p.ops) <= set(program.ops)
            for o, p in self.shrunk
        )

    def check(self, program):
        """Count the program's outcome; raise `_Found` on a new kind of mismatch (from one line:
        hypothesis tells failures apart by where they were raised)."""
        outcome = compare(program)
        if self.target is None:  # not shrinking
            self.graphs += 1
            self.counts[outcome.verdict] += 1
            if self.graphs % 1000 == 0:
                print(f"  {self.graphs} graphs, {self._summary()}", file=sys.stderr, flush=True)
            if outcome.mismatch and not self.known(outcome, program):
                self.target = (outcome.verdict, outcome.kind)
        if self.target == (outcome.verdict, outcome.kind):
            self.last = (outcome, program)
            raise _Found

    def _summary(self):
        return ", ".join(f"{v}: {self.counts[v]}" for v in ("match", *CLASSES, "invalid"))


def run(n, seed, max_steps, shrink=True):
    """Fuzz n programs; print progress to stderr and the summary and shrunk programs."""
    session = Session()
    start = time.perf_counter()
    attempt = 0
    while session.graphs < n:
        phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]

        @hypothesis_seed(seed + attempt)
        @settings(
            max_examples=n - session.graphs,
            database=None,
            deadline=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )
        @given(programs(max_steps=max_steps))
        def fuzz(program):
            session.check(program)

        attempt += 1
        try:
            fuzz()
        except Exception as e:  # noqa: BLE001 - _Found, or a flaky shrink: report what we have
            if not isinstance(e, _Found):
                print(f"# hypothesis stopped: {type(e).__name__}: {e}", file=sys.stderr)
            if session.target is not None:
                outcome, program = session.last
                session.shrunk.append((outcome, program))
                print(f"\n# {outcome}\n{program.source()}\n", flush=True)
        session.target = None
        if attempt > n:  # hypothesis ran out of new programs
            break
    seconds = time.perf_counter() - start
    print(f"{session.graphs} graphs in {seconds:.0f} s: {session._summary()}")
    for verdict in CLASSES:
        kinds = [o for o, _ in session.shrunk if o.verdict == verdict]
        print(f"  {verdict}: {len(kinds)} kinds shrunk" + "".join(f"\n    {o}" for o in kinds))
    return session


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=20000, help="programs to run (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument("--max-steps", type=int, default=8, help="ops per program (default 8)")
    parser.add_argument("--no-shrink", action="store_true", help="count mismatches only")
    args = parser.parse_args(argv)
    session = run(args.n, args.seed, args.max_steps, shrink=not args.no_shrink)
    return 1 if session.counts["ours wrong"] or session.counts["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
