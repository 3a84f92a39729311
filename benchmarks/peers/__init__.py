"""Peer adapters: one module per library, each binding the case kinds to that library.

A peer module imports its library at the top (an ``ImportError`` there means "not available")
and defines ``PEER``, a :class:`Peer`. A builder takes a case and private copies of its input
arrays, sets up whatever the library needs (tensors, parameters, optimizer) and returns a
*step*: a callable with no arguments that does one unit of work and returns ``{name: value}``
(the loss or output and the gradients). Values may be the library's own tensors; ``to_numpy``
turns them into arrays for the correctness check, outside the timed region.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from benchmarks.cases import Case

#: Every peer the suite knows, in the order they print.
PEER_NAMES = ("autodiff", "torch", "numpy", "tinygrad", "mygrad", "autograd")

Step = Callable[[], dict[str, object]]
Builder = Callable[[Case, dict[str, np.ndarray]], Step]


class Unsupported(Exception):
    """Raised by a builder for a case its library cannot express; the message says why."""


@dataclass(frozen=True)
class Peer:
    """A library under test.

    Attributes
    ----------
    name : str
        Short name used by ``--peers`` and in the table.
    version : str
        The library's version, recorded in the JSON output.
    builders : Mapping[str, Builder]
        Case kind -> builder. A kind missing here shows as "n/a" for this peer.
    to_numpy : Callable
        Turns one value returned by a step into an ndarray.
    configure : Callable[[int], None]
        Pins the library's own thread pool to the given count (no-op where it has none).
    """

    name: str
    version: str
    builders: Mapping[str, Builder]
    to_numpy: Callable[[object], np.ndarray] = np.asarray
    configure: Callable[[int], None] = field(default=lambda threads: None)


def load_peers(
    names: tuple[str, ...], threads: int | None = None
) -> tuple[list[Peer], dict[str, str]]:
    """Import the named peer adapters.

    Parameters
    ----------
    names : tuple of str
        Peer names, each one of :data:`PEER_NAMES`.
    threads : int, optional
        Thread count each available peer is pinned to; None leaves the libraries' own.

    Returns
    -------
    available : list of Peer
        Peers whose library imported, in the order of ``names``.
    unavailable : dict
        Name -> reason for the others (library not installed, no usable device, ...).

    Raises
    ------
    ValueError
        If a name is not a known peer.
    """
    unknown = [n for n in names if n not in PEER_NAMES]
    if unknown:
        raise ValueError(f"unknown peer(s) {unknown}; known peers are {list(PEER_NAMES)}")
    available, unavailable = [], {}
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.peers.{name}")
        except ImportError as exc:
            unavailable[name] = str(exc)
            continue
        except Exception as exc:  # a library mid-development may fail to import in any way
            unavailable[name] = f"import failed: {type(exc).__name__}: {exc}"
            continue
        if threads is not None:
            module.PEER.configure(threads)
        available.append(module.PEER)
    return available, unavailable
