"""SyncBatchNorm over real MPI (mpiexec -n 2 python -m mpi4py ...), on the loopback interface,
with a timeout after which the whole job is killed: two ranks holding halves of a batch compute
one process's BatchNorm2d on the whole batch, and DDP with SyncBatchNorm trains as one process.
Skipped without mpi4py and mpiexec (pip install 'autodiff[mpi]')."""

from pathlib import Path

import numpy as np
import pytest

from autodiff.distributed.launch import mpiexec_command, run_mpiexec
from tests.distributed.sync_bn_cases import check_against_one_process

pytest.importorskip("mpi4py")
try:
    mpiexec_command("x")
except FileNotFoundError:
    pytest.skip("no mpiexec (pip install mpich)", allow_module_level=True)

WORKER = Path(__file__).parent / "mpi_sync_bn_worker.py"


def _load(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _arrays(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    out = tmp_path_factory.mktemp("sync_bn")
    result = run_mpiexec(WORKER, 2, [out], timeout=120)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return out


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 2e-5)])
def test_two_ranks_compute_batch_norm_of_the_whole_batch(job, dtype, tolerance):
    results = [_load(job / f"rank{r}_{dtype}.npz") for r in range(2)]
    reference = _load(job / f"single_{dtype}.npz")
    check_against_one_process(results, reference, tolerance, tolerance)
    assert results[0]["y0"].dtype == dtype


def test_ddp_with_sync_batchnorm_trains_as_one_process(job):
    rank0, rank1 = _arrays(job / "rank0_ddp.npz"), _arrays(job / "rank1_ddp.npz")
    single = _arrays(job / "single_ddp.npz")
    assert len(rank0) == len(single) == 9  # 6 parameters, 3 buffers
    for a, b, ref in zip(rank0, rank1, single):
        np.testing.assert_array_equal(a, b)  # bit-identical replicas
        np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-5)
