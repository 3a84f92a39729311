"""Real MPI jobs (mpiexec -n 2 python -m mpi4py ...), on the loopback interface, each with a
timeout after which the whole job is killed. Skipped without mpi4py and mpiexec
(pip install 'autodiff[mpi]')."""

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import nn
from autodiff.distributed.launch import mpiexec_command, run_mpiexec

pytest.importorskip("mpi4py")
try:
    mpiexec_command("x")
except FileNotFoundError:
    pytest.skip("no mpiexec (pip install mpich)", allow_module_level=True)

HERE = Path(__file__).parent
EXAMPLE = HERE.parents[1] / "examples" / "train_ddp.py"


def _run(script, *args, timeout=120):
    result = run_mpiexec(script, 2, args, timeout=timeout)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def test_two_ranks_stay_identical_and_match_one_process(tmp_path):
    _run(HERE / "mpi_worker.py", tmp_path)
    rank0, rank1 = _weights(tmp_path / "rank0.npz"), _weights(tmp_path / "rank1.npz")
    single = _weights(tmp_path / "single.npz")
    assert len(rank0) == len(single) == 4
    for a, b, ref in zip(rank0, rank1, single):
        np.testing.assert_array_equal(a, b)  # bit-identical replicas
        np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-6)


def test_example_trains_and_rank_0_writes_the_checkpoint(tmp_path):
    checkpoint = tmp_path / "ddp.npz"
    result = _run(EXAMPLE, "--epochs", "2", "--checkpoint", checkpoint)
    assert result.stdout.count("epoch ") == 2  # rank 0 alone prints
    assert "2 rank(s)" in result.stdout and "rank 1: loss" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 70  # two epochs of the digits CNN; chance is 10%
    state = nn.load(checkpoint)  # the module's own keys, without DDP's "module." prefix
    assert sorted(state) == [f"{i}.{p}" for i in (0, 3, 7) for p in ("bias", "weight")]


def test_timeout_kills_the_whole_job(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(
        "import os, sys, time\n"
        "open(os.path.join(sys.argv[1], str(os.getpid())), 'w').close()\n"
        "time.sleep(600)\n"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        run_mpiexec(script, 2, [tmp_path], timeout=5)
    pids = [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]
    assert len(pids) == 2
    time.sleep(0.5)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
