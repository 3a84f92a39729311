"""`Function`: the base class of every differentiable op.

An op subclasses `Function` and writes two static methods on plain numpy arrays (numpy scalars
for 0-d float inputs, if it declares `scalar_math`):

    forward(ctx, *inputs, **attrs) -> ndarray      (save what backward needs with ctx.save)
    backward(ctx, g) -> gradient or tuple of them  (one per input; None where not needed)

`Op.apply(*inputs, **attrs)` unwraps tensors, runs forward, and records a graph node when grad
mode is on and some input requires grad. Inputs that are not tensors (Python scalars, index
arrays) pass through to forward unchanged and never receive a gradient. Gradients may be
returned in the broadcast shape of the output: the engine reduces them to each input's shape.

Two rules keep the engine cheap and safe: backward never writes into `g` (the same buffer may
flow to other nodes), and forward saves the input or output arrays themselves (not views of
them), since the version check that catches in-place writes recognises saved arrays by identity.
"""

import re
import threading

import numpy as np

from autodiff.anomaly import anomaly_state, check_forward
from autodiff.engine import Node, grad_state
from autodiff.errors import DimError, ShapeError


class _Recording(threading.local):
    """A callback `hook(ctx, arrays, attrs)` run before forward for every node recorded, per
    thread; None (the default) when nothing listens (`autodiff.record_node_inputs` sets it)."""

    hook = None


recording = _Recording()


class _NoGradCtx:
    """The ctx forward receives when no graph is recorded: saving is a no-op."""

    def __init__(self, n_inputs):
        self.needs_input_grad = (False,) * n_inputs

    def save(self, *arrays):
        pass


class Function:
    """Base class of ops; see the module docstring."""

    #: The output is a view of input 0's buffer (reshape, transpose, basic indexing): it shares
    #: that input's version counter, so an in-place write through either is seen by both.
    is_view = False

    #: forward and backward are numpy arithmetic that works on numpy scalars as on 0-d arrays:
    #: float 0-d inputs reach forward as scalars, which numpy computes on several times faster
    #: (a graph of scalars such as J = 3(a + bc)). Integers stay arrays: their scalar math warns
    #: on overflow where array math wraps.
    scalar_math = False

    @staticmethod
    def forward(ctx, *inputs, **attrs):
        """The op on arrays: `forward(ctx, *arrays, **attrs) -> ndarray`; save what
        backward needs with `ctx.save(...)`."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        """The gradients of the inputs from `g`, the gradient of the output:
        one per input (a tuple when there are several), None where
        `ctx.needs_input_grad[i]` is false."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on tensors (or constants) and record it in the graph; returns a Tensor."""
        # One pass over the inputs collects the arrays for forward and, in grad mode, what a node
        # would keep; whether to record is known only at the end (some input requires grad).
        arrays = []
        needs = []
        edges = []  # per input: (its node, or itself if a leaf; shape; dtype), or None
        versions = []  # (id of the array, its version counter, its version now)
        grad_on = grad_state.enabled
        scalar_math = cls.scalar_math
        for x in inputs:
            if isinstance(x, Tensor):
                data = x._data
                if scalar_math and not data.ndim and data.dtype.kind == "f":
                    data = data[()]
                arrays.append(data)
                if grad_on:
                    counter = x._version_counter
                    versions.append((id(data), counter, counter[0]))
                    if x._requires_grad:
                        needs.append(True)
                        edges.append((x.grad_fn or x, data.shape, data.dtype))
                        continue
            else:
                arrays.append(x)
            needs.append(False)
            edges.append(None)
        record = True in needs
        ctx = Node(cls, edges, needs) if record else _NoGradCtx(len(inputs))
        if record and recording.hook is not None:
            recording.hook(ctx, arrays, attrs)

        try:
            out = cls.forward(ctx, *arrays, **attrs)
        except (ValueError, TypeError) as e:
            raise _with_op_name(cls, e, inputs, attrs) from e
        if type(out) is not np.ndarray:  # numpy turns 0-d results into numpy scalars
            out = np.asarray(out)
        if anomaly_state.enabled:
            check_forward(cls, arrays, out, ctx if record else None)

        version = inputs[0]._version_counter if cls.is_view else None
        if not record:
            return Tensor._wrap(out, version=version)
        result = Tensor._wrap(out, True, ctx, version)
        if ctx.saved:  # the versions matter only for the arrays backward will read
            versions.append((id(out), result._version_counter, 0))
            ctx.input_versions = versions
        return result


def _with_op_name(cls, error, inputs, attrs):
    """The error forward raised, naming the op (unless it does already) and describing every
    input's shape and dtype and the op's parameters."""
    message = str(error)
    if not re.match(r"\w+: ", message):  # numpy's own errors do not name our op
        message = f"{cls.__name__.lower()}: {message}"
    described = ", ".join(_describe(x) for x in inputs)
    params = "".join(f", {k}={v!r}" for k, v in attrs.items())
    # our own classes are kept; numpy's value errors are shapes that do not fit (or an axis out
    # of range); its subclasses (ufunc loop errors) take other arguments, so the base class
    if isinstance(error, TypeError):
        kind = TypeError
    elif isinstance(error, ShapeError | DimError):
        kind = type(error)
    else:
        kind = DimError if isinstance(error, IndexError) else ShapeError
    return kind(f"{message} (inputs: {described}{params})")


def _describe(x):
    if isinstance(x, Tensor):
        return f"tensor of shape {x.data.shape} {x.data.dtype}"
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} {x.dtype}"
    return repr(x)


from autodiff.tensor import Tensor  # noqa: E402 - tensor.py imports this module's ops
