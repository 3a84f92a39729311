"""`PixelShuffle` and `PixelUnshuffle`: channels to space and back, around `nn.functional`."""

from nn import functional as F
from nn.module import Module


class PixelShuffle(Module):
    """`(*, C * r**2, H, W)` -> `(*, C, H * r, W * r)`, r = upscale_factor."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """`(*, C, H * r, W * r)` -> `(*, C * r**2, H, W)`, r = downscale_factor."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
