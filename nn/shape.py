"""Layers that only reshape: `Identity` and `Flatten`."""

from nn.module import Module


class Identity(Module):
    """Returns its input unchanged; arguments are accepted and ignored (as in PyTorch).

    Useful as a placeholder, e.g. to remove a model's head: `model.fc = Identity()`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Flattens dimensions `start_dim` to `end_dim` into one: (N, C, H, W) -> (N, C*H*W).

    Parameters
    ----------
    start_dim, end_dim : int
        Inclusive range of dimensions to merge; by default all but the batch dimension.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
