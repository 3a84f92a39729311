"""Communicators: the local one, the thread world the other tests use, and MPICommunicator's
error without mpi4py. (The MPI collectives themselves run in test_mpi.py.)"""

import subprocess
import sys

import numpy as np
import pytest

from autodiff.distributed import Communicator, LocalCommunicator, MPICommunicator
from tests.distributed.threads import run_ranks


def test_local_collectives_leave_the_array():
    comm = LocalCommunicator()
    assert isinstance(comm, Communicator)
    assert (comm.rank, comm.world_size) == (0, 1)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for op in ("sum", "max", "min", "prod"):
        assert comm.allreduce_(x, op=op) is x
    assert comm.broadcast_(x, root=0) is x
    np.testing.assert_array_equal(x, np.arange(6).reshape(2, 3))
    comm.barrier()
    empty = np.zeros((0, 3), np.float64)
    assert comm.allreduce_(empty).shape == (0, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda c: c.allreduce_(np.ones((3, 2))[:, 0]), ValueError, r"C-contiguous.*\(3,\)"),
        (lambda c: c.allreduce_([1.0, 2.0]), TypeError, "numpy array.*list"),
        (lambda c: c.allreduce_(np.ones(2), op="mean"), ValueError, "op must be one of"),
        (lambda c: c.broadcast_(np.ones(2), root=1), ValueError, "root 1.*size 1"),
        (lambda c: c.broadcast_(np.ones(2), root=0.0), TypeError, "root must be an int"),
    ],
)
def test_bad_arguments_raise_before_any_change(call, error, match):
    with pytest.raises(error, match=match):
        call(LocalCommunicator())


def test_read_only_array_is_refused():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="writeable False"):
        LocalCommunicator().allreduce_(x)


def test_thread_world_collectives():
    def collectives(comm):
        s = np.full(4, comm.rank + 1.0, np.float32)
        m = np.array([comm.rank, -comm.rank])
        b = np.full(2, 10.0 * comm.rank)
        comm.allreduce_(s)
        comm.allreduce_(m, op="max")
        comm.broadcast_(b, root=2)
        comm.barrier()
        return s, m, b

    results, calls = run_ranks(3, collectives)
    for s, m, b in results:
        np.testing.assert_array_equal(s, np.full(4, 6.0))
        np.testing.assert_array_equal(m, [2, 0])
        np.testing.assert_array_equal(b, [20.0, 20.0])
    assert len(calls) == 3 * 3


def test_mpi_communicator_names_the_extra_without_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` raise ImportError
    with pytest.raises(ImportError, match=r"autodiff\[mpi\].*mpi4py"):
        MPICommunicator()


def test_import_does_not_load_mpi4py():
    code = "import sys, autodiff.distributed; assert 'mpi4py' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
