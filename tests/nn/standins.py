"""Small modules for the nn tests, so they do not depend on the real layers."""

import numpy as np

import nn


class Affine(nn.Module):
    """x @ w + b, with w of shape (n_in, n_out); a stand-in for a linear layer."""

    def __init__(self, n_in=3, n_out=2, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.w = nn.Parameter(rng.standard_normal((n_in, n_out)).astype(np.float32))
        self.b = nn.Parameter(np.zeros(n_out, np.float32))

    def forward(self, x):
        return x @ self.w + self.b

    def extra_repr(self):
        return f"in={self.w.shape[0]}, out={self.w.shape[1]}"


class Net(nn.Module):
    """Two affine layers with a tanh between them, and a step-count buffer."""

    def __init__(self, seed=0):
        super().__init__()
        self.hidden = Affine(3, 4, seed)
        self.out = Affine(4, 2, seed + 1)
        self.register_buffer("steps", np.zeros((), np.int64))

    def forward(self, x):
        return self.out(self.hidden(x).tanh())
