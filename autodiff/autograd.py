"""`grad`: gradients of outputs with respect to chosen inputs, without touching `.grad`; and
PyTorch's `torch.autograd` names for anomaly mode."""

import numpy as np

from autodiff.anomaly import (  # noqa: F401 - torch.autograd's names
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from autodiff.engine import backward
from autodiff.tensor import Tensor, _root_gradient


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors (PyTorch's `torch.autograd.grad`).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        What to differentiate; each must require grad.
    inputs : Tensor or sequence of Tensor
        Leaves or intermediate tensors of the graph to differentiate with respect to.
    grad_outputs : sequence of Tensor/array or None
        dL/d(output) per output; may be omitted for single-element outputs.
    retain_graph : bool
        Keep the graph's saved arrays for another backward.
    allow_unused : bool
        Return None for an input the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Tensor (or None), one per input, each of its input's shape and dtype.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs given for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {t.shape}) does not require grad")
    roots = [_root_gradient(t, g, "grad") for t, g in zip(outputs, grad_outputs, strict=True)]
    found = backward(outputs, roots, retain_graph=retain_graph, inputs=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found, strict=True)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) is not reached from the outputs; pass "
                "allow_unused=True to get None for it"
            )
        # np.array copies, and makes an ndarray of the numpy scalars 0-d ops may produce
        result.append(None if g is None else Tensor._wrap(np.array(g)))
    return tuple(result)
