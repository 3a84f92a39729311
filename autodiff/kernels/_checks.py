"""Argument checks and normalisation shared by the kernel wrappers (plain Python, no numba)."""

from typing import NamedTuple

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(op: str, name: str, a, ndim: int) -> np.ndarray:
    """Return ``a`` as a C-contiguous float32/float64 array of rank ``ndim`` (copying if needed)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {a.dtype} (shape {a.shape})")
    if a.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {a.shape} ({a.ndim}-D)")
    return np.ascontiguousarray(a)


def check_out(op: str, out: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Check a caller-provided output buffer: exact shape, dtype, C-contiguous."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{op}: out must be a numpy array, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"{op}: out must be C-contiguous with shape {tuple(shape)} and dtype {dtype}, got "
            f"shape {out.shape} dtype {out.dtype} c_contiguous={out.flags.c_contiguous}"
        )
    return out


def pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    """Normalise an int or a pair of ints to ``(a, b)``, each at least ``minimum``."""
    values = (value, value) if np.isscalar(value) else tuple(value)
    return _ints(op, name, value, values, 2, minimum)


def padding4(op: str, value) -> tuple[int, int, int, int]:
    """Normalise padding to ``(top, bottom, left, right)`` from an int, ``(ph, pw)`` or 4 ints."""
    values = (value,) * 4 if np.isscalar(value) else tuple(value)
    if len(values) == 2:
        values = (values[0], values[0], values[1], values[1])
    return _ints(op, "padding", value, values, 4, 0)


def _ints(op: str, name: str, raw, values: tuple, length: int, minimum: int) -> tuple:
    """Check ``values`` holds ``length`` integers >= ``minimum`` and return them as ints."""
    if len(values) != length or not all(isinstance(v, int | np.integer) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {length} ints, got {raw!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {raw!r}")
    return tuple(int(v) for v in values)


def out_size(
    op: str, size: int, pads: tuple, kernel: int, stride: int, dilation: int, ceil_mode=False
) -> int:
    """Output length along one axis padded by ``pads = (before, after)``; ValueError when the
    (dilated) window exceeds the padded input.

    ``ceil_mode`` (pooling) rounds the window count up, as PyTorch does (a last window may then
    overhang the padded input), but drops a last window that would start in the right padding:
    every window starts inside the input or its left padding.
    """
    span = dilation * (kernel - 1) + 1
    padded = size + pads[0] + pads[1]
    n = (padded - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (n - 1) * stride >= size + pads[0]:
        n -= 1
    if n < 1:
        raise ValueError(
            f"{op}: kernel {kernel} (dilation {dilation}, span {span}) is larger than the padded "
            f"input {padded} (input {size} + padding {pads[0] + pads[1]})"
        )
    return n


class Window(NamedTuple):
    """Normalised geometry of a 2-D sliding window and the output size it gives."""

    kh: int
    kw: int
    sh: int
    sw: int
    pt: int
    pb: int
    pl: int
    pr: int
    dh: int
    dw: int
    oh: int
    ow: int

    @property
    def stride(self) -> tuple[int, int]:
        return self.sh, self.sw

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """``(top, bottom, left, right)``."""
        return self.pt, self.pb, self.pl, self.pr

    @property
    def dilation(self) -> tuple[int, int]:
        return self.dh, self.dw

    @property
    def out_hw(self) -> tuple[int, int]:
        return self.oh, self.ow


def window(
    op: str, x_shape: tuple, kernel_size, stride, padding, dilation=1, ceil_mode=False
) -> Window:
    """Check and normalise window parameters for an ``(..., H, W)`` input; errors name ``op``.

    ``ceil_mode`` as in ``out_size`` (pooling only).
    """
    kh, kw = pair(op, "kernel_size", kernel_size, 1)
    sh, sw = pair(op, "stride", stride, 1)
    dh, dw = pair(op, "dilation", dilation, 1)
    pt, pb, pl, pr = padding4(op, padding)
    h, w = x_shape[-2:]
    oh = out_size(op, h, (pt, pb), kh, sh, dh, ceil_mode)
    ow = out_size(op, w, (pl, pr), kw, sw, dw, ceil_mode)
    return Window(kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, oh, ow)


class ConvGeometry(NamedTuple):
    """Everything that picks and runs a convolution algorithm, without the arrays.

    ``x_shape`` is ``(N, C, H, W)``, ``w_shape`` ``(F, C // groups, kh, kw)``; ``window`` holds
    the kernel size, stride, padding ``(top, bottom, left, right)``, dilation and output size.
    """

    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    groups: int
    dtype: np.dtype
    window: Window

    @property
    def y_shape(self) -> tuple[int, int, int, int]:
        """``(N, F, oh, ow)``."""
        return (self.x_shape[0], self.w_shape[0], self.window.oh, self.window.ow)


def conv_geometry(
    op: str, x_shape: tuple, w_shape: tuple, dtype, stride, padding, dilation, groups: int
) -> ConvGeometry:
    """Check the window of a convolution (shapes and groups already checked) and normalise it."""
    g = window(op, x_shape, w_shape[2:], stride, padding, dilation)
    shapes = (tuple(int(v) for v in x_shape), tuple(int(v) for v in w_shape))
    return ConvGeometry(*shapes, int(groups), np.dtype(dtype), g)
