"""Normalisation layers: `BatchNorm1d` for `(N, C)` or `(N, C, L)`, `BatchNorm2d` for
`(N, C, H, W)`, `InstanceNorm1d`/`InstanceNorm2d`, `LayerNorm` and `GroupNorm`."""

import warnings

import numpy as np

from autodiff import dtypes
from autodiff.device import check as check_device
from autodiff.engine import no_grad
from autodiff.errors import ShapeError
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter


class _NormBase(Module):
    """Per-channel normalisation with optional affine parameters and running statistics, the
    base of batch and instance norm (PyTorch's `_NormBase`).

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
    track_running_stats : bool
        Keep the buffers `running_mean` (init 0), `running_var` (init 1) and
        `num_batches_tracked`; without them, none of them is in the `state_dict`.
    device : "cpu" or None
    dtype : float32 (default) or float64
        Of the parameters and running estimates.
    bias : bool (keyword-only)
        With `affine`, learn the bias too (False when a layer with its own bias follows).
    """

    _expected_ndims: tuple = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        dtype = dtypes.parameter_dtype(type(self).__name__, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, affine, bias, (num_features,), dtype)
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
        _reset_affine(self)

    def _check_input_dim(self, x) -> None:
        """ShapeError unless x has one of `_expected_ndims` dims (PyTorch's name)."""
        if x.ndim not in self._expected_ndims:
            dims = " or ".join(f"{n}D" for n in self._expected_ndims)
            raise ShapeError(
                f"{type(self).__name__}: expected {dims} input, got {x.ndim}D input of shape "
                f"{x.shape} {x.dtype}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Normalise each channel (dim 1) over the batch, then scale by `weight` and shift by `bias`.

    Training mode normalises with the batch's mean and biased variance and updates the running
    estimates: r = (1 - momentum) * r + momentum * batch_stat (the unbiased variance for
    `running_var`; `momentum=None` gives the cumulative average over the batches seen). Eval
    mode normalises with the running estimates; without `track_running_stats`, batch
    statistics are used in eval mode too. Options as `_NormBase`'s. As in PyTorch, an input
    with no values (N = 0) gives an empty output and leaves the running estimates alone (the
    batch is still counted in `num_batches_tracked`); a batch that raises changes nothing.
    """

    def forward(self, x):
        momentum = self._begin_batch(x)
        use_batch_stats = self.training or self.running_mean is None
        # running estimates are updated only when training and tracking
        track = not self.training or self.track_running_stats
        out = F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )
        self._count_batch()
        return out

    def _begin_batch(self, x) -> float:
        """Check `x` (dims, channels); the momentum of this batch's running-estimate update."""
        self._check_input_dim(x)
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"{type(self).__name__}: input of shape {x.shape} {x.dtype} has {x.shape[1]} "
                f"channels (dim 1), the layer was built for {self.num_features}"
            )
        if self.momentum is not None:
            return self.momentum
        if self.training and self.track_running_stats:
            # the cumulative average over the batches seen, this one included
            return 1.0 / (float(self.num_batches_tracked.item()) + 1)
        return 0.0

    def _count_batch(self) -> None:
        """Count a training batch in `num_batches_tracked`; called once it is normalised, so
        that a batch the op refuses changes nothing."""
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)


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


class _InstanceNorm(_NormBase):
    """Normalise each channel of each example over its spatial dims, then scale by `weight` and
    shift by `bias` (see `nn.functional.instance_norm`); unbatched input (no N) is accepted.

    Defaults differ from batch norm's, as in PyTorch: `affine=False`, `track_running_stats=False`
    (then no running buffers, and the example's own statistics in eval mode too). When tracking,
    training updates `running_mean`/`running_var` with the batch mean of the per-example
    statistics (`num_batches_tracked` stays 0, `momentum=None` means 0) and eval mode
    normalises with them. Options as `_NormBase`'s.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input):  # noqa: A002 - PyTorch's name
        name = type(self).__name__
        self._check_input_dim(input)
        unbatched = input.ndim == self._expected_ndims[0]
        channels = input.shape[0 if unbatched else 1]
        if channels != self.num_features:
            message = (
                f"{name}: input of shape {input.shape} has {channels} channels, the layer was "
                f"built for {self.num_features}"
            )
            if self.affine:
                raise ValueError(message)
            warnings.warn(f"{message} (not used, since affine=False)", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of `(N, C, L)` or unbatched `(C, L)` input, over L; see
    `_InstanceNorm` for the options."""

    _expected_ndims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of `(N, C, H, W)` or unbatched `(C, H, W)` input, over H and W;
    see `_InstanceNorm` for the options."""

    _expected_ndims = (3, 4)


class LayerNorm(Module):
    """Layer normalisation over the trailing dims `normalized_shape` of each example; see
    `nn.functional.layer_norm`.

    Parameters
    ----------
    normalized_shape : int or sequence of ints
        The trailing shape to normalise over, e.g. the feature size D of `(N, L, D)` input.
    eps : float
        Added to the variance before the square root.
    elementwise_affine : bool
        Learn `weight` (init 1) and `bias` (init 0), each of shape `normalized_shape`.
    bias : bool
        With `elementwise_affine`, learn the bias too.
    device : "cpu" or None
    dtype : float32 (default) or float64
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, "LayerNorm")
        dtype = dtypes.parameter_dtype(type(self).__name__, dtype)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, elementwise_affine, bias, self.normalized_shape, dtype)

    def reset_parameters(self) -> None:
        """Weight to 1 and bias to 0."""
        _reset_affine(self)

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation: the channels (dim 1) split into `num_groups` groups, each normalised
    per example; see `nn.functional.group_norm`.

    Parameters
    ----------
    num_groups : int
        Must divide `num_channels`.
    num_channels : int
        C of the `(N, C, *)` input.
    eps : float
    affine : bool
        Learn a per-channel `weight` (init 1) and `bias` (init 0), each `(C,)`.
    device : "cpu" or None
    dtype : float32 (default) or float64
    bias : bool (keyword-only)
        With `affine`, learn the bias too.

    Raises
    ------
    ValueError : `num_channels` not divisible by `num_groups`.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        check_device(device, "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        dtype = dtypes.parameter_dtype(type(self).__name__, dtype)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, affine, bias, (num_channels,), dtype)

    def reset_parameters(self) -> None:
        """Weight to 1 and bias to 0."""
        _reset_affine(self)

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


def _affine_parameters(module, affine, bias, shape, dtype) -> None:
    """Register `weight` (ones) and `bias` (zeros) of `shape` on `module`, or None for each."""
    module.register_parameter("weight", Parameter(np.ones(shape, dtype)) if affine else None)
    module.register_parameter(
        "bias", Parameter(np.zeros(shape, dtype)) if affine and bias else None
    )


def _reset_affine(module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)
