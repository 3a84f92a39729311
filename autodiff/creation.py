"""Functions that create tensors: from data, constant-filled, ranges and random."""

import numpy as np

from autodiff import dtypes
from autodiff.random import resolve
from autodiff.tensor import Tensor


def tensor(data, dtype=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of `data`; see `Tensor`."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def zeros(*shape, dtype=dtypes.float32, requires_grad=False) -> Tensor:
    return _filled(np.zeros, shape, dtype, requires_grad)


def ones(*shape, dtype=dtypes.float32, requires_grad=False) -> Tensor:
    return _filled(np.ones, shape, dtype, requires_grad)


def full(shape, fill_value, dtype=dtypes.float32, requires_grad=False) -> Tensor:
    return Tensor(np.full(_shape(shape), fill_value, dtype), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Values from start (0 by default) up to end, exclusive; int64 for ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.float32
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=dtypes.float32, requires_grad=False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def rand(*shape, dtype=dtypes.float32, generator=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1), from `generator` (a numpy Generator or seed) or the global one."""
    data = resolve(generator).random(_shape(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def randn(*shape, dtype=dtypes.float32, generator=None, requires_grad=False) -> Tensor:
    """Standard normal, from `generator` (a numpy Generator or seed) or the global one."""
    data = resolve(generator).standard_normal(_shape(shape), dtype=np.dtype(dtype).type)
    return Tensor(data, requires_grad=requires_grad)


def _filled(fill, shape, dtype, requires_grad):
    return Tensor(fill(_shape(shape), dtype), requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return shape if isinstance(shape, tuple) else (shape,)
