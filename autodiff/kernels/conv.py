"""2-D convolution on plain arrays: im2col + one GEMM per batch chunk, col2im for the input grad.

The graph op ``conv2d`` calls ``conv2d_forward`` and ``conv2d_backward``; nothing here knows
about Tensor. Convolution is cross-correlation (no kernel flip), as in PyTorch.

Per chunk of ``nb`` samples (``P = oh * ow``, ``K = kh * kw``, ``G`` groups)::

    cols = im2col(x[chunk])                              (C * K, nb * P)
    y2 = w.reshape(G, F/G, C/G * K) @ cols.reshape(G, C/G * K, nb * P)     -> (F, nb * P)
    gw += gy2 @ cols.T      gcols = w.T @ gy2      gx[chunk] = col2im(gcols)

The batch is chunked so that ``cols`` stays under ``_config.COLS_BUDGET_BYTES``; one cols buffer
is reused for every chunk (and for ``gcols``), which avoids re-faulting fresh pages each time.
Backward recomputes ``cols`` instead of keeping it alive between forward and backward: im2col
costs a fraction of the GEMMs, and a saved cols is ``K`` times the size of the input.
Three cases skip im2col: small stride-1 convolutions run as direct loops (``direct.py``; the
GEMM would be too shallow to run near the BLAS peak), depthwise ones too (``groups == C``,
``depthwise.py``), and 3x3 stride-1 convolutions of one group with enough channels run as
Winograd F(4x4, 3x3) (``winograd.py``; 4x fewer multiplications). ``_path`` chooses.
"""

from typing import NamedTuple

import numpy as np

from . import _config
from ._checks import as_float_array, padding4, pair, window
from .blas import matmul
from .depthwise import depthwise_backward_input, depthwise_backward_weight, depthwise_forward
from .direct import direct_backward_input, direct_backward_weight, direct_forward
from .im2col import batch_chunk, col2im, im2col
from .winograd import winograd_backward_input, winograd_backward_weight, winograd_forward


class ConvSaved(NamedTuple):
    """What ``conv2d_backward`` needs from the forward pass."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    dilation: tuple[int, int]
    groups: int

    @property
    def geometry(self) -> tuple:
        """``(kernel_size, stride, padding, dilation)`` as the im2col/col2im arguments."""
        return self.w.shape[2:], self.stride, self.padding, self.dilation


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b=None, stride=1, padding=0, dilation=1, groups: int = 1
) -> tuple[np.ndarray, ConvSaved]:
    """Convolve a batch: ``y[n, f] = sum_c x[n, c] (*) w[f, c] + b[f]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float32 or float64
    w : ndarray, shape (F, C // groups, kh, kw), same dtype as ``x``
    b : ndarray, shape (F,), same dtype, or None
    stride, dilation : int or (int, int), >= 1
    padding : int, (ph, pw), (top, bottom, left, right), "valid" or "same"
        Zero padding. "same" (stride 1 only) pads ``dilation * (k - 1)`` in total per axis,
        the odd extra on the bottom/right, as PyTorch does.
    groups : int
        ``C`` and ``F`` must be divisible by it; ``groups == C`` is a depthwise convolution.

    Returns
    -------
    y : ndarray, shape (N, F, oh, ow), dtype of ``x``
    saved : ConvSaved
        Pass to ``conv2d_backward``; holds ``x`` and ``w`` (not copies) and the geometry.

    Raises
    ------
    TypeError
        Non-float or mismatched dtypes.
    ValueError
        Bad ranks, channel counts, groups, geometry, or a window larger than the padded input.
    """
    x, w, b = _check_arrays(x, w, b, groups)
    n, c = x.shape[:2]
    f = w.shape[0]
    kernel = w.shape[2:]
    stride = pair("conv2d", "stride", stride, 1)
    dilation = pair("conv2d", "dilation", dilation, 1)
    padding = _conv_padding(padding, kernel, stride, dilation)
    g = window("conv2d", x.shape, kernel, stride, padding, dilation)
    saved = ConvSaved(x, w, b is not None, stride, padding, dilation, int(groups))
    path = _path(saved)
    if path == "direct":
        return direct_forward(x, w, b, padding, dilation, groups, (g.oh, g.ow)), saved
    if path == "depthwise":
        return depthwise_forward(x, w, b, stride, padding, dilation, (g.oh, g.ow)), saved
    if path == "winograd":
        return winograd_forward(x, w, b, padding, (g.oh, g.ow)), saved
    y = np.empty((n, f, g.oh, g.ow), x.dtype)
    p = g.oh * g.ow
    ck = c * g.kh * g.kw
    w3 = w.reshape(groups, f // groups, ck // groups)
    chunk = batch_chunk(x.shape, kernel, (g.oh, g.ow), x.itemsize)
    cols_buf = np.empty(ck * chunk * p, x.dtype)
    y2_buf = np.empty(f * chunk * p, x.dtype)
    for n0 in range(0, n, chunk):
        nb = min(chunk, n - n0)
        # Flat buffers sliced then reshaped, so a short last chunk is still C-contiguous.
        cols = cols_buf[: ck * nb * p].reshape(ck, nb * p)
        im2col(x[n0 : n0 + nb], *saved.geometry, out=cols)
        y2 = y2_buf[: f * nb * p].reshape(groups, f // groups, nb * p)
        matmul(w3, cols.reshape(groups, ck // groups, nb * p), out=y2)
        y2 = y2.reshape(f, nb, p).transpose(1, 0, 2)
        y_chunk = y[n0 : n0 + nb].reshape(nb, f, p)
        if b is None:
            np.copyto(y_chunk, y2)
        else:
            np.add(y2, b[:, None], out=y_chunk)
    return y, saved


def conv2d_backward(
    gy: np.ndarray, saved: ConvSaved, need_x: bool = True, need_w: bool = True, need_b: bool = True
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv2d_forward`` with respect to ``x``, ``w`` and ``b``.

    Parameters
    ----------
    gy : ndarray, shape (N, F, oh, ow), dtype of the forward input
        Gradient of the loss with respect to ``y``.
    saved : ConvSaved
        As returned by ``conv2d_forward``.
    need_x, need_w, need_b : bool
        Which gradients to compute; the others come back as None (``gb`` is also None when the
        forward had no bias).

    Returns
    -------
    gx : ndarray, shape (N, C, H, W) or None
    gw : ndarray, shape (F, C // groups, kh, kw) or None
    gb : ndarray, shape (F,) or None
        All of the forward dtype.
    """
    x, w, groups = saved.x, saved.w, saved.groups
    n, c = x.shape[:2]
    f, kernel = w.shape[0], w.shape[2:]
    g = window("conv2d_backward", x.shape, kernel, saved.stride, saved.padding, saved.dilation)
    gy = as_float_array("conv2d_backward", "gy", gy, 4)
    if gy.shape != (n, f, g.oh, g.ow) or gy.dtype != x.dtype:
        raise ValueError(
            f"conv2d_backward: gy has shape {gy.shape} {gy.dtype} but the output was "
            f"{(n, f, g.oh, g.ow)} {x.dtype}"
        )
    gb = gy.sum(axis=(0, 2, 3)) if need_b and saved.has_bias else None
    if not (need_x or need_w):
        return None, None, gb
    path = _path(saved)
    if path == "direct":
        args = (saved.padding, saved.dilation, groups)
        gx = direct_backward_input(gy, w, x.shape, *args) if need_x else None
        gw = direct_backward_weight(gy, x, w.shape, *args) if need_w else None
        return gx, gw, gb
    if path == "depthwise":
        args = (saved.stride, saved.padding, saved.dilation)
        gx = depthwise_backward_input(gy, w, x.shape, *args) if need_x else None
        gw = depthwise_backward_weight(gy, x, w.shape, *args) if need_w else None
        return gx, gw, gb
    if path == "winograd":
        gx = winograd_backward_input(gy, w, x.shape, saved.padding) if need_x else None
        gw = winograd_backward_weight(gy, x, saved.padding) if need_w else None
        return gx, gw, gb
    p = g.oh * g.ow
    ck = c * g.kh * g.kw
    w3 = w.reshape(groups, f // groups, ck // groups)
    gx = np.empty_like(x) if need_x else None
    # gw is accumulated transposed, (G, C/G * K, F/G): cols @ gy2.T runs ~20% faster in
    # OpenBLAS than gy2 @ cols.T for these shapes.
    gw_t = np.zeros((groups, ck // groups, f // groups), x.dtype) if need_w else None
    chunk = batch_chunk(x.shape, kernel, (g.oh, g.ow), x.itemsize)
    cols_buf = np.empty(ck * chunk * p, x.dtype)
    gy2_buf = np.empty(f * chunk * p, x.dtype)
    for n0 in range(0, n, chunk):
        nb = min(chunk, n - n0)
        gy2 = gy2_buf[: f * nb * p].reshape(f, nb, p)
        np.copyto(gy2, gy[n0 : n0 + nb].reshape(nb, f, p).transpose(1, 0, 2))
        gy2 = gy2.reshape(groups, f // groups, nb * p)
        cols = cols_buf[: ck * nb * p].reshape(groups, ck // groups, nb * p)
        if need_w:
            im2col(x[n0 : n0 + nb], *saved.geometry, out=cols.reshape(ck, nb * p))
            gw_t += matmul(cols, gy2.transpose(0, 2, 1))
        if need_x:
            # gcols overwrites the cols buffer: cols is no longer needed for this chunk.
            matmul(w3.transpose(0, 2, 1), gy2, out=cols)
            gcols = cols.reshape(ck, nb * p)
            col2im(gcols, (nb, *x.shape[1:]), *saved.geometry, out=gx[n0 : n0 + nb])
    gw = None if gw_t is None else np.ascontiguousarray(gw_t.transpose(0, 2, 1)).reshape(w.shape)
    return gx, gw, gb


class ConvTransposeSaved(NamedTuple):
    """What ``conv_transpose2d_backward`` needs from the forward pass."""

    x: np.ndarray
    conv: ConvSaved  # the convolution whose input gradient the forward is (``conv.x`` a stand-in)
    extra: tuple[int, int]  # bottom rows / right columns beyond every window, left zero
    has_bias: bool


def conv_transpose2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> tuple[np.ndarray, ConvTransposeSaved]:
    """Transposed convolution: the gradient of ``conv2d_forward`` with respect to its input.

    ``y`` is what ``conv2d_backward`` gives as ``gx`` for ``gy = x``, for a convolution with
    weight ``w``, this stride, padding, dilation and groups, over an input of the output's size.
    That size is ``(H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1``; ``output_padding`` picks
    it among the sizes the strided convolution maps to the same ``H``: the convolution is taken
    with bottom/right padding ``p - op`` so that its windows end where ``y`` does, and rows past
    every window (``op > p``) stay zero.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W), float32 or float64
    w : ndarray, shape (C_in, C_out // groups, kh, kw), same dtype (PyTorch's layout)
    b : ndarray, shape (C_out,), same dtype, or None
    stride, dilation : int or (int, int), >= 1
    padding : int or (int, int), >= 0
    output_padding : int or (int, int)
        Smaller than the stride or the dilation along each axis.
    groups : int
        Divides C_in and C_out.

    Returns
    -------
    y : ndarray, shape (N, C_out, oh, ow), dtype of ``x``
    saved : ConvTransposeSaved
        Pass to ``conv_transpose2d_backward``.

    Raises
    ------
    TypeError
        Non-float or mismatched dtypes.
    ValueError
        Bad ranks, channels, groups or geometry, or an output size below 1.
    """
    op = "conv_transpose2d"
    x = as_float_array(op, "x", x, 4)
    w = as_float_array(op, "w", w, 4)
    b = None if b is None else as_float_array(op, "b", b, 1)
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        bias = None if b is None else f"{b.shape} {b.dtype}"
        raise TypeError(
            f"{op}: dtypes differ (input {x.shape} {x.dtype}, weight {w.shape} {w.dtype}, "
            f"bias {bias})"
        )
    c = x.shape[1]
    if not isinstance(groups, int | np.integer) or groups < 1 or c % groups:
        raise ValueError(
            f"{op}: groups={groups!r} must be a positive int dividing the input channels {c} "
            f"(input {x.shape}, weight {w.shape})"
        )
    if w.shape[0] != c:
        raise ValueError(
            f"{op}: weight {w.shape} (C_in, C_out // groups, kh, kw) expects {w.shape[0]} input "
            f"channels, got input {x.shape} {x.dtype}"
        )
    f = w.shape[1] * groups
    if b is not None and b.shape != (f,):
        raise ValueError(f"{op}: bias must have shape ({f},), got {b.shape} (weight {w.shape})")
    stride = pair(op, "stride", stride, 1)
    dilation = pair(op, "dilation", dilation, 1)
    pads = pair(op, "padding", padding, 0)
    extra_pads = pair(op, "output_padding", output_padding, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra_pads, stride, dilation, strict=True)):
        raise ValueError(
            f"{op}: output_padding {extra_pads} must be smaller than the stride {stride} or the "
            f"dilation {dilation} (input {x.shape})"
        )
    out = [
        (n - 1) * s - 2 * p + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(x.shape[2:], stride, pads, dilation, w.shape[2:], extra_pads)
    ]
    if min(out) < 1:
        raise ValueError(
            f"{op}: output size {tuple(out)} is too small (input {x.shape}, weight {w.shape}, "
            f"stride {stride}, padding {pads}, output_padding {extra_pads}, dilation {dilation})"
        )
    extra = tuple(max(0, e - p) for e, p in zip(extra_pads, pads, strict=True))
    (ph, pw), (eh, ew) = pads, extra_pads
    conv_pads = (ph, ph - eh + extra[0], pw, pw - ew + extra[1])
    shape = (x.shape[0], f, out[0] - extra[0], out[1] - extra[1])
    stand_in = np.broadcast_to(np.zeros((), x.dtype), shape)  # conv2d_backward reads its shape
    conv = ConvSaved(stand_in, w, False, stride, conv_pads, dilation, int(groups))
    y, _, _ = conv2d_backward(x, conv, True, False, False)
    if extra != (0, 0):
        y = np.pad(y, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    if b is not None:
        y += b[:, None, None]
    return y, ConvTransposeSaved(x, conv, extra, b is not None)


def conv_transpose2d_backward(
    gy: np.ndarray,
    saved: ConvTransposeSaved,
    need_x: bool = True,
    need_w: bool = True,
    need_b: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Gradients of ``conv_transpose2d_forward``: ``gx`` is ``conv2d_forward(gy)`` and ``gw``
    conv2d's weight gradient with ``gy`` as its input and ``x`` as its output gradient.

    Parameters
    ----------
    gy : ndarray, shape (N, C_out, oh, ow), dtype of the forward input
    saved : ConvTransposeSaved
        As returned by ``conv_transpose2d_forward``.
    need_x, need_w, need_b : bool
        Which gradients to compute; the others come back as None.

    Returns
    -------
    gx : (N, C_in, H, W), gw : (C_in, C_out // groups, kh, kw), gb : (C_out,) or None each.
    """
    conv = saved.conv
    n, f, h, w = conv.x.shape
    expected = (n, f, h + saved.extra[0], w + saved.extra[1])
    gy = as_float_array("conv_transpose2d_backward", "gy", gy, 4)
    if gy.shape != expected or gy.dtype != saved.x.dtype:
        raise ValueError(
            f"conv_transpose2d_backward: gy has shape {gy.shape} {gy.dtype} but the output was "
            f"{expected} {saved.x.dtype}"
        )
    gb = gy.sum(axis=(0, 2, 3)) if need_b and saved.has_bias else None
    if not (need_x or need_w):
        return None, None, gb
    gy = np.ascontiguousarray(gy[:, :, :h, :w])
    conv = conv._replace(x=gy)
    args = (conv.stride, conv.padding, conv.dilation, conv.groups)
    gx = conv2d_forward(gy, conv.w, None, *args)[0] if need_x else None
    gw = conv2d_backward(saved.x, conv, False, True, False)[1] if need_w else None
    return gx, gw, gb


def _path(saved: ConvSaved) -> str:
    """ "direct", "depthwise", "winograd" or "im2col": the fastest kernels for this geometry."""
    c = saved.x.shape[1]
    f, cg, kh, kw = saved.w.shape
    (dh, dw), (pt, pb, pl, pr) = saved.dilation, saved.padding
    if (kh, kw) == (3, 3) and saved.stride == saved.dilation == (1, 1) and saved.groups == 1:
        h, w = saved.x.shape[2:]
        area = (h + pt + pb - 2) * (w + pl + pr - 2)
        wide = min(c, f) >= _config.WINOGRAD_MIN_CHANNELS
        tiled = area >= _config.WINOGRAD_MIN_PIXELS_PER_CHANNEL * max(c, f)
        if wide and tiled:
            return "winograd"
    # direct_backward_input pads gy by d * (k - 1) - p, which must not be negative
    fits = max(pt, pb) <= dh * (kh - 1) and max(pl, pr) <= dw * (kw - 1)
    small = f // saved.groups * cg * kh * kw <= _config.DIRECT_MAX_GROUP_WEIGHTS
    if saved.stride == (1, 1) and fits and small and (cg > 1 or c == 1):
        return "direct"
    return "depthwise" if saved.groups == c else "im2col"


def _check_arrays(x, w, b, groups) -> tuple:
    """Validate conv2d's arrays and groups; return them C-contiguous."""
    x = as_float_array("conv2d", "x", x, 4)
    w = as_float_array("conv2d", "w", w, 4)
    b = None if b is None else as_float_array("conv2d", "b", b, 1)
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        bias = None if b is None else f"{b.shape} {b.dtype}"
        raise TypeError(
            f"conv2d: dtypes differ (input {x.shape} {x.dtype}, weight {w.shape} {w.dtype}, "
            f"bias {bias})"
        )
    c, f = x.shape[1], w.shape[0]
    if not isinstance(groups, int | np.integer) or groups < 1 or c % groups or f % groups:
        raise ValueError(
            f"conv2d: groups={groups!r} must be a positive int dividing input channels {c} and "
            f"output channels {f} (input {x.shape}, weight {w.shape})"
        )
    if w.shape[1] * groups != c:
        raise ValueError(
            f"conv2d: input has {c} channels but weight expects {w.shape[1] * groups} "
            f"(input {x.shape} {x.dtype}, weight {w.shape} {w.dtype}, groups={groups})"
        )
    if b is not None and b.shape != (f,):
        raise ValueError(f"conv2d: bias must have shape ({f},), got {b.shape}")
    return x, w, b


def _conv_padding(padding, kernel, stride, dilation) -> tuple[int, int, int, int]:
    """Resolve "valid"/"same"/ints to ``(top, bottom, left, right)``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be 'valid', 'same' or ints, got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
        th, tw = (d * (k - 1) for d, k in zip(dilation, kernel, strict=True))
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    return padding4("conv2d", padding)
