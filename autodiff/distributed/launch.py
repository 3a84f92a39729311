"""Start an MPI job from Python (tests, benchmarks): `mpiexec -n N python -m mpi4py script`,
with a timeout after which the whole job is killed, so a stuck collective never hangs the
caller. A user launches from the shell instead: `mpiexec -n 2 python -m mpi4py train.py`.
"""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

__all__ = ["LOOPBACK_ENV", "mpiexec_command", "run_mpiexec"]

# MPICH's UCX transport on the loopback interface only: a job on one machine needs no network,
# and probing other interfaces is slow (or blocked) on CI machines.
LOOPBACK_ENV = {"UCX_NET_DEVICES": "lo"}


def mpiexec_command(script, n: int = 2, args: Sequence[str] = ()) -> list[str]:
    """The command line that runs `script` on `n` ranks with this Python.

    Raises
    ------
    FileNotFoundError
        No `mpiexec` on PATH or next to this Python (pip install 'autodiff[mpi]').
    """
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = here if os.path.exists(here) else shutil.which("mpiexec")
    if mpiexec is None:
        raise FileNotFoundError(
            "mpiexec_command: no mpiexec found; pip install 'autodiff[mpi]' (mpi4py and mpich)"
        )
    return [mpiexec, "-n", str(n), sys.executable, "-m", "mpi4py", str(script), *map(str, args)]


def run_mpiexec(
    script,
    n: int = 2,
    args: Sequence[str] = (),
    *,
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
    loopback: bool = True,
) -> subprocess.CompletedProcess:
    """Run `script` on `n` ranks and wait; returns the CompletedProcess (text stdout, stderr).

    Parameters
    ----------
    timeout : float
        Seconds; past it, the job is terminated (mpiexec, in a process group of its own, ends
        its ranks) and `subprocess.TimeoutExpired` is raised with the output so far.
    env : mapping, optional
        Extra environment variables for the job (on top of this process's).
    loopback : bool
        Add `LOOPBACK_ENV` (stay on the loopback interface).
    """
    command = mpiexec_command(script, n, args)
    full_env = {**os.environ, **(LOOPBACK_ENV if loopback else {}), **(env or {})}
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # mpiexec forwards SIGTERM to the ranks (each runs in a session of its own, out of
        # reach of a group kill) and reaps them; SIGKILL only if it does not exit in time
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        raise subprocess.TimeoutExpired(command, timeout, stdout, stderr) from None
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
