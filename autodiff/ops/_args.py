"""Argument handling every op shares: tensor tests, dims, shapes and PyTorch's type promotion."""

import numbers

import numpy as np

from autodiff import dtypes
from autodiff.errors import DimError


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def dim(op: str, x, d, ndim: int | None = None) -> int:
    """`d` as a non-negative dim of x (or of `ndim` dims, e.g. x.ndim + 1 for a new dim); a 0-d
    tensor accepts 0 and -1, as in PyTorch."""
    ndim = max(x.ndim, 1) if ndim is None else ndim
    if not isinstance(d, int | np.integer) or not -ndim <= d < ndim:
        raise DimError(
            f"{op}: dim {d!r} is out of range for a tensor of shape {tuple(x.shape)} "
            f"(expected a dim in [{-ndim}, {ndim - 1}])"
        )
    return int(d) % ndim


def dims(op: str, x, dim_arg) -> tuple | None:
    """`dim_arg` (None, an int or a sequence of ints) as a sorted tuple of distinct
    non-negative dims of x, or None for all of them (and for a 0-d x)."""
    if dim_arg is None:
        return None
    items = (dim_arg,) if isinstance(dim_arg, int | np.integer) else tuple(dim_arg)
    out = [dim(op, x, d) for d in items]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim_arg!r} repeats a dimension (tensor shape {x.shape})")
    return tuple(sorted(out)) if x.ndim else None


def require_float(op: str, x):
    """x itself, if it is a float Tensor; a TypeError naming `op` otherwise."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a float tensor (float32 or float64), got {x.dtype} "
            f"(shape {x.shape}); convert it with .float()"
        )
    return x


def shape_arg(shape: tuple) -> tuple:
    """`f(2, 3)` and `f((2, 3))` (or a list) both as the tuple (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


# ---- type promotion --------------------------------------------------------------------------


def scalar_dtype(v):
    """The dtype a Python or numpy scalar stands for (PyTorch's "wrapped number")."""
    if isinstance(v, bool | np.bool_):
        return dtypes.bool_
    if isinstance(v, numbers.Integral):
        return dtypes.int64
    if isinstance(v, numbers.Real):
        return dtypes.float32  # the default float dtype: a Python float never up-casts
    raise TypeError(f"unsupported operand of type {type(v).__name__}")


def result_type(*operands) -> np.dtype:
    """The dtype an elementwise op on `operands` computes in, by PyTorch's rules.

    Operands fall in three groups by priority: tensors with dims, 0-d tensors, and scalars
    (Python or numpy). A lower group changes the result only when it is of a higher category
    (bool < integer < float); so an int64 tensor times 2.5 is float32, a float32 tensor plus a
    float64 0-d tensor stays float32, and no scalar ever widens a tensor.
    """
    groups = [None, None, None]  # dimensioned tensors, 0-d tensors, scalars
    for v in operands:
        if isinstance(v, Tensor | np.ndarray):
            g, d = (0 if v.ndim else 1), v.dtype
        else:
            g, d = 2, scalar_dtype(v)
        groups[g] = d if groups[g] is None else dtypes.promote_types(groups[g], d)
    return dtypes.combine_categories(groups[0], dtypes.combine_categories(groups[1], groups[2]))


def promote(*operands):
    """`operands` ready for a numpy elementwise op that keeps PyTorch's result dtype: tensors
    and arrays cast to `result_type` (a differentiable cast), numpy scalars as Python scalars
    (numpy would let an np.float64 widen a float32 array).

    Operands the op will refuse (shapes that do not broadcast, a string) are returned as they
    are, so that the op's own error names them with the dtypes the caller gave.
    """
    if _unchanged(operands):
        return operands
    try:
        target = result_type(*operands)
        np.broadcast_shapes(*(np.shape(v.data if isinstance(v, Tensor) else v) for v in operands))
    except (TypeError, ValueError):
        return operands
    return tuple(_cast(v, target) for v in operands)


def promote_float(x, y):
    """x and y promoted, integer and bool results computed in float32 (`int / int` and
    `atan2(int, int)` are float32, as in PyTorch)."""
    x, y = promote(x, y)
    if result_type(x, y).kind == "f":
        return x, y
    return promote(to_float(x), y) if isinstance(x, Tensor) else promote(x, to_float(y))


def _unchanged(operands) -> bool:
    """Whether promotion leaves `operands` as they are (the common case, checked for speed):
    tensors of one dtype, with Python numbers that numpy keeps in that dtype as PyTorch does
    (a float with a float tensor, an int with a non-bool one)."""
    dtype = None
    for v in operands:
        if isinstance(v, Tensor):
            if dtype is None:
                dtype = v._data.dtype
            elif v._data.dtype != dtype:
                return False
    if dtype is None:
        return False
    for v in operands:
        kind = type(v)
        if kind is float:
            if dtype.kind != "f":
                return False
        elif kind is int:
            if dtype.kind == "b":
                return False
        elif not isinstance(v, Tensor):
            return False
    return True


def _cast(v, dtype):
    if isinstance(v, Tensor):
        return v if v.dtype == dtype else elementwise.to_dtype(v, dtype)
    if isinstance(v, np.ndarray):
        return v if v.dtype == dtype else v.astype(dtype)
    if isinstance(v, np.generic):
        return v.item()
    return v


def to_float(x):
    """x itself if it is a float tensor; an integer or bool tensor as float32 (PyTorch's
    `exp(int tensor)` is float32)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.dtype.kind == "f":
        return x
    return elementwise.to_dtype(x, dtypes.float32)


from autodiff.ops import elementwise  # noqa: E402 - elementwise imports this module
from autodiff.tensor import Tensor  # noqa: E402
