"""tune.search on mpi4py's MPIPoolExecutor (workers spawned over MPI, loopback only): the same
results as the serial run."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff.distributed.launch import LOOPBACK_ENV

pytest.importorskip("mpi4py")
ROOT = Path(__file__).resolve().parents[2]


def test_an_mpi_pool_gives_the_serial_results():
    env = {**os.environ, **LOOPBACK_ENV, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.tune.mpi_search"]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # the spawned workers go with it on timeout
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr
    got = json.loads(stdout.strip().splitlines()[-1])
    assert got["same"] is True
    assert len(got["workers"]) == 2  # both spawned workers ran trials
