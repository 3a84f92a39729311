"""Dropout layers: inverted dropout of elements or whole channels, and alpha dropout, in
training mode; the identity in eval mode."""

from nn import functional as F
from nn.module import Module


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by 1 / (1 - p).

    The expected activation is unchanged, so nothing is rescaled at test time: in eval mode
    (`model.eval()`) the layer returns its input. Masks come from the library's generator
    (`autodiff.manual_seed`). `inplace=True` is accepted for PyTorch code and has no effect.
    Subclasses change which function draws the mask.

    Raises
    ------
    ValueError : p outside [0, 1].
    """

    function = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return type(self).function(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class Dropout1d(Dropout):
    """Zero whole channels of an `(N, C, L)` or `(C, L)` input with probability p in training."""

    function = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of an `(N, C, H, W)` input with probability p in training."""

    function = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """Zero whole channels of an `(N, C, D, H, W)` or `(C, D, H, W)` input in training."""

    function = staticmethod(F.dropout3d)


class AlphaDropout(Dropout):
    """Alpha dropout for SELU networks (keeps zero mean and unit variance) in training."""

    function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of an `(N, C, ...)` input in training."""

    function = staticmethod(F.feature_alpha_dropout)
