"""`Dropout`: inverted dropout in training mode, the identity in eval mode."""

from nn import functional as F
from nn.module import Module


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by 1 / (1 - p).

    The expected activation is unchanged, so nothing is rescaled at test time: in eval mode
    (`model.eval()`) the layer returns its input. Masks come from the library's generator
    (`autodiff.manual_seed`). `inplace=True` is accepted for PyTorch code and has no effect.

    Raises
    ------
    ValueError : p outside [0, 1].
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
