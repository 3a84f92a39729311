"""``search``: the digits CNN's random search (examples/search_digits.py), 16 trials of 2 epochs,
run serially, on a process pool (one worker per core) and on a local Dask cluster.

    python -m benchmarks -k search [--quick]
    python -m benchmarks.search [--trials 16] [--epochs 2] [--quick] [--json PATH]

Reported per executor: the wall time of the search (the process pool's start-up included, as a
user sees it; the Dask cluster's start-up apart, since a real cluster is already up) and the
best configuration, which must be the same on every executor (the search's promise for a
deterministic `train_fn`). The Dask row says why it is missing without dask[distributed]
(pip install 'autodiff[dask]'). `--quick`: 4 trials of 1 epoch, a smoke test.
"""

import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _search(executor, trials: int, epochs: int):
    """(seconds, result) of the example's search on `executor`."""
    from search_digits import SPACE, train_fn

    from autodiff import tune

    start = time.perf_counter()
    result = tune.search(train_fn, {**SPACE, "epochs": epochs}, trials, executor=executor, seed=0)
    return time.perf_counter() - start, result


def _dask_run(trials: int, epochs: int) -> dict:
    """The search on a local Dask cluster on loopback; the cluster's start-up timed apart."""
    from search_digits import dask_executor

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the example's "Dask: ... ready" line
        executor, close = dask_executor(None)
    startup = time.perf_counter() - start
    try:
        seconds, result = _search(executor, trials, epochs)
    finally:
        close()
    return {"seconds": seconds, "startup": startup, "best": result.best.config}


def main(argv=None) -> dict:
    from benchmarks.report import format_seconds, markdown_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="4 trials of 1 epoch")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args(argv)
    trials, epochs = (4, 1) if args.quick else (args.trials, args.epochs)
    if str(EXAMPLES) not in sys.path:  # the example's train_fn and model live there
        sys.path.insert(0, str(EXAMPLES))

    runs = {}
    for name in ("serial", "process"):
        seconds, result = _search(name, trials, epochs)
        runs[name] = {"seconds": seconds, "best": result.best.config}
    try:
        import distributed  # noqa: F401 - only whether it is there
    except ImportError:
        runs["dask"] = {
            "skipped": "dask[distributed] is not installed (pip install 'autodiff[dask]')"
        }
    else:
        runs["dask"] = _dask_run(trials, epochs)

    timed = [run for run in runs.values() if "best" in run]
    same = all(run["best"] == timed[0]["best"] for run in timed)
    rows = [["executor", "wall time", "vs serial", "start-up"]]
    for name, run in runs.items():
        if "skipped" in run:
            rows.append([name, "skipped: " + run["skipped"], "", ""])
            continue
        startup = format_seconds(run["startup"]) if "startup" in run else ""
        ratio = f"{runs['serial']['seconds'] / run['seconds']:.2f}x"
        rows.append([name, format_seconds(run["seconds"]), ratio, startup])
    print(
        f"search: {trials} trials of {epochs} epoch(s) of the digits CNN "
        "(examples/search_digits.py), seed 0"
    )
    print(markdown_table(rows, right={1, 2, 3}))
    print(f"same best config on every executor: {'yes' if same else 'NO'}: {timed[0]['best']}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2, default=str))
    if not same:
        raise RuntimeError(f"search: the executors found different best configs: {runs}")
    return runs


if __name__ == "__main__":
    main(sys.argv[1:])
