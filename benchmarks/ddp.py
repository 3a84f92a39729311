"""``ddp_lenet``: a LeNet-5 training step at global batch 128, one rank against two, over MPI.

    python -m benchmarks -k ddp_lenet [--quick]
    python -m benchmarks.ddp [--steps 30] [--quick] [--json PATH]

Each configuration is its own `mpiexec -n R python -m mpi4py benchmarks/ddp.py --worker` job
(on the loopback interface), so the multi-process runs stay outside the single-process case
and peer harness of `python -m benchmarks`. Configurations: one rank with one thread, one rank
with every core (what a user has without DDP), and one rank per core with one thread each. Each
rank takes its share of the global batch (`DistributedSampler`'s split) and every step is
forward, backward (which ends with the gradient all-reduce), SGD step. Reported per
configuration: the median step time, the time inside the gradient all-reduce during the step
(which includes waiting for the slower rank), the all-reduce of the same buffer alone (after a
barrier: the communication cost), and the scaling efficiency t(1 rank, 1 thread) / (R * t(R
ranks)). Without mpi4py or mpiexec (pip install 'autodiff[mpi]') it says so and skips.
`--quick`: 3 timed steps, a smoke test.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

GLOBAL_BATCH = 128
ROOT = Path(__file__).resolve().parents[1]


class _TimedComm:
    """A communicator that counts its `allreduce_` calls and the seconds spent in them."""

    def __init__(self, comm):
        self.comm = comm
        self.rank, self.world_size = comm.rank, comm.world_size
        self.seconds, self.calls = 0.0, 0

    def allreduce_(self, array, op="sum"):
        self.calls += 1
        start = time.perf_counter()
        self.comm.allreduce_(array, op)
        self.seconds += time.perf_counter() - start
        return array

    def broadcast_(self, array, root=0):
        return self.comm.broadcast_(array, root)

    def barrier(self):
        self.comm.barrier()


def worker(steps: int) -> None:
    """One rank's measurement; rank 0 prints a JSON line of medians over the timed steps."""
    import autodiff as ad
    import nn
    import optim
    from autodiff.distributed import DistributedDataParallel, MPICommunicator
    from nn.models import lenet5

    comm = _TimedComm(MPICommunicator())
    ad.manual_seed(0)
    ddp = DistributedDataParallel(lenet5("modern"), comm)
    optimizer = optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    per_rank = GLOBAL_BATCH // comm.world_size
    rng = np.random.default_rng(comm.rank)
    x = ad.tensor(rng.standard_normal((per_rank, 1, 32, 32)).astype(np.float32))
    y = ad.tensor(rng.integers(0, 10, per_rank))
    step_times, reduce_times = [], []
    for i in range(steps + 5):  # 5 warm-up steps: numba compilation and allocator
        comm.seconds, comm.calls = 0.0, 0
        start = time.perf_counter()
        optimizer.zero_grad()
        nn.functional.cross_entropy(ddp(x), y).backward()
        optimizer.step()
        if i >= 5:
            step_times.append(time.perf_counter() - start)
            reduce_times.append(comm.seconds)
    calls_per_step = comm.calls
    buffer = np.zeros(sum(p.numel() for p in ddp.parameters()), np.float32)  # the gradients
    alone = []
    for _ in range(50):
        comm.barrier()
        start = time.perf_counter()
        comm.allreduce_(buffer)
        alone.append(time.perf_counter() - start)
    if comm.rank == 0:
        result = {
            "ranks": comm.world_size,
            "step": float(np.median(step_times)),
            "allreduce_in_step": float(np.median(reduce_times)),
            "allreduce_alone": float(np.median(alone)),
            "gradient_bytes": int(buffer.nbytes),
            "allreduce_calls": calls_per_step,
        }
        print(json.dumps(result), flush=True)


def _job(ranks: int, threads: int, steps: int) -> dict:
    """Run the worker on `ranks` ranks with `threads` threads each; rank 0's measurement."""
    from autodiff.distributed.launch import run_mpiexec

    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "NUMBA_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
    }
    done = run_mpiexec(__file__, ranks, ["--worker", "--steps", steps], timeout=600, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"ddp benchmark job ({ranks} ranks) failed:\n{done.stderr}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "threads": threads}


def _missing_mpi() -> str | None:
    """Why MPI jobs cannot run here, or None."""
    import importlib.util

    from autodiff.distributed.launch import mpiexec_command

    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'autodiff[mpi]')"
    try:
        mpiexec_command(__file__)
    except FileNotFoundError as error:
        return str(error)
    return None


def main(argv=None) -> dict:
    from benchmarks.report import format_seconds, markdown_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 timed steps")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps = 3
    if args.worker:
        worker(args.steps)
        return {}
    missing = _missing_mpi()
    if missing:
        print(f"ddp_lenet: skipped: {missing}")
        return {"skipped": missing}
    cores = os.cpu_count() or 1
    runs = [_job(1, 1, args.steps), _job(1, cores, args.steps), _job(cores, 1, args.steps)]
    base = runs[0]["step"]
    rows = [["ranks x threads", "step", "all-reduce in step", "all-reduce alone", "efficiency"]]
    for run in runs:
        run["efficiency"] = base / (run["ranks"] * run["step"])
        rows.append(
            [
                f"{run['ranks']} x {run['threads']}",
                format_seconds(run["step"]),
                format_seconds(run["allreduce_in_step"]),
                format_seconds(run["allreduce_alone"]),
                f"{run['efficiency']:.0%}",
            ]
        )
    print(
        f"ddp_lenet: LeNet-5 step, global batch {GLOBAL_BATCH}, gradients "
        f"{runs[0]['gradient_bytes'] / 1e3:.0f} kB in {runs[0]['allreduce_calls']} all-reduce "
        f"per step, medians of {args.steps} steps, {cores} cores (a shared machine: noisy)"
    )
    print(markdown_table(rows, right={1, 2, 3, 4}))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    return {"runs": runs}


if __name__ == "__main__":
    main(sys.argv[1:])
