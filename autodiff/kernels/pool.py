"""Max and average pooling over NCHW batches, forward and backward.

Windows are ``(kh, kw)`` with stride ``(sh, sw)`` and symmetric padding ``(ph, pw)``, at most half
the kernel as in PyTorch, so every window holds at least one real input element. Max pooling
treats padding as -inf (it never wins); average pooling counts padded zeros in the divisor
(PyTorch's ``count_include_pad=True``), so the divisor is always ``kh * kw``. Output size:
``oh = (H + 2 * ph - kh) // sh + 1``, likewise ``ow``. Every kernel runs (n, c) planes in
parallel: a plane's outputs only read and write that plane. The common 2x2 stride-2 max pool
has its own forward kernel; the general backward (zero, then scatter) is already as fast as a
fused one.
"""

import numpy as np
from numba import njit, prange

from . import _config
from ._checks import Window, as_float_array, pair, window


def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0):
    """Max over each window, and where it was.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int)
        At most half the kernel size along each axis.

    Returns
    -------
    y : ndarray, shape (N, C, oh, ow), dtype of ``x``
        NaN in a window gives NaN, as in PyTorch.
    argmax : ndarray, shape (N, C, oh, ow), int32
        Flat index ``h * W + w`` of the maximum within its input plane; pass to
        ``max_pool2d_backward``.

    Raises
    ------
    TypeError, ValueError
        Non-float ``x``, wrong rank, non-positive kernel/stride, padding over half the kernel,
        or a window larger than the padded input.
    """
    x, g = _check("max_pool2d", x, kernel_size, stride, padding)
    n, c, h, w = x.shape
    if h * w > np.iinfo(np.int32).max:
        raise ValueError(f"max_pool2d: input planes of {h}x{w} overflow the int32 argmax")
    y = np.empty((n, c, g.oh, g.ow), x.dtype)
    argmax = np.empty((n, c, g.oh, g.ow), np.int32)
    if (g.kh, g.kw, g.sh, g.sw, g.pt, g.pl) == (2, 2, 2, 2, 0, 0):
        _max_pool_2x2_impl(x, y, argmax)
    else:
        _max_pool_impl(x, y, argmax, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl)
    return y, argmax


def max_pool2d_backward(gy: np.ndarray, argmax: np.ndarray, x_shape: tuple) -> np.ndarray:
    """Route each output gradient to the input element that was the maximum.

    Parameters
    ----------
    gy : ndarray, shape (N, C, oh, ow), float32 or float64
    argmax : ndarray, shape (N, C, oh, ow), int32
        As returned by ``max_pool2d_forward`` for an input of ``x_shape`` (indices are trusted,
        not range-checked).
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
    gx = np.empty(tuple(int(v) for v in x_shape), gy.dtype)
    _max_pool_backward_impl(gy, np.ascontiguousarray(argmax), gx)
    return gx


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Mean over each window, padded zeros included (divisor ``kh * kw``).

    Parameters and errors as for ``max_pool2d_forward``.

    Returns
    -------
    y : ndarray, shape (N, C, oh, ow), dtype of ``x``
    """
    x, g = _check("avg_pool2d", x, kernel_size, stride, padding)
    n, c = x.shape[:2]
    y = np.empty((n, c, g.oh, g.ow), x.dtype)
    scale = x.dtype.type(1.0 / (g.kh * g.kw))
    _avg_pool_impl(x, y, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, scale)
    return y


def avg_pool2d_backward(
    gy: np.ndarray, x_shape: tuple, kernel_size, stride=None, padding=0
) -> np.ndarray:
    """Spread each output gradient evenly (``/ (kh * kw)``) over its window.

    Parameters
    ----------
    gy : ndarray, shape (N, C, oh, ow), float32 or float64
    x_shape : tuple (N, C, H, W)
        Shape of the forward input.
    kernel_size, stride, padding
        As given to ``avg_pool2d_forward``.

    Returns
    -------
    gx : ndarray, shape (N, C, H, W), dtype of ``gy``
    """
    gy = as_float_array("avg_pool2d_backward", "gy", gy, 4)
    if len(x_shape) != 4:
        raise ValueError(f"avg_pool2d_backward: x_shape must be (N, C, H, W), got {x_shape}")
    shape = tuple(int(v) for v in x_shape)
    g = _window("avg_pool2d_backward", shape, kernel_size, stride, padding)
    if gy.shape != (*shape[:2], g.oh, g.ow):
        raise ValueError(
            f"avg_pool2d_backward: gy has shape {gy.shape} but input {shape} with kernel "
            f"{(g.kh, g.kw)}, stride {(g.sh, g.sw)}, padding {(g.pt, g.pl)} gives "
            f"{(*shape[:2], g.oh, g.ow)}"
        )
    gx = np.empty(shape, gy.dtype)
    scale = gy.dtype.type(1.0 / (g.kh * g.kw))
    _avg_pool_backward_impl(gy, gx, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, scale)
    return gx


def _check(op: str, x, kernel_size, stride, padding) -> tuple[np.ndarray, Window]:
    """Validate a pooling input and its window."""
    x = as_float_array(op, "x", x, 4)
    return x, _window(op, x.shape, kernel_size, stride, padding)


def _window(op: str, x_shape: tuple, kernel_size, stride, padding) -> Window:
    """Pooling geometry: stride defaults to the kernel, padding at most half the kernel."""
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else stride
    ph, pw = pair(op, "padding", padding, 0)
    if 2 * ph > kernel[0] or 2 * pw > kernel[1]:
        raise ValueError(
            f"{op}: padding {(ph, pw)} must be at most half of kernel_size {kernel} "
            f"(input {tuple(x_shape)})"
        )
    return window(op, x_shape, kernel, stride, (ph, pw))


@njit(**_config.PARALLEL)
def _max_pool_impl(x, y, argmax, kh, kw, sh, sw, ph, pw):
    """Window max and its flat in-plane index; the window is clipped to the real input."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        for oy in range(oh):
            y0 = max(oy * sh - ph, 0)
            y1 = min(oy * sh - ph + kh, h)
            for ox in range(ow):
                x0 = max(ox * sw - pw, 0)
                x1 = min(ox * sw - pw + kw, w)
                best = x[b, ci, y0, x0]
                arg = y0 * w + x0
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
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
    """Zero each gradient plane, then add every ``gy`` at its argmax."""
    n, c, h, w = gx.shape
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        plane = gx[b, ci].ravel()
        plane[:] = 0
        for oy in range(oh):
            for ox in range(ow):
                plane[argmax[b, ci, oy, ox]] += gy[b, ci, oy, ox]


@njit(**_config.PARALLEL)
def _avg_pool_impl(x, y, kh, kw, sh, sw, ph, pw, scale):
    """Window sums over the real input (padding adds zeros) times ``scale = 1 / (kh * kw)``."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        for oy in range(oh):
            y0 = max(oy * sh - ph, 0)
            y1 = min(oy * sh - ph + kh, h)
            for ox in range(ow):
                x0 = max(ox * sw - pw, 0)
                x1 = min(ox * sw - pw + kw, w)
                # A zero of x's dtype: a 0.0 literal would make the sum float64.
                total = scale - scale
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        total += x[b, ci, iy, ix]
                y[b, ci, oy, ox] = total * scale


@njit(**_config.PARALLEL)
def _avg_pool_backward_impl(gy, gx, kh, kw, sh, sw, ph, pw, scale):
    """Zero each gradient plane, then add ``gy * scale`` over every window's real part."""
    n, c, h, w = gx.shape
    oh, ow = gy.shape[2:]
    for nc in prange(n * c):
        b = nc // c
        ci = nc - b * c
        gx[b, ci] = 0
        for oy in range(oh):
            y0 = max(oy * sh - ph, 0)
            y1 = min(oy * sh - ph + kh, h)
            for ox in range(ow):
                x0 = max(ox * sw - pw, 0)
                x1 = min(ox * sw - pw + kw, w)
                share = gy[b, ci, oy, ox] * scale
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        gx[b, ci, iy, ix] += share
