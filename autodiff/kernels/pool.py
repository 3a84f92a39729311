"""Max and average pooling over NCHW batches, forward and backward, on windows of any geometry.

Every pooling flavour reduces to per-axis windows: output row ``oy`` reads the rows
``row_start[oy] + i * dh`` for ``i < row_count[oy]``, likewise for columns, where start and count
are already clipped to the real input. ``_axis_windows`` builds them for PyTorch's sliding
windows (kernel ``k``, stride ``s``, padding ``p`` at most half the kernel, dilation ``d``,
``ceil_mode``): window ``o`` has taps ``o * s - p + i * d`` for ``i < k``, and the output length
is ``(L + 2p - d (k - 1) - 1) // s + 1`` (rounded up with ``ceil_mode``, see ``_checks``);
``_adaptive_windows`` builds PyTorch's adaptive bins ``[floor(o L / out), ceil((o + 1) L / out))``.

Max pooling treats padding as -inf (it never wins; a dilated window that holds only padding
gives -inf and index -1). Average pooling divides each window's sum by ``divisor[oy, ox]``:
with ``count_include_pad`` the window's extent clipped to the padded input (so padded zeros
count, but not the overhang of a ``ceil_mode`` window), without it the real elements only, or
``divisor_override``. Every kernel runs (n, c) planes in parallel: a plane's outputs only read
and write that plane. The common 2x2 stride-2 max pool has its own forward kernel; the general
backward (zero, then scatter) is already as fast as a fused one. The kernels take float32;
float64, which serves gradient checks and references on small inputs, runs their numpy twins
(``_FLOAT64``), so that a gradient check compiles nothing more.
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from . import _config, buffers
from ._checks import as_float_array, pair, window


class PoolWindows(NamedTuple):
    """Per-axis windows of a pooling over an ``(N, C, H, W)`` input (read-only arrays)."""

    row_start: np.ndarray  # (oh,) int64, first real row of each window
    row_count: np.ndarray  # (oh,) int64, its number of real rows
    col_start: np.ndarray  # (ow,) int64
    col_count: np.ndarray  # (ow,) int64
    dh: int  # step between a window's rows (dilation)
    dw: int
    divisor: np.ndarray  # (oh, ow) float64, average pooling's divisor
    fused_2x2: bool  # 2x2 windows, stride 2, no padding or dilation


def max_pool2d_forward(
    x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
):
    """Max over each window, and where it was.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    kernel_size, dilation : int or (int, int), >= 1
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)
        At most half the kernel size along each axis.
    ceil_mode : bool
        Round the output size up (a last, partial window), as PyTorch.

    Returns
    -------
    y : ndarray, shape (N, C, oh, ow), dtype of ``x``
        NaN in a window gives NaN, as in PyTorch.
    argmax : ndarray, shape (N, C, oh, ow), int32
        Flat index ``h * W + w`` of the maximum within its input plane (PyTorch's
        ``return_indices``); pass to ``max_pool2d_backward``.

    Raises
    ------
    TypeError, ValueError
        Non-float ``x``, wrong rank, non-positive kernel/stride/dilation, padding over half the
        kernel, or a window larger than the padded input.
    """
    x = as_float_array("max_pool2d", "x", x, 4)
    windows = pool_windows("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(x, windows)


def adaptive_max_pool2d_forward(x: np.ndarray, output_size):
    """Max over PyTorch's adaptive bins (module docstring); returns ``(y, argmax)`` as
    ``max_pool2d_forward`` does, with ``y`` of shape ``(N, C, *output_size)``."""
    x = as_float_array("adaptive_max_pool2d", "x", x, 4)
    return _max_pool(x, adaptive_windows("adaptive_max_pool2d", x.shape, output_size))


def max_pool2d_backward(gy: np.ndarray, argmax: np.ndarray, x_shape: tuple) -> np.ndarray:
    """Route each output gradient to the input element that was the maximum.

    Parameters
    ----------
    gy : ndarray, shape (N, C, oh, ow), float32 or float64
    argmax : ndarray, shape (N, C, oh, ow), int32
        As returned by ``max_pool2d_forward`` for an input of ``x_shape`` (indices are trusted,
        not range-checked; -1 marks a window without input and receives nothing).
    x_shape : tuple (N, C, H, W)
        Shape of the forward input.

    Returns
    -------
    gx : ndarray, shape (N, C, H, W), dtype of ``gy``
        Overlapping windows that share a maximum add their gradients.
    """
    gy = as_float_array("max_pool2d_backward", "gy", gy, 4)
    if not isinstance(argmax, np.ndarray) or argmax.dtype != np.int32 or argmax.shape != gy.shape:
        raise ValueError(
            f"max_pool2d_backward: argmax must be int32 with the shape of gy {gy.shape}, got "
            f"{getattr(argmax, 'shape', type(argmax).__name__)} {getattr(argmax, 'dtype', '')}"
        )
    if len(x_shape) != 4 or tuple(x_shape[:2]) != gy.shape[:2]:
        raise ValueError(f"max_pool2d_backward: x_shape {x_shape} does not match gy {gy.shape}")
    gx = buffers.empty(tuple(int(v) for v in x_shape), gy.dtype)
    _build(_max_pool_backward_impl, gx.dtype)(gy, np.ascontiguousarray(argmax), gx)
    return gx


def avg_pool2d_forward(
    x: np.ndarray,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """Mean over each window (divisor as in the module docstring).

    Parameters as for ``max_pool2d_forward``, and ``count_include_pad`` (padded zeros count in
    the divisor) and ``divisor_override`` (a non-zero int to divide every sum by instead).

    Returns
    -------
    y : ndarray, shape (N, C, oh, ow), dtype of ``x``
    """
    x = as_float_array("avg_pool2d", "x", x, 4)
    args = (kernel_size, stride, padding, 1, ceil_mode, count_include_pad, divisor_override)
    windows = pool_windows("avg_pool2d", x.shape, *args)
    return _avg_pool(x, windows)


def avg_pool2d_backward(
    gy: np.ndarray,
    x_shape: tuple,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """Spread each output gradient evenly (``/ divisor``) over its window.

    Parameters
    ----------
    gy : ndarray, shape (N, C, oh, ow), float32 or float64
    x_shape : tuple (N, C, H, W)
        Shape of the forward input.
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As given to ``avg_pool2d_forward``.

    Returns
    -------
    gx : ndarray, shape (N, C, H, W), dtype of ``gy``
    """
    shape = _x_shape("avg_pool2d_backward", x_shape)
    args = (kernel_size, stride, padding, 1, ceil_mode, count_include_pad, divisor_override)
    windows = pool_windows("avg_pool2d_backward", shape, *args)
    return _avg_pool_backward("avg_pool2d_backward", gy, shape, windows)


def adaptive_avg_pool2d_forward(x: np.ndarray, output_size) -> np.ndarray:
    """Mean over PyTorch's adaptive bins; ``y`` of shape ``(N, C, *output_size)``."""
    x = as_float_array("adaptive_avg_pool2d", "x", x, 4)
    return _avg_pool(x, adaptive_windows("adaptive_avg_pool2d", x.shape, output_size))


def adaptive_avg_pool2d_backward(gy: np.ndarray, x_shape: tuple) -> np.ndarray:
    """Gradient of ``adaptive_avg_pool2d_forward`` for an input of ``x_shape``."""
    shape = _x_shape("adaptive_avg_pool2d_backward", x_shape)
    windows = adaptive_windows("adaptive_avg_pool2d_backward", shape, gy.shape[2:])
    return _avg_pool_backward("adaptive_avg_pool2d_backward", gy, shape, windows)


def pool_windows(
    op: str,
    x_shape: tuple,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> PoolWindows:
    """Check PyTorch's pooling arguments for an ``(N, C, H, W)`` input and build its windows.

    Raises ValueError (naming ``op`` and the shape) for bad sizes, padding over half the kernel,
    a window larger than the padded input, an empty input plane or a zero divisor.
    """
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = pair(op, "stride", kernel if stride is None else stride, 1)
    pads = pair(op, "padding", padding, 0)
    if 2 * pads[0] > kernel[0] or 2 * pads[1] > kernel[1]:
        raise ValueError(
            f"{op}: padding {pads} must be at most half of kernel_size {kernel} "
            f"(input {tuple(x_shape)})"
        )
    if divisor_override is not None and (
        not isinstance(divisor_override, int | np.integer) or divisor_override == 0
    ):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    _check_planes(op, x_shape)
    g = window(op, x_shape, kernel, stride, pads, dilation, bool(ceil_mode))
    return _sliding_windows(
        tuple(int(v) for v in x_shape[2:]), g, bool(count_include_pad), divisor_override
    )


def adaptive_windows(op: str, x_shape: tuple, output_size) -> PoolWindows:
    """Check an adaptive pooling's ``output_size`` (an int or a pair, >= 0) and build its bins."""
    out = pair(op, "output_size", output_size, 0)
    _check_planes(op, x_shape)
    return _adaptive_windows(tuple(int(v) for v in x_shape[2:]), out)


def _check_planes(op: str, x_shape: tuple) -> None:
    """PyTorch pools no empty plane (an empty batch is fine)."""
    if len(x_shape) != 4 or 0 in tuple(x_shape[1:]):
        raise ValueError(
            f"{op}: expected an (N, C, H, W) input with non-zero C, H and W, got {tuple(x_shape)}"
        )


def _x_shape(op: str, x_shape: tuple) -> tuple:
    if len(x_shape) != 4:
        raise ValueError(f"{op}: x_shape must be (N, C, H, W), got {x_shape}")
    return tuple(int(v) for v in x_shape)


@lru_cache(maxsize=256)
def _sliding_windows(hw: tuple, g, count_include_pad: bool, divisor_override) -> PoolWindows:
    """Windows of a normalised ``Window`` over planes of ``hw``; cached (training loops repeat)."""
    rows = _axis_windows(hw[0], g.kh, g.sh, g.pt, g.dh, g.oh)
    cols = _axis_windows(hw[1], g.kw, g.sw, g.pl, g.dw, g.ow)
    if divisor_override is not None:
        divisor = np.full((g.oh, g.ow), float(divisor_override))
    elif count_include_pad:
        divisor = np.outer(rows[2], cols[2]).astype(np.float64)
    else:
        divisor = np.outer(rows[1], cols[1]).astype(np.float64)
    fused = (g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw) == (2, 2, 2, 2, 0, 0, 1, 1)
    fused = fused and 2 * g.oh <= hw[0] and 2 * g.ow <= hw[1]  # no ceil_mode partial window
    return _frozen(*rows[:2], *cols[:2], g.dh, g.dw, divisor, fused)


def _axis_windows(size: int, k: int, s: int, p: int, d: int, out: int) -> tuple:
    """Along one axis: (first real tap, number of real taps, extent clipped to the padded
    input) of each of the ``out`` windows."""
    begin = np.arange(out) * s - p
    first = np.maximum(-begin + d - 1, 0) // d  # first tap index at or after 0
    last = np.minimum(k, (size - begin + d - 1) // d)  # one past the last tap before size
    count = np.maximum(last - first, 0)
    extent = np.minimum(begin + (k - 1) * d + 1, size + p) - begin
    return begin + first * d, count, extent


@lru_cache(maxsize=256)
def _adaptive_windows(hw: tuple, out: tuple) -> PoolWindows:
    """PyTorch's adaptive bins of ``hw`` planes into ``out`` cells; cached."""
    (h, w), (oh, ow) = hw, out
    rows = np.arange(oh) * h // oh, -(-(np.arange(oh) + 1) * h // oh)
    cols = np.arange(ow) * w // ow, -(-(np.arange(ow) + 1) * w // ow)
    row_count, col_count = rows[1] - rows[0], cols[1] - cols[0]
    divisor = np.outer(row_count, col_count).astype(np.float64)
    return _frozen(rows[0], row_count, cols[0], col_count, 1, 1, divisor, False)


def _frozen(row_start, row_count, col_start, col_count, dh, dw, divisor, fused) -> PoolWindows:
    """A PoolWindows of read-only arrays (they are shared through the caches)."""
    arrays = [
        np.ascontiguousarray(a, np.int64) for a in (row_start, row_count, col_start, col_count)
    ]
    arrays.append(np.ascontiguousarray(divisor))
    for a in arrays:
        a.flags.writeable = False
    return PoolWindows(*arrays[:4], dh, dw, arrays[4], fused)


def _build(kernel, dtype: np.dtype):
    """``kernel`` for float32, its numpy twin for float64."""
    return kernel if dtype == np.float32 else _FLOAT64[kernel]


def _max_pool(x: np.ndarray, g: PoolWindows) -> tuple[np.ndarray, np.ndarray]:
    n, c, h, w = x.shape
    if h * w > np.iinfo(np.int32).max:
        raise ValueError(f"max_pool2d: input planes of {h}x{w} overflow the int32 argmax")
    shape = (n, c, len(g.row_start), len(g.col_start))
    y = buffers.empty(shape, x.dtype)
    argmax = buffers.empty(shape, np.int32)
    if g.fused_2x2 and x.dtype == np.float32:
        _max_pool_2x2_impl(x, y, argmax)
    else:
        windows = (g.row_start, g.row_count, g.col_start, g.col_count, g.dh, g.dw)
        _build(_max_pool_impl, x.dtype)(x, y, argmax, *windows)
    return y, argmax


def _avg_pool(x: np.ndarray, g: PoolWindows) -> np.ndarray:
    n, c = x.shape[:2]
    y = buffers.empty((n, c, *g.divisor.shape), x.dtype)
    scale = (1.0 / g.divisor).astype(x.dtype)
    windows = (g.row_start, g.row_count, g.col_start, g.col_count, g.dh, g.dw)
    _build(_avg_pool_impl, x.dtype)(x, y, *windows, scale)
    return y


def _avg_pool_backward(op: str, gy, shape: tuple, g: PoolWindows) -> np.ndarray:
    gy = as_float_array(op, "gy", gy, 4)
    expected = (*shape[:2], *g.divisor.shape)
    if gy.shape != expected:
        raise ValueError(f"{op}: gy has shape {gy.shape} but input {shape} gives {expected}")
    gx = buffers.empty(shape, gy.dtype)
    scale = (1.0 / g.divisor).astype(gy.dtype)
    args = (g.row_start, g.row_count, g.col_start, g.col_count, g.dh, g.dw, scale)
    _build(_avg_pool_backward_impl, gy.dtype)(gy, gx, *args)
    return gx


@njit(**_config.PARALLEL)
def _max_pool_impl(x, y, argmax, row_start, row_count, col_start, col_count, dh, dw):
    """Window max and its flat in-plane index over the real taps of each window."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        for oy in range(oh):
            y0 = row_start[oy]
            ny = row_count[oy]
            for ox in range(ow):
                x0 = col_start[ox]
                nx = col_count[ox]
                if ny == 0 or nx == 0:
                    y[b, ci, oy, ox] = -np.inf
                    argmax[b, ci, oy, ox] = -1
                    continue
                best = x[b, ci, y0, x0]
                arg = y0 * w + x0
                for i in range(ny):
                    iy = y0 + i * dh
                    for j in range(nx):
                        ix = x0 + j * dw
                        v = x[b, ci, iy, ix]
                        # "v != v" lets a NaN win and stick, so NaN propagates as in PyTorch.
                        if v > best or v != v:
                            best = v
                            arg = iy * w + ix
                y[b, ci, oy, ox] = best
                argmax[b, ci, oy, ox] = arg


@njit(**_config.PARALLEL)
def _max_pool_2x2_impl(x, y, argmax):
    """``_max_pool_impl`` for 2x2 windows, stride 2, no padding: 2.5x faster than the general loop.

    Fixed offsets and selects instead of branches let LLVM vectorise; the comparison order (and
    so the tie and NaN behaviour) is the general kernel's.
    """
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    xf = x.ravel()
    yf = y.ravel()
    af = argmax.ravel()
    for nc in prange(n * c):
        src = nc * h * w
        dst = nc * oh * ow
        for oy in range(oh):
            for ox in range(ow):
                i = 2 * oy * w + 2 * ox
                best = xf[src + i]
                arg = i
                for j in (i + 1, i + w, i + w + 1):
                    v = xf[src + j]
                    take = v > best or v != v
                    best = v if take else best
                    arg = j if take else arg
                yf[dst + oy * ow + ox] = best
                af[dst + oy * ow + ox] = arg


@njit(**_config.PARALLEL)
def _max_pool_backward_impl(gy, argmax, gx):
    """Zero each gradient plane, then add every ``gy`` at its argmax (none for -1)."""
    n, c, h, w = gx.shape
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        plane = gx[b, ci].ravel()
        plane[:] = 0
        for oy in range(oh):
            for ox in range(ow):
                a = argmax[b, ci, oy, ox]
                if a >= 0:
                    plane[a] += gy[b, ci, oy, ox]


@njit(**_config.PARALLEL)
def _avg_pool_impl(x, y, row_start, row_count, col_start, col_count, dh, dw, scale):
    """Window sums over the real taps (padding adds zeros) times ``scale = 1 / divisor``."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        for oy in range(oh):
            y0 = row_start[oy]
            for ox in range(ow):
                x0 = col_start[ox]
                s = scale[oy, ox]
                # A zero of x's dtype: a 0.0 literal would make the sum float64.
                total = s - s
                for i in range(row_count[oy]):
                    for j in range(col_count[ox]):
                        total += x[b, ci, y0 + i * dh, x0 + j * dw]
                y[b, ci, oy, ox] = total * s


@njit(**_config.PARALLEL)
def _avg_pool_backward_impl(gy, gx, row_start, row_count, col_start, col_count, dh, dw, scale):
    """Zero each gradient plane, then add ``gy * scale`` over every window's real taps."""
    n, c, h, w = gx.shape
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        gx[b, ci] = 0
        for oy in range(oh):
            y0 = row_start[oy]
            for ox in range(ow):
                x0 = col_start[ox]
                share = gy[b, ci, oy, ox] * scale[oy, ox]
                for i in range(row_count[oy]):
                    for j in range(col_count[ox]):
                        gx[b, ci, y0 + i * dh, x0 + j * dw] += share


def _taps(row_start, row_count, col_start, col_count, dh, dw, hw):
    """For each window offset ``(i, j)``, in the kernels' order: ``(rows, cols, real)``, the
    input row and column of that tap of every window (clipped into the plane where the window
    has no such tap) and ``(oh, ow)`` whether it has."""
    h, w = hw
    for i in range(int(row_count.max(initial=0))):
        rows = np.minimum(row_start + i * dh, h - 1)
        for j in range(int(col_count.max(initial=0))):
            cols = np.minimum(col_start + j * dw, w - 1)
            real = (i < row_count)[:, None] & (j < col_count)[None, :]
            yield rows[:, None], cols[None, :], real


def _max_pool_float64(x, y, argmax, *windows):
    """``_max_pool_impl`` in numpy, tap by tap in the same order: the same ties and NaN."""
    y[...], argmax[...] = -np.inf, -1
    first = np.ones(y.shape[2:], bool)  # no real tap seen yet
    for rows, cols, real in _taps(*windows, x.shape[2:]):
        v = x[:, :, rows, cols]
        take = real & (first | (v > y) | (v != v))
        np.copyto(y, v, where=take)
        np.copyto(argmax, np.broadcast_to(rows * x.shape[3] + cols, y.shape), where=take)
        first &= ~real


def _max_pool_backward_float64(gy, argmax, gx):
    """``_max_pool_backward_impl`` in numpy."""
    n, c, h, w = gx.shape
    real = argmax >= 0
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    flat = np.broadcast_to(plane, argmax.shape)[real] + argmax[real]
    gx.reshape(-1)[:] = np.bincount(flat, weights=gy[real], minlength=gx.size)


def _avg_pool_float64(x, y, *windows_and_scale):
    """``_avg_pool_impl`` in numpy, summing the taps in the same order."""
    *windows, scale = windows_and_scale
    y[...] = 0
    for rows, cols, real in _taps(*windows, x.shape[2:]):
        y += np.where(real, x[:, :, rows, cols], 0)
    y *= scale


def _avg_pool_backward_float64(gy, gx, *windows_and_scale):
    """``_avg_pool_backward_impl`` in numpy (``np.add.at``: windows may share a tap)."""
    *windows, scale = windows_and_scale
    gx[...] = 0
    share = gy * scale
    for rows, cols, real in _taps(*windows, gx.shape[2:]):
        at = np.broadcast_to(rows, real.shape)[real], np.broadcast_to(cols, real.shape)[real]
        np.add.at(gx, (slice(None), slice(None), *at), share[:, :, real])


_FLOAT64 = {
    _max_pool_impl: _max_pool_float64,
    _max_pool_backward_impl: _max_pool_backward_float64,
    _avg_pool_impl: _avg_pool_float64,
    _avg_pool_backward_impl: _avg_pool_backward_float64,
}
