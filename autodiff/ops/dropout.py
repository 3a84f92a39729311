"""Inverted dropout: zero each element (or each whole channel) with probability p, and scale the
survivors by 1 / (1 - p); alpha dropout, which keeps SELU's zero mean and unit variance.

Masks come from `autodiff.random.resolve(generator)`: the library's global generator (seeded by
`autodiff.manual_seed`) by default. `inplace=` is accepted for code written for PyTorch and
ignored: the result is always a new tensor.
"""

import warnings

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops import _args
from autodiff.ops.elementwise import add, mul
from autodiff.random import resolve

__all__ = [
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
]

# -SELU's alpha * scale: the value SELU saturates to, which alpha dropout sets dropped units to
_SELU_SATURATION = 1.7580993408473766


class Dropout(Function):
    """x * mask, mask holding 0 or 1 / (1 - p) drawn in forward, of x's shape or of
    `mask_shape` (size 1 along the dims it broadcasts over: whole channels).

    Its own rule so that only the mask is saved (a product with a constant would keep x too).
    """

    @staticmethod
    def forward(ctx, x, p=0.5, generator=None, mask_shape=None):
        # drawn in float64 whatever x's dtype, so a seed gives one mask in float32 and float64
        keep = resolve(generator).random(x.shape if mask_shape is None else mask_shape) >= p
        mask = keep * x.dtype.type(1 / (1 - p))
        ctx.save(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        return g * mask


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None):  # noqa: A002
    """Inverted dropout, as PyTorch's `F.dropout`.

    In training, each element is zeroed with probability p and the others are scaled by
    1 / (1 - p), so the expected value is unchanged; in eval mode (or for p = 0) the input is
    returned as it is. p = 1 gives zeros.

    Parameters
    ----------
    input : Tensor
        Any shape; float32 or float64.
    p : float in [0, 1]
        Probability of zeroing an element.
    training : bool
        Apply dropout; False makes this the identity.
    inplace : bool
        Accepted and ignored.
    generator : numpy Generator or int, optional (keyword-only)
        Source of the mask (`autodiff.random.resolve`).

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : p outside [0, 1].
    TypeError : a non-float input.
    """
    return _dropout("dropout", input, p, training, None, generator)


def dropout1d(
    input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None
):  # noqa: A002
    """Channel dropout for `(N, C, L)` or unbatched `(C, L)` inputs: each channel of each sample
    is zeroed whole with probability p; the others are scaled by 1 / (1 - p).

    Arguments, result and errors as `dropout`; ShapeError for an input that is not 2- or 3-d.
    """
    _require_ndim("dropout1d", input, 2, 3)
    return _dropout("dropout1d", input, p, training, _channel_mask(input, 3), generator)


def dropout2d(
    input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None
):  # noqa: A002
    """Channel dropout for `(N, C, H, W)` inputs: each channel of each sample is zeroed whole
    with probability p; the others are scaled by 1 / (1 - p).

    As PyTorch, a 3-d input is read as `(N, C, L)` (with a warning: use dropout1d), and other
    inputs of 2 or more dims get the mask `(N, C, 1, ...)` with a warning. Arguments, result and
    errors as `dropout`; ShapeError for an input of fewer than 2 dims.
    """
    _require_ndim("dropout2d", input, 2)
    if input.ndim != 4:
        warnings.warn(
            f"dropout2d: received a {input.ndim}-d input; channel dropout over dims 2.. of an "
            "(N, C, ...) input is applied (use dropout1d for 3-d, dropout for 2-d inputs)",
            UserWarning,
            stacklevel=2,
        )
    return _dropout("dropout2d", input, p, training, _channel_mask(input, input.ndim), generator)


def dropout3d(
    input, p: float = 0.5, training: bool = True, inplace: bool = False, *, generator=None
):  # noqa: A002
    """Channel dropout for `(N, C, D, H, W)` or unbatched `(C, D, H, W)` inputs: each channel is
    zeroed whole with probability p; the others are scaled by 1 / (1 - p).

    Arguments, result and errors as `dropout`; ShapeError for an input that is not 4- or 5-d.
    """
    _require_ndim("dropout3d", input, 4, 5)
    return _dropout("dropout3d", input, p, training, _channel_mask(input, 5), generator)


def alpha_dropout(
    input, p: float = 0.5, training: bool = False, inplace: bool = False, *, generator=None
):  # noqa: A002
    """Alpha dropout, for SELU networks: dropped elements are set to SELU's saturation value and
    an affine map keeps the mean and variance of a standard normal input.

    Note `training` defaults to False, as in PyTorch. Arguments and errors as `dropout`.
    """
    return _alpha_dropout("alpha_dropout", input, p, training, None, generator)


def feature_alpha_dropout(
    input, p: float = 0.5, training: bool = False, inplace: bool = False, *, generator=None
):  # noqa: A002
    """Alpha dropout of whole channels of an `(N, C, ...)` input (a mask `(N, C, 1, ...)`).

    `training` defaults to False, as in PyTorch. Arguments and errors as `dropout`.
    """
    _require_ndim("feature_alpha_dropout", input, 2)
    mask_shape = _channel_mask(input, input.ndim)
    return _alpha_dropout("feature_alpha_dropout", input, p, training, mask_shape, generator)


def _dropout(op, x, p, training, mask_shape, generator):
    _check(op, x, p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), x.dtype)
    return Dropout.apply(x, p=p, generator=generator, mask_shape=mask_shape)


def _alpha_dropout(op, x, p, training, mask_shape, generator):
    """x * (keep * a) + (keep - 1) * s * a + s * a * p, s SELU's saturation, and
    a = 1 / sqrt((s^2 p + 1)(1 - p)) (PyTorch's formula); composed, as its gradient is a mask."""
    _check(op, x, p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), x.dtype)
    keep = resolve(generator).random(x.shape if mask_shape is None else mask_shape) >= p
    s = _SELU_SATURATION
    a = 1 / np.sqrt((s * s * p + 1) * (1 - p))
    shift = (keep - 1.0) * (s * a) + s * a * p
    return add(mul(x, (keep * a).astype(x.dtype)), shift.astype(x.dtype))


def _check(op, x, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p}")
    _args.require_float(op, x)


def _require_ndim(op, x, low, high=None):
    if x.ndim < low or (high is not None and x.ndim > high):
        expected = f"{low} or more" if high is None else f"{low} or {high}"
        raise ShapeError(
            f"{op}: expected an input of {expected} dims, got shape {x.shape} {x.dtype}"
        )


def _channel_mask(x, batched_ndim):
    """The mask shape zeroing whole channels: (N, C, 1, ...), or (C, 1, ...) for an unbatched
    input (one dim fewer than `batched_ndim`)."""
    kept = 2 if x.ndim == batched_ndim else 1
    return x.shape[:kept] + (1,) * (x.ndim - kept)
