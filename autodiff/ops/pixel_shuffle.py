"""Sub-pixel rearrangements: `pixel_shuffle` moves channels into space, `pixel_unshuffle` back.

Both are a reshape, a permutation and a reshape (so any dtype, and the gradient is the inverse
rearrangement):

    shuffle:   (*, C r r, H, W) -> (*, C, r, r, H, W) -> (*, C, H, r, W, r) -> (*, C, H r, W r)
    unshuffle: (*, C, H r, W r) -> (*, C, H, r, W, r) -> (*, C, r, r, H, W) -> (*, C r r, H, W)
"""

from autodiff.errors import ShapeError
from autodiff.ops.shape import permute, reshape

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def pixel_shuffle(input, upscale_factor: int):  # noqa: A002 - PyTorch's names
    """`(*, C * r**2, H, W)` -> `(*, C, H * r, W * r)`, r = upscale_factor: each group of r**2
    channels becomes an r x r block of pixels.

    Raises
    ------
    ShapeError : fewer than 3 dims, or channels not divisible by r**2.
    ValueError : r not a positive integer.
    """
    r = _factor("pixel_shuffle", input, upscale_factor)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(
            f"pixel_shuffle: the channel dim (-3) of input {input.shape} must be divisible by "
            f"upscale_factor**2 = {r * r}"
        )
    b = len(batch)
    x = reshape(input, (*batch, c // (r * r), r, r, h, w))
    x = permute(x, *range(b), b, b + 3, b + 1, b + 4, b + 2)
    return reshape(x, (*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):  # noqa: A002 - PyTorch's names
    """`(*, C, H * r, W * r)` -> `(*, C * r**2, H, W)`, r = downscale_factor: the inverse of
    `pixel_shuffle`.

    Raises
    ------
    ShapeError : fewer than 3 dims, or height or width not divisible by r.
    ValueError : r not a positive integer.
    """
    r = _factor("pixel_unshuffle", input, downscale_factor)
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(
            f"pixel_unshuffle: height and width of input {input.shape} must be divisible by "
            f"downscale_factor = {r}"
        )
    b = len(batch)
    x = reshape(input, (*batch, c, h // r, r, w // r, r))
    x = permute(x, *range(b), b, b + 2, b + 4, b + 1, b + 3)
    return reshape(x, (*batch, c * r * r, h // r, w // r))


def _factor(op, x, r):
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"{op}: the factor must be a positive integer, got {r!r}")
    if x.ndim < 3:
        raise ShapeError(f"{op}: expected an input of 3 or more dims (*, C, H, W), got {x.shape}")
    return r
