"""`interpolate`, as `torch.nn.functional.interpolate`: nearest and (bi/tri)linear resampling of
the spatial dims of `(N, C, *spatial)` input, with PyTorch's index formulas.

Each spatial dim is resampled on its own (the last first, as PyTorch's kernels nest them), by
indexing with precomputed source positions, so gradients come from the indexing ops:

    nearest         src = min(floor(dst * scale), n - 1)            computed in float32
    nearest-exact   src = min(floor((dst + 0.5) * scale), n - 1)    computed in float32
    linear          src = scale * (dst + 0.5) - 0.5, clamped at 0   (align_corners=False)
                    src = dst * (n - 1) / (out - 1)                 (align_corners=True)
                    y = (1 - t) x[floor(src)] + t x[floor(src) + 1], t = src - floor(src)

with scale = 1 / scale_factor when one is given (and not recomputed), else n / out. Linear
positions are computed in the input's dtype, as PyTorch computes them in its "opmath" type.
"""

import math

import numpy as np

from autodiff import dtypes
from autodiff.errors import ShapeError
from autodiff.ops.pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from autodiff.ops.shape import getitem

__all__ = ["interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area")


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims of an `(N, C, L)`, `(N, C, H, W)` or `(N, C, D, H, W)` tensor.

    Parameters
    ----------
    size : int or tuple of ints, optional
        The output's spatial size; exactly one of size and scale_factor.
    scale_factor : float or tuple of floats, optional
        Output size floor(n * scale_factor); its reciprocal is also the index scale, unless
        `recompute_scale_factor` (then n / out is).
    mode : "nearest", "nearest-exact", "linear" (3-D), "bilinear" (4-D), "trilinear" (5-D)
        or "area" (adaptive average pooling, 3-D and 4-D)
    align_corners : bool, optional
        Linear modes only: map the corner pixels' centres onto each other (default False).
    antialias : bool
        Not supported (False only).

    Returns
    -------
    Tensor `(N, C, *out)` of the input's dtype (float only for the linear modes).

    Raises
    ------
    ValueError
        Both or neither of size and scale_factor, lengths that do not match the spatial dims,
        an unknown mode, a mode that does not fit the rank, or align_corners with a
        non-linear mode.
    """
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {_MODES}, got {mode!r}")
    if input.ndim not in (3, 4, 5):
        raise ShapeError(
            f"interpolate: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape "
            f"{tuple(input.shape)} (mode {mode!r})"
        )
    spatial = input.ndim - 2
    if mode in _LINEAR and _LINEAR[mode] != spatial or mode == "area" and spatial == 3:
        raise ShapeError(
            f"interpolate: mode {mode!r} does not take a {input.ndim}-D input {tuple(input.shape)}"
        )
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(
            f"interpolate: align_corners can only be set with the linear modes, not {mode!r}"
        )
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    sizes, scales = _sizes(input, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        if spatial == 1:
            return adaptive_avg_pool1d(input, sizes[0])
        return adaptive_avg_pool2d(input, sizes)
    if mode in _LINEAR and input.dtype not in (dtypes.float32, dtypes.float64):
        raise TypeError(f"interpolate: mode {mode!r} needs a float input, got {input.dtype}")
    x = input
    for d in reversed(range(spatial)):
        n, out, axis = input.shape[2 + d], sizes[d], 2 + d
        lead = (slice(None),) * axis
        if mode in _LINEAR:
            i0, i1, t = _linear_source(n, out, scales[d], bool(align_corners), input.dtype)
            shape = (out,) + (1,) * (input.ndim - 1 - axis)
            w0, w1 = (Tensor._wrap(w.reshape(shape)) for w in (1 - t, t))
            x = getitem(x, lead + (i0,)) * w0 + getitem(x, lead + (i1,)) * w1
        else:
            x = getitem(x, lead + (_nearest_source(n, out, scales[d], mode),))
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's deprecated name of `interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """`interpolate(..., mode="nearest")`, PyTorch's deprecated form."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """`interpolate(..., mode="bilinear", align_corners=True)`, PyTorch's deprecated form."""
    return interpolate(input, size, scale_factor, "bilinear", align_corners=True)


def _sizes(x, size, scale_factor, recompute):
    """The output's spatial sizes, and the scale factors the index formulas use (or None)."""
    spatial = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size and scale_factor must be given")
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        if len(sizes) != spatial or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(
                f"interpolate: size {size!r} must be a positive int or {spatial} of them for an "
                f"input of shape {tuple(x.shape)}"
            )
        return sizes, (None,) * spatial
    factors = (scale_factor,) * spatial if np.isscalar(scale_factor) else tuple(scale_factor)
    if len(factors) != spatial or not all(f > 0 for f in factors):
        raise ValueError(
            f"interpolate: scale_factor {scale_factor!r} must be positive, one or {spatial} of "
            f"them for an input of shape {tuple(x.shape)}"
        )
    sizes = tuple(math.floor(n * float(f)) for n, f in zip(x.shape[2:], factors, strict=True))
    if min(sizes) < 1:
        raise ValueError(
            f"interpolate: scale_factor {scale_factor!r} gives an empty output {sizes}"
        )
    return sizes, (None,) * spatial if recompute else tuple(float(f) for f in factors)


def _nearest_source(n, out, scale_factor, mode):
    """PyTorch's nearest source index of each output position (float32 arithmetic)."""
    dst = np.arange(out, dtype=np.float32)
    if mode == "nearest" and out == n:
        return np.arange(out)
    if mode == "nearest" and out == 2 * n:
        return np.arange(out) // 2
    scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(n) / np.float32(out)
    offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
    return np.minimum(np.floor((dst + offset) * scale).astype(np.int64), n - 1)


def _linear_source(n, out, scale_factor, align_corners, dtype):
    """The two source indices and the weight of the second, per output position."""
    real = np.dtype(dtype).type
    dst = np.arange(out).astype(dtype)
    if align_corners:
        scale = real(n - 1) / real(out - 1) if out > 1 else real(0)
        src = scale * dst
    else:
        scale = real(1.0 / scale_factor) if scale_factor else real(n) / real(out)
        src = np.maximum(scale * (dst + real(0.5)) - real(0.5), real(0))
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < n - 1)
    t = np.clip(src - i0.astype(dtype), real(0), real(1))
    return i0, i1, t.astype(dtype)


from autodiff.tensor import Tensor  # noqa: E402 - tensor.py imports the ops
