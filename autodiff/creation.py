"""Functions that create tensors: from data, constant-filled, ranges and random.

Signatures are PyTorch's: sizes as `zeros(2, 3)` or `zeros((2, 3))`, keyword-only `dtype`,
`device` (the CPU only), `requires_grad` and, for random ones, `generator` (an
`autodiff.Generator`, a numpy Generator or a seed; the global generator by default).
"""

import numpy as np

from autodiff import device as devices
from autodiff import dtypes
from autodiff.ops._args import scalar_dtype, shape_arg
from autodiff.random import resolve
from autodiff.tensor import Tensor


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of `data`; see `Tensor` for the dtype it gets."""
    devices.check(device, "tensor")
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """`data` as a tensor, sharing memory where it can: a Tensor is returned as it is (or cast),
    an ndarray of a supported dtype is wrapped without a copy; anything else is copied."""
    devices.check(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.as_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing `array`'s memory: writes through either are seen by both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
    dtypes.as_dtype(array.dtype)  # refuses unsupported dtypes
    return Tensor._wrap(array)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros of shape `size` (ints or one tuple); float32 unless `dtype` says otherwise."""
    return _filled(np.zeros, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones of shape `size` (ints or one tuple); float32 unless `dtype` says otherwise."""
    return _filled(np.ones, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uninitialised values (whatever the memory held), as in PyTorch."""
    return _filled(np.empty, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`fill_value` everywhere; the dtype follows it as in PyTorch (bool, int64 or float32)."""
    if dtype is None:
        dtype = scalar_dtype(fill_value)
    devices.check(device, "full")
    data = np.full(shape_arg((size,)), fill_value, dtypes.as_dtype(dtype))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Zeros of `input`'s shape, in its dtype unless `dtype` is given."""
    return zeros(
        input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def ones_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Ones of `input`'s shape, in its dtype unless `dtype` is given."""
    dtype = dtype or input.dtype
    return ones(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Uninitialised values of `input`'s shape, in its dtype unless `dtype` is given."""
    return empty(
        input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """`fill_value` everywhere, of `input`'s shape, in its dtype unless `dtype` is given."""
    dtype = dtype or input.dtype
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from start (0 by default) up to end, exclusive; int64 for ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.float32
    if step == 0:
        raise ValueError(f"arange: step must be nonzero (start {start}, end {end})")
    devices.check(device, "arange")
    data = np.arange(start, end, step, dtype=dtypes.as_dtype(dtype))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """`steps` evenly spaced values from start to end, both included; float32 by default."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    devices.check(device, "linspace")
    dtype = dtypes.as_dtype(dtype or dtypes.float32)
    data = np.linspace(start, end, steps).astype(dtype)
    return Tensor._wrap(data).requires_grad_(requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False) -> Tensor:
    """base ** linspace(start, end, steps); float32 by default."""
    if steps < 0:
        raise ValueError(f"logspace: number of steps must be non-negative, got {steps}")
    devices.check(device, "logspace")
    dtype = dtypes.as_dtype(dtype or dtypes.float32)
    data = np.power(base, np.linspace(start, end, steps)).astype(dtype)
    return Tensor._wrap(data).requires_grad_(requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n x m identity matrix (m defaults to n), float32 unless `dtype` says otherwise."""
    devices.check(device, "eye")
    data = np.eye(n, m, dtype=dtypes.as_dtype(dtype or dtypes.float32))
    return Tensor._wrap(data).requires_grad_(requires_grad)


# ---- random ------------------------------------------------------------------------------------


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    dtype = _float_dtype("rand", dtype)
    devices.check(device, "rand")
    data = resolve(generator).random(shape_arg(size), dtype=dtype.type)
    return Tensor._wrap(data).requires_grad_(requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    dtype = _float_dtype("randn", dtype)
    devices.check(device, "randn")
    data = resolve(generator).standard_normal(shape_arg(size), dtype=dtype.type)
    return Tensor._wrap(data).requires_grad_(requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Uniform on [0, 1), of `input`'s shape, in its dtype unless `dtype` is given."""
    dtype = dtype or input.dtype
    return rand(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Standard normal, of `input`'s shape, in its dtype unless `dtype` is given."""
    dtype = dtype or input.dtype
    return randn(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high): `randint(high, size)` or `randint(low, high, size)`;
    int64 by default."""
    args = list(args)
    if size is None and args and isinstance(args[-1], tuple | list):
        size = args.pop()
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    if high <= low:
        raise ValueError(f"randint: empty range [{low}, {high})")
    devices.check(device, "randint")
    data = resolve(generator).integers(low, high, shape_arg((size,)))
    return Tensor(data, dtype=dtype or dtypes.int64, requires_grad=requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1; int64 by default."""
    devices.check(device, "randperm")
    data = resolve(generator).permutation(n)
    return Tensor(data, dtype=dtype or dtypes.int64, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None) -> Tensor:
    """Normal samples: `normal(mean, std, size)` with numbers, or elementwise with tensor
    `mean` and/or `std` (broadcast against each other; the result does not require grad)."""
    devices.check(device, "normal")
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError(f"normal: std must be >= 0, got {std}")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise TypeError("normal: size is taken from mean and std when either is a tensor")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        like = next(t.dtype for t in (mean, std) if isinstance(t, Tensor))
        dtype = dtype or (like if like.kind == "f" else dtypes.float32)
    else:
        if size is None:
            raise TypeError("normal: size is required when mean and std are numbers")
        shape = shape_arg((size,))
    dtype = _float_dtype("normal", dtype)
    noise = resolve(generator).standard_normal(shape, dtype=dtype.type)
    return Tensor._wrap((noise * s + m).astype(dtype, copy=False))


# ---- helpers -----------------------------------------------------------------------------------


def _filled(fill, size, dtype, device, requires_grad):
    devices.check(device, fill.__name__)
    data = fill(shape_arg(size), dtypes.as_dtype(dtype or dtypes.float32))
    return Tensor._wrap(data).requires_grad_(requires_grad)


def _float_dtype(op, dtype):
    dtype = dtypes.as_dtype(dtype or dtypes.float32)
    if dtype not in dtypes.FLOAT_DTYPES:
        raise TypeError(f"{op}: dtype must be float32 or float64, got {dtype}")
    return dtype
