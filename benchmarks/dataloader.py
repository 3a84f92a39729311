"""``python -m benchmarks.dataloader``: DataLoader with worker processes against
``num_workers=0``, on a data set whose examples each need a costly transform.

Each worker count runs in a fresh interpreter, as a training script would, so the times include
starting the workers (and, on the first epoch, starting the fork server). Every epoch of the
default loader (workers not persistent) starts its workers anew; ``--persistent`` starts them
once. Other processes competing for the CPUs spoil the comparison: the load is printed. The
runs must yield the same batches; their sums are compared before any time is printed.

    python -m benchmarks.dataloader                      # num_workers 0 and 2
    python -m benchmarks.dataloader --workers 0,1,2 --examples 512 --epochs 4
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from autodiff.data import DataLoader, Dataset

SIZE = 48  # images are SIZE x SIZE float32


class CostlyDataset(Dataset):
    """`n` fixed random images, each put through `rounds` passes of a smoothing transform when
    read: a stand-in for decoding and augmenting an image file."""

    def __init__(self, n: int, rounds: int):
        self.images = np.random.default_rng(0).standard_normal((n, SIZE, SIZE), np.float32)
        self.rounds = rounds

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.images[index]
        for _ in range(self.rounds):
            image = np.tanh(0.5 * image + 0.25 * (np.roll(image, 1, 0) + np.roll(image, 1, 1)))
        return image, index


def _one(args: argparse.Namespace) -> dict:
    """Time the epochs of one loader in this process: seconds per epoch and a checksum."""
    dataset = CostlyDataset(args.examples, args.rounds)
    options = dict(timeout=600, persistent_workers=args.persistent) if args.one else {}
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.one, **options)
    seconds, total = [], 0.0
    for _ in range(args.epochs):
        start = time.perf_counter()
        for images, _ in loader:
            total += float(images.data.sum(dtype=np.float64))
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "checksum": total}


def _run(workers: int, args: argparse.Namespace) -> dict:
    """`_one` with `workers` workers in a fresh interpreter."""
    command = [sys.executable, "-m", "benchmarks.dataloader", "--one", str(workers)]
    for key in ("examples", "rounds", "batch_size", "epochs"):
        command += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    command += ["--persistent"] if args.persistent else []
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.dataloader", description=__doc__)
    p.add_argument("--workers", default="0,2", help="comma-separated worker counts (0,2)")
    p.add_argument("--examples", type=int, default=256, help="examples per epoch (256)")
    p.add_argument("--rounds", type=int, default=60, help="transform passes per example (60)")
    p.add_argument("--batch-size", type=int, default=32, help="examples per batch (32)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per run (3)")
    p.add_argument(
        "--persistent", action="store_true", help="persistent_workers=True: start them once"
    )
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run every worker count in its own process and print the epoch times."""
    args = _parser().parse_args(argv)
    if args.one is not None:
        print(json.dumps(_one(args)))
        return 0
    counts = [int(n) for n in args.workers.split(",")]
    load = os.getloadavg()[0]
    results = {n: _run(n, args) for n in counts}
    checksums = {n: r["checksum"] for n, r in results.items()}
    if len(set(checksums.values())) > 1:
        print(f"the runs loaded different data: checksums {checksums}", file=sys.stderr)
        return 1
    print(
        f"{args.examples} examples of {SIZE}x{SIZE}, {args.rounds} transform passes each, "
        f"batch {args.batch_size}{', persistent workers' if args.persistent else ''}; seconds "
        f"per epoch, each run in a fresh process; {os.cpu_count()} CPUs, load {load:.1f} at start"
    )
    print(f"{'num_workers':>11} {'epoch 1':>9} {'later (mean)':>13} {'speed-up':>9}")
    base = None
    for n, result in results.items():
        first, later = result["seconds"][0], result["seconds"][1:]
        steady = float(np.mean(later)) if later else first
        base = steady if base is None else base
        print(f"{n:>11} {first:>9.3f} {steady:>13.3f} {base / steady:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
