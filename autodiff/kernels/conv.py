"""2-D convolution on plain arrays: validation, then one of the algorithms in ``ALGORITHMS``.

The graph op ``conv2d`` calls ``conv2d_forward`` and ``conv2d_backward``; nothing here knows
about Tensor. Convolution is cross-correlation (no kernel flip), as in PyTorch.

Each algorithm is a module with one interface (``ConvAlgorithm``): ``supports(geometry)`` says
whether it takes a convolution, and ``forward``, ``backward_input``, ``backward_weight`` run it
on C-contiguous arrays of one dtype that this module has checked. The first algorithm in
``ALGORITHMS`` (``FLOAT64_ALGORITHMS`` for float64) whose ``supports`` accepts the geometry runs
the forward and the input gradient; ``choose_weight_gradient`` picks the weight gradient's.
"""

from typing import NamedTuple, Protocol

import numpy as np

from . import depthwise, direct, gemm, im2col_gemm, taps, winograd
from ._checks import ConvGeometry, as_float_array, conv_geometry, padding4, pair


class ConvAlgorithm(Protocol):
    """What every module in ``ALGORITHMS`` provides (``g`` is the convolution's geometry).

    Each pass returns a new C-contiguous array that owns its memory (not a view): the engine
    hands such a gradient out as ``.grad`` as it is, where a view would be copied.
    """

    def supports(self, g: ConvGeometry) -> bool: ...

    def forward(self, x: np.ndarray, w: np.ndarray, b, g: ConvGeometry) -> np.ndarray: ...

    def backward_input(self, gy: np.ndarray, w: np.ndarray, g: ConvGeometry) -> np.ndarray: ...

    def backward_weight(self, gy: np.ndarray, x: np.ndarray, g: ConvGeometry) -> np.ndarray: ...


#: Tried in this order. Winograd F(4x4, 3x3) does 4x fewer multiplications than a GEMM where it
#: applies (only when ``winograd.F4.enabled``: it costs accuracy), F(2x2, 3x3) 2.25x fewer; the
#: direct loops beat a GEMM too shallow to run near the BLAS peak; depthwise filters see one
#: channel each, which im2col would copy ``kh * kw`` times for nothing; im2col + GEMM takes
#: everything else.
ALGORITHMS: tuple[ConvAlgorithm, ...] = (
    winograd.F4,
    winograd.F2,
    direct,
    depthwise,
    im2col_gemm,
)


#: Float64 serves gradient checks and references, on small inputs: numpy alone runs it, so that
#: checking a float32 model's gradients compiles no float64 build of the numba kernels (each
#: parallel kernel takes seconds to compile).
FLOAT64_ALGORITHMS: tuple[ConvAlgorithm, ...] = (taps,)


def choose(g: ConvGeometry) -> ConvAlgorithm:
    """The first algorithm of ``ALGORITHMS`` (``FLOAT64_ALGORITHMS`` for float64) that supports
    ``g``."""
    algorithms = FLOAT64_ALGORITHMS if g.dtype == np.float64 else ALGORITHMS
    return next(a for a in algorithms if a.supports(g))


def choose_weight_gradient(g: ConvGeometry, forward: ConvAlgorithm) -> ConvAlgorithm:
    """The algorithm for the weight gradient of a convolution whose forward ran ``forward``:
    in float32 without the register tile, after an im2col forward, the direct loops wherever
    ``direct.supports_weight_gradient`` takes ``g`` (no im2col copy, no GEMM: faster than
    BLAS on the 3x3 layers of ``python -m benchmarks.conv_tuning algorithms`` where im2col is
    the faster forward, slower than the tile, ``python -m benchmarks.tuning
    direct_weight_gradient``); otherwise ``forward`` itself (Winograd's own weight gradient,
    from the input tiles its forward transforms anyway, beats the direct loops in a training
    step)."""
    if (
        forward is im2col_gemm
        and g.dtype == np.float32
        and not gemm.takes(g.dtype)
        and direct in ALGORITHMS
        and direct.supports_weight_gradient(g)
    ):
        return direct
    return forward


class ConvSaved(NamedTuple):
    """What ``conv2d_backward`` needs from the forward pass."""

    x: np.ndarray | None  # None where only the input gradient is wanted (conv_transpose2d)
    w: np.ndarray
    has_bias: bool
    geometry: ConvGeometry
    algorithm: ConvAlgorithm


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
        Pass to ``conv2d_backward``; holds ``x`` and ``w`` (not copies), the geometry and the
        algorithm chosen for it.

    Raises
    ------
    TypeError
        Non-float or mismatched dtypes.
    ValueError
        Bad ranks, channel counts, groups, geometry, or a window larger than the padded input.
    """
    x, w, b = _check_arrays(x, w, b, groups)
    stride = pair("conv2d", "stride", stride, 1)
    dilation = pair("conv2d", "dilation", dilation, 1)
    padding = _conv_padding(padding, w.shape[2:], stride, dilation)
    g = conv_geometry("conv2d", x.shape, w.shape, x.dtype, stride, padding, dilation, groups)
    algorithm = choose(g)
    return algorithm.forward(x, w, b, g), ConvSaved(x, w, b is not None, g, algorithm)


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
    g = saved.geometry
    gy = as_float_array("conv2d_backward", "gy", gy, 4)
    if gy.shape != g.y_shape or gy.dtype != g.dtype:
        raise ValueError(
            f"conv2d_backward: gy has shape {gy.shape} {gy.dtype} but the output was "
            f"{g.y_shape} {g.dtype}"
        )
    gb = gy.sum(axis=(0, 2, 3)) if need_b and saved.has_bias else None
    gx = saved.algorithm.backward_input(gy, saved.w, g) if need_x else None
    if need_w:
        gw = choose_weight_gradient(g, saved.algorithm).backward_weight(gy, saved.x, g)
    else:
        gw = None
    return gx, gw, gb


class ConvTransposeSaved(NamedTuple):
    """What ``conv_transpose2d_backward`` needs from the forward pass."""

    x: np.ndarray
    conv: ConvSaved  # the convolution whose input gradient the forward is (its ``x`` is None)
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
    x, w, b = _float_arrays(op, x, w, b)
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
    g = conv_geometry(op, shape, w.shape, x.dtype, stride, conv_pads, dilation, groups)
    conv = ConvSaved(None, w, False, g, choose(g))
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
    n, f, h, w = conv.geometry.x_shape
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
    g, algorithm = conv.geometry, conv.algorithm
    gx = algorithm.forward(gy, conv.w, None, g) if need_x else None
    gw = algorithm.backward_weight(saved.x, gy, g) if need_w else None
    return gx, gw, gb


def _float_arrays(op, x, w, b) -> tuple:
    """x (4-D), w (4-D) and b (1-D or None) as C-contiguous float arrays of one dtype."""
    x = as_float_array(op, "x", x, 4)
    w = as_float_array(op, "w", w, 4)
    b = None if b is None else as_float_array(op, "b", b, 1)
    if w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        bias = None if b is None else f"{b.shape} {b.dtype}"
        raise TypeError(
            f"{op}: dtypes differ (input {x.shape} {x.dtype}, weight {w.shape} {w.dtype}, "
            f"bias {bias})"
        )
    return x, w, b


def _check_arrays(x, w, b, groups) -> tuple:
    """Validate conv2d's arrays and groups; return them C-contiguous."""
    x, w, b = _float_arrays("conv2d", x, w, b)
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
