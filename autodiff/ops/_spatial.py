"""Argument handling the spatial ops share (convolution, pooling, padding, resampling, fold):
PyTorch's optional batch dim and the int-or-1-tuple arguments of the 1-D forms."""

import numpy as np

from autodiff.errors import ShapeError
from autodiff.ops.shape import squeeze, unsqueeze


def batched(op: str, x, spatial: int):
    """x with a batch dim (added to PyTorch's unbatched `(C, *spatial)` form), and whether it
    was added; ShapeError for any other rank."""
    if x.ndim == spatial + 1:
        return unsqueeze(x, 0), True
    if x.ndim != spatial + 2:
        raise ShapeError(
            f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, "
            f"got shape {tuple(x.shape)} {x.dtype}"
        )
    return x, False


def unbatch(y, unbatched: bool):
    """Undo `batched`: drop the batch dim it added."""
    return squeeze(y, 0) if unbatched else y


def single(op: str, name: str, value, minimum: int = 1) -> int:
    """A 1-D argument given as an int or a 1-tuple, as an int >= minimum."""
    values = (value,) if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 1 or not isinstance(values[0], int | np.integer) or values[0] < minimum:
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or one of them, got {value!r}")
    return int(values[0])
