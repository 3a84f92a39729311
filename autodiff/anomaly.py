"""Anomaly mode: find the op where a NaN or Inf first appears, and the user's line that ran it.

Off by default. While it is on (`detect_anomaly()`, `set_detect_anomaly(True)`):

- forward: every op checks its output, and the first output holding NaN or Inf raises a
  RuntimeError naming the op, its inputs' shapes and dtypes, and the line of user code (the
  first frame outside the library) that called it;
- every graph node keeps the user's frames at its creation, and in backward the first node
  whose computed gradient holds NaN or Inf raises with that forward traceback; any other error
  raised by a node's backward gets the traceback added as a note.

`check_nan=False` keeps the tracebacks and skips the NaN/Inf checks. The mode is process-wide, as
in PyTorch. PyTorch checks backward only (and only for NaN); checking forward too stops at the
op that made the NaN rather than at the gradient that inherited it.
"""

import linecache
import os
import sys
import warnings

import numpy as np

from autodiff.contexts import decorate


class _AnomalyState:
    """Whether anomaly mode is on; Function.apply and the backward loop read `enabled`."""

    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


anomaly_state = _AnomalyState()

# Frames in these packages are the library's own; the first frame outside them is the user's.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY_PATHS = tuple(
    os.path.join(_ROOT, package) + os.sep for package in ("autodiff", "nn", "optim")
)
_MAX_FRAMES = 10  # a compact traceback: the innermost user frames only


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return anomaly_state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks for NaN/Inf (when it is on)."""
    return anomaly_state.check_nan


def _set(enabled, check_nan):
    anomaly_state.enabled = bool(enabled)
    anomaly_state.check_nan = bool(check_nan)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager and decorator: anomaly mode on inside, the previous mode restored after.

    Parameters
    ----------
    check_nan : bool
        Raise at the first op (forward) or gradient (backward) holding NaN or Inf. False only
        records the forward tracebacks that backward errors then show.

    >>> import autodiff as ad
    >>> x = ad.tensor([-1.0, 1.0], requires_grad=True)
    >>> with ad.detect_anomaly():  # doctest: +SKIP
    ...     y = x.log()
    RuntimeError: Log: its output of shape (2,) float32 holds NaN ...
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._prev = []  # a stack, so one instance may be entered again while active
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self):
        self._prev.append((anomaly_state.enabled, anomaly_state.check_nan))
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(*self._prev.pop())
        return False

    def __call__(self, func):
        # this one instance for every call: its stack restores each caller's state
        return decorate(func, lambda: self)


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly mode on or off at once; as a `with` block, restore the previous mode after."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (anomaly_state.enabled, anomaly_state.check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def user_frames() -> tuple:
    """(filename, line number, function name) of the innermost user frames, innermost first."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None and len(frames) < _MAX_FRAMES:
        code = frame.f_code
        if not code.co_filename.startswith(LIBRARY_PATHS):
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(frames)


def format_frames(frames) -> str:
    """The frames as the lines of a Python traceback, outermost first."""
    lines = []
    for filename, lineno, name in reversed(frames):
        lines.append(f'  File "{filename}", line {lineno}, in {name}')
        source = linecache.getline(filename, lineno).strip()
        if source:
            lines.append(f"    {source}")
    return "\n".join(lines) or "  (no user frame)"


def _non_finite(array) -> str | None:
    """'NaN', 'Inf' or None: what non-finite value a floating array holds, if any."""
    array = np.asarray(array)
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "NaN" if np.isnan(array).any() else "Inf"


def _describe(x) -> str:
    if isinstance(x, np.ndarray | np.generic):  # a numpy scalar: a 0-d tensor (scalar_math)
        held = _non_finite(x)
        return f"{x.shape} {x.dtype}" + (f" holding {held}" if held else "")
    return repr(x)


def check_forward(fn, arrays, out, node) -> None:
    """Function.apply's hook in anomaly mode: record `node`'s creation site (if a node was
    recorded) and raise if op `fn`'s output holds NaN/Inf."""
    if node is not None:
        node.trace = user_frames()
    held = _non_finite(out) if anomaly_state.check_nan else None
    if held is None:
        return
    frames = user_frames() if node is None else node.trace
    inputs = ", ".join(_describe(x) for x in arrays)
    raise RuntimeError(
        f"{fn.__name__}: output of shape {out.shape} {out.dtype} holds {held}, inputs: {inputs} "
        "(anomaly mode stops at the first op whose output holds NaN or Inf). Called at:\n"
        + format_frames(frames[:1])
    )


def check_backward(node, grads) -> None:
    """The backward loop's hook in anomaly mode: raise if `node` computed a NaN/Inf gradient."""
    if not anomaly_state.check_nan:
        return
    for i, g in enumerate(grads):
        held = None if g is None else _non_finite(g)
        if held is not None:
            raise RuntimeError(
                f"Function '{node.name}Backward' returned {held} values in its {i}th output "
                f"(the gradient for input {i}, of shape {np.shape(g)} {g.dtype}).\n"
                + _forward_trace(node)
            )


def note_forward_trace(node, error: BaseException) -> None:
    """Add the forward traceback of `node` to an error its backward raised (anomaly mode only)."""
    if anomaly_state.enabled:
        error.add_note(_forward_trace(node))


def _forward_trace(node) -> str:
    if not node.trace:
        return (
            f"No forward traceback of {node.name}: it was recorded while anomaly mode was off; "
            "run the forward pass inside detect_anomaly() too."
        )
    return f"Traceback of forward call that created {node.name}:\n" + format_frames(node.trace)
