"""Upsampling layers as PyTorch's: `Upsample` and its fixed-mode forms, each `F.interpolate`."""

from nn import functional as F
from nn.module import Module


class Upsample(Module):
    """Resize the spatial dims of `(N, C, *spatial)` input to `size` or by `scale_factor`.

    Parameters
    ----------
    size : int or tuple, optional
    scale_factor : float or tuple, optional
        Exactly one of size and scale_factor.
    mode : "nearest", "nearest-exact", "linear", "bilinear", "trilinear" or "area"
    align_corners : bool, optional
        Linear modes only (see `F.interpolate`).
    recompute_scale_factor : bool, optional
        Use in / out rather than 1 / scale_factor as the index scale.
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners=None,
        recompute_scale_factor=None,
    ):
        super().__init__()
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = None if scale_factor is None else float(scale_factor)
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(
            x,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """`Upsample` with mode "nearest", for `(N, C, H, W)` input."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """`Upsample` with mode "bilinear" and align_corners=True, for `(N, C, H, W)` input."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
