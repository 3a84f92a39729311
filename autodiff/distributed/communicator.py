"""Communicators: how the processes of a data-parallel job exchange arrays.

A communicator knows its `rank` (0 .. world_size - 1) and `world_size`, and offers three
collective calls on numpy arrays, which every rank must make in the same order:
`allreduce_(array, op)` (every rank ends with the elementwise sum, max, min or product over
all ranks), `broadcast_(array, root)` (every rank ends with root's array) and `barrier()`.
Both collectives work in place on a C-contiguous, writeable array, so a gradient buffer is sent
as raw memory and never pickled.

`LocalCommunicator` is the world of one process (every call leaves the array as it is);
`MPICommunicator` wraps an mpi4py communicator (`pip install 'autodiff[mpi]'`, i.e. mpi4py and
the MPICH wheel), and is what `mpiexec -n 2 python -m mpi4py train.py` runs with.
"""

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Communicator", "LocalCommunicator", "MPICommunicator", "REDUCE_OPS"]

REDUCE_OPS = ("sum", "max", "min", "prod")


@runtime_checkable
class Communicator(Protocol):
    """What `DistributedDataParallel` and `DistributedSampler` need from a process group."""

    @property
    def rank(self) -> int:
        """This process's number, 0 .. world_size - 1."""

    @property
    def world_size(self) -> int:
        """How many processes the group holds."""

    def allreduce_(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce `array` in place over all ranks (`op`: "sum", "max", "min" or "prod"); every
        rank ends with the result, which is also returned."""

    def broadcast_(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite `array` in place with rank `root`'s; returns it."""

    def barrier(self) -> None:
        """Return once every rank has called it."""


def check_buffer(where: str, array, *, op: str | None = None) -> None:
    """Raise unless `array` is a C-contiguous, writeable numpy array (and `op` a known one)."""
    if op is not None and op not in REDUCE_OPS:
        raise ValueError(f"{where}: op must be one of {REDUCE_OPS}, got {op!r}")
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{where}: expected a numpy array (a Tensor's .data), got {type(array).__name__}"
        )
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(
            f"{where}: the array must be C-contiguous and writeable, since the collective "
            f"writes into its memory (array {array.shape} {array.dtype}, contiguous "
            f"{array.flags.c_contiguous}, writeable {array.flags.writeable}); pass "
            "np.ascontiguousarray(array) and copy the result back"
        )


def check_root(where: str, root, world_size: int) -> None:
    """Raise unless `root` is a rank of a world of `world_size` processes."""
    if isinstance(root, bool) or not isinstance(root, int | np.integer):
        raise TypeError(f"{where}: root must be an int, got {type(root).__name__}")
    if not 0 <= root < world_size:
        raise ValueError(f"{where}: root {root} is not a rank of a world of size {world_size}")


class LocalCommunicator:
    """The world of one process: rank 0, world_size 1; the collectives check their argument
    and leave it unchanged (the sum over one rank is the array itself), barrier returns."""

    rank = 0
    world_size = 1

    def allreduce_(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce `array` in place over all ranks (here: nothing to do); returns it."""
        check_buffer("LocalCommunicator.allreduce_", array, op=op)
        return array

    def broadcast_(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite `array` with root's (here: it is root's); returns it."""
        check_buffer("LocalCommunicator.broadcast_", array)
        check_root("LocalCommunicator.broadcast_", root, 1)
        return array

    def barrier(self) -> None:
        """Wait until every rank has called barrier (here: return at once)."""

    def __repr__(self):
        return "LocalCommunicator(rank=0, world_size=1)"


class MPICommunicator:
    """A communicator over MPI, through mpi4py's buffer interface (`Allreduce` with
    `MPI.IN_PLACE`, `Bcast`): arrays travel as raw memory, never pickled.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm, optional
        The MPI communicator; default `MPI.COMM_WORLD` (every process `mpiexec` started).

    Raises
    ------
    ImportError
        mpi4py is not installed; it names the extra to install.

    Launch a script with `mpiexec -n 2 python -m mpi4py train.py`: `-m mpi4py` makes an
    uncaught exception on one rank abort the whole job instead of leaving the others waiting
    in a collective. Run as a plain `python train.py`, MPI starts a world of one.
    """

    def __init__(self, comm=None):
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(
                "MPICommunicator needs mpi4py and an MPI library: pip install 'autodiff[mpi]' "
                "(mpi4py and the mpich wheel), then launch with "
                "`mpiexec -n 2 python -m mpi4py script.py`"
            ) from error
        self._mpi = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "prod": MPI.PROD}

    @property
    def rank(self) -> int:
        """This process's rank in `comm`."""
        return self.comm.Get_rank()

    @property
    def world_size(self) -> int:
        """The number of processes in `comm`."""
        return self.comm.Get_size()

    def allreduce_(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce `array` (C-contiguous, any shape and numeric dtype) in place over all ranks
        with `op` ("sum", "max", "min" or "prod"); every rank ends with the result. Returns
        `array`."""
        check_buffer("MPICommunicator.allreduce_", array, op=op)
        if array.size:
            self.comm.Allreduce(self._mpi.IN_PLACE, array, op=self._ops[op])
        return array

    def broadcast_(self, array: np.ndarray, root: int = 0) -> np.ndarray:
        """Overwrite `array` on every rank with root's (same shape and dtype everywhere).
        Returns `array`."""
        check_buffer("MPICommunicator.broadcast_", array)
        check_root("MPICommunicator.broadcast_", root, self.world_size)
        if array.size:
            self.comm.Bcast(array, root=int(root))
        return array

    def barrier(self) -> None:
        """Wait until every rank has called barrier."""
        self.comm.Barrier()

    def __repr__(self):
        return f"MPICommunicator(rank={self.rank}, world_size={self.world_size})"
