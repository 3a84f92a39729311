"""`Function`: the base class of every differentiable op.

An op subclasses `Function` and writes two static methods on plain numpy arrays:

    forward(ctx, *inputs, **attrs) -> ndarray      (save what backward needs with ctx.save)
    backward(ctx, g) -> gradient or tuple of them  (one per input; None where not needed)

`Op.apply(*inputs, **attrs)` unwraps tensors, runs forward, and records a graph node when grad
mode is on and some input requires grad. Inputs that are not tensors (Python scalars, index
arrays) pass through to forward unchanged and never receive a gradient. Gradients may be
returned in the broadcast shape of the output: the engine reduces them to each input's shape.
"""

import numpy as np

from autodiff.engine import Node, is_grad_enabled

_NO_META = (None, None)


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

    @staticmethod
    def forward(ctx, *inputs, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on tensors (or constants) and record it in the graph; returns a Tensor."""
        arrays = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                needs.append(x._requires_grad)
            else:
                arrays.append(x)
                needs.append(False)
        version = inputs[0]._version_counter if cls.is_view else None
        if not (True in needs and is_grad_enabled()):
            out = _run_forward(cls, _NoGradCtx(len(inputs)), arrays, attrs, inputs)
            return Tensor._wrap(out, version=version)

        edges = []
        meta = []
        versions = []
        for x, need in zip(inputs, needs):
            if need:
                edges.append(x.grad_fn or x)
                meta.append((x.data.shape, x.data.dtype))
            else:
                edges.append(None)
                meta.append(_NO_META)
            if isinstance(x, Tensor):
                counter = x._version_counter
                versions.append((id(x.data), counter, counter[0]))
        node = Node(cls, edges, needs, meta)
        out = _run_forward(cls, node, arrays, attrs, inputs)
        result = Tensor._wrap(out, True, node, version)
        if node.saved:
            counter = result._version_counter
            versions.append((id(out), counter, counter[0]))
            node.input_versions = versions
        return result


def _run_forward(cls, ctx, arrays, attrs, inputs):
    """Call forward; re-raise numpy's shape and dtype errors naming the op and its inputs."""
    try:
        out = cls.forward(ctx, *arrays, **attrs)
    except (ValueError, TypeError) as e:
        if str(e).startswith(cls.__name__.lower()):
            raise
        described = ", ".join(_describe(x) for x in inputs)
        # the base class: numpy's own subclasses (its ufunc loop errors) take other arguments
        kind = TypeError if isinstance(e, TypeError) else ValueError
        raise kind(f"{cls.__name__.lower()}: {e} (inputs: {described})") from e
    # numpy turns 0-d results into numpy scalars; a Tensor always holds an ndarray
    return out if type(out) is np.ndarray else np.asarray(out)


def _describe(x):
    if isinstance(x, Tensor):
        return f"tensor of shape {x.data.shape} {x.data.dtype}"
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} {x.dtype}"
    return repr(x)


from autodiff.tensor import Tensor  # noqa: E402 - tensor.py imports this module's ops
