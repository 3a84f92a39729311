"""Distance layers: `CosineSimilarity` and `PairwiseDistance`, around `nn.functional`."""

from nn import functional as F
from nn.module import Module


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along `dim`; see `F.cosine_similarity`.

    Shapes: inputs `(*1, D, *2)` broadcastable to each other, output `(*1, *2)`.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance ||x1 - x2 + eps||_p over the last dim; see `F.pairwise_distance`.

    Shapes: inputs `(N, D)` or `(D,)`, output `(N,)` (`(N, 1)` with keepdim).
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
