"""Batch normalisation layers: `BatchNorm1d` for `(N, C)` or `(N, C, L)`, `BatchNorm2d` for
`(N, C, H, W)`."""

import numpy as np

from autodiff import dtypes
from autodiff.engine import no_grad
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter


class _BatchNorm(Module):
    """Normalise each channel (dim 1), then scale by `weight` and shift by `bias`.

    Training mode normalises with the batch's mean and biased variance and updates the running
    estimates: r = (1 - momentum) * r + momentum * batch_stat (the unbiased variance for
    `running_var`; `momentum=None` gives the cumulative average over the batches seen). Eval
    mode normalises with the running estimates. As in PyTorch.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance before the square root.
    momentum : float or None
        Weight of the new batch in the running estimates.
    affine : bool
        Learn `weight` (init 1) and `bias` (init 0), each `(C,)`.
    bias : bool (keyword-only)
        With `affine`, learn the bias too (False when a layer with its own bias follows).
    track_running_stats : bool
        Keep the buffers `running_mean` (init 0), `running_var` (init 1) and
        `num_batches_tracked`; without them batch statistics are used in eval mode too.
    dtype : float32 or float64
        Of the parameters and running estimates.
    """

    _expected_ndims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=dtypes.float32,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_features, dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, and weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim not in self._expected_ndims:
            dims = " or ".join(f"{n}D" for n in self._expected_ndims)
            raise ValueError(
                f"{type(self).__name__}: expected {dims} input, got {x.ndim}D input of shape "
                f"{x.shape} {x.dtype}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: input of shape {x.shape} has {x.shape[1]} channels "
                f"(dim 1), the layer was built for {self.num_features}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        # running estimates are updated only when training and tracking
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of `(N, C)` or `(N, C, L)` input; see `_BatchNorm` for the options.

    Statistics are per feature C, over N (and L).
    """

    _expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of `(N, C, H, W)` input; see `_BatchNorm` for the options.

    Statistics are per channel C, over N, H and W.
    """

    _expected_ndims = (4,)
