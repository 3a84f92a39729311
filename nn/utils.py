"""Gradient clipping, flat parameter vectors and `skip_init`, as `torch.nn.utils`.

>>> import autodiff as ad
>>> import nn
>>> model = nn.Linear(3, 2)
>>> model(ad.ones(4, 3)).sum().backward()
>>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
"""

import math

from autodiff import linalg
from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from autodiff.ops.shape import cat, stack
from autodiff.tensor import Tensor
from nn import init
from nn.module import Module

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "skip_init",
    "vector_to_parameters",
]


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale the gradients of `parameters` in place so that their joint norm is at most
    `max_norm`, as `torch.nn.utils.clip_grad_norm_`.

    The joint norm is the `norm_type`-norm of the vector of every gradient's norm (the norm of
    all gradients concatenated); each gradient is multiplied by
    min(1, max_norm / (total_norm + 1e-6)). Parameters without a gradient are skipped.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
    max_norm : float
    norm_type : float
        p of the norm; inf for the largest absolute value.
    error_if_nonfinite : bool
        Raise RuntimeError (and leave the gradients alone) if the total norm is nan or inf.
    foreach : ignored
        Accepted for PyTorch compatibility (there is one implementation).

    Returns
    -------
    Tensor, 0-d: the total norm before clipping (0.0 when no parameter has a gradient).
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    with no_grad():
        norms = [linalg.vector_norm(g, norm_type) for g in grads]
        total = linalg.vector_norm(stack(norms), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                f"{total.item()}, so they cannot be clipped; set error_if_nonfinite=False to "
                "scale them by the non-finite norm anyway"
            )
        scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of `parameters` in place to [-clip_value, clip_value], as
    `torch.nn.utils.clip_grad_value_`. `foreach` is accepted and ignored."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters) -> Tensor:
    """All `parameters` flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([p.reshape(-1) for p in _as_list(parameters)])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Give `parameters`, in order, the values of consecutive slices of the 1-D `vec`.

    As in PyTorch, each parameter's `.data` becomes a view of `vec`'s values (reshaped to the
    parameter's shape), outside the graph.

    Raises
    ------
    TypeError
        vec is not a Tensor.
    ValueError
        vec is not 1-D, or has fewer elements than the parameters (extra ones are unused).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() < total:
        raise ShapeError(
            f"vector_to_parameters: vec of shape {vec.shape} {vec.dtype} does not hold the "
            f"{total} elements of the parameters"
        )
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec.data[start : start + n].reshape(p.shape)
        start += n


def skip_init(module_cls, *args, **kwargs) -> Module:
    """`module_cls(*args, **kwargs)` with its parameters left uninitialised, as
    `torch.nn.utils.skip_init`: for a module about to be initialised some other way (its weights
    loaded, or drawn from another distribution), which spares drawing every value twice.

    Every `nn.init` initialiser does nothing while the module is built, so the parameters have
    their shapes, dtypes and `requires_grad` but values not to be relied on (`empty`'s for most
    layers). Buffers set by tensor methods (batch norm's running statistics) are initialised as
    usual. Unlike PyTorch's, the module needs no `device` argument.

    >>> import nn
    >>> layer = nn.utils.skip_init(nn.Linear, 4096, 4096)
    >>> _ = nn.init.normal_(layer.weight, 0, 0.01)

    Raises
    ------
    TypeError
        module_cls is not a subclass of `nn.Module`.
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a Module subclass, got {module_cls!r}")
    with init._skipped():
        return module_cls(*args, **kwargs)


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)
