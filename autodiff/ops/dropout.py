"""Inverted dropout: zero each element with probability p, scale the survivors by 1 / (1 - p)."""

import numpy as np

from autodiff.function import Function
from autodiff.random import resolve

__all__ = ["dropout"]


class Dropout(Function):
    """x * mask, mask holding 0 or 1 / (1 - p) drawn in forward.

    Its own rule so that only the mask is saved (a product with a constant would keep x too).
    """

    @staticmethod
    def forward(ctx, x, p=0.5, generator=None):
        # drawn in float64 whatever x's dtype, so a seed gives one mask in float32 and float64
        keep = resolve(generator).random(x.shape) >= p
        mask = keep * x.dtype.type(1 / (1 - p))
        ctx.save(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        return g * mask


def dropout(input, p: float = 0.5, training: bool = True, *, generator=None):  # noqa: A002
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
    generator : numpy Generator or int, optional (keyword-only)
        Source of the mask (`autodiff.random.resolve`): the library's global generator (seeded
        by `autodiff.manual_seed`) by default.

    Returns
    -------
    Tensor of `input`'s shape and dtype.

    Raises
    ------
    ValueError : p outside [0, 1].
    TypeError : a non-float input.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"dropout: input must be float32 or float64, got {input.dtype} (shape {input.shape})"
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * np.zeros((), input.dtype)
    return Dropout.apply(input, p=p, generator=generator)
