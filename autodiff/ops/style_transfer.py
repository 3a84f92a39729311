"""The costs of neural style transfer (Gatys et al., 2015), with the course's normalisations.

Activations are NCHW, `(N, C, H, W)`, or one image `(C, H, W)`: the course's `(1, n_H, n_W,
n_C)` activation `a` is `a.permute(0, 3, 1, 2)` here. For a batch, each cost is the mean over
the N images of the course's cost of one image, so N = 1 gives the course's number.

Compositions of graph ops (matmul, sub, sum): no rule of their own is needed.
"""

from collections.abc import Sequence

from autodiff.errors import ShapeError
from autodiff.ops._args import is_tensor, require_float
from autodiff.ops._loss_args import reduce
from autodiff.ops.linalg import matmul

__all__ = ["gram_matrix", "content_cost", "style_cost"]


def gram_matrix(features):
    """The style matrix G = A A^T of the unrolled activations A `(C, H*W)` of each image.

    G[c, c'] is the (unnormalised) inner product of channels c and c' over all positions, the
    course's `gram_matrix(tf.transpose(tf.reshape(a, [n_H * n_W, n_C])))`. `style_cost` applies
    the course's normalisation 1 / (2 n_C n_H n_W) to each G; divide by H*W (or C*H*W) yourself
    for the normalised variants other implementations use.

    Parameters
    ----------
    features : Tensor
        `(N, C, H, W)`, or `(C, H, W)` for one image; float32 or float64.

    Returns
    -------
    Tensor `(N, C, C)` (or `(C, C)`), symmetric, of `features`' dtype.

    Raises
    ------
    ShapeError : not 3-D or 4-D.  TypeError : a non-float input.
    """
    _check_activation("gram_matrix", features)
    a = features.reshape(*features.shape[:-2], features.shape[-2] * features.shape[-1])
    return matmul(a, a.transpose(-1, -2))


def content_cost(a_C, a_G):  # noqa: N803 - the course's names
    """The course's J_content = 1 / (4 n_H n_W n_C) * sum (a_C - a_G)^2.

    Parameters
    ----------
    a_C, a_G : Tensor
        Activations of the content and the generated image at one layer, `(N, C, H, W)` or
        `(C, H, W)`, of one shape and float dtype; both differentiable.

    Returns
    -------
    0-d Tensor of the inputs' dtype: the mean of the per-image costs over N (nan for N = 0).

    Raises
    ------
    ShapeError : not 3-D or 4-D, or shapes that differ.  TypeError : a non-float input, or
    dtypes that differ.
    """
    op = "content_cost"
    _check_pair(op, a_C, a_G)
    c, h, w = a_C.shape[-3:]
    return _mean_over_images(_sum_squares(a_C - a_G, 3) * (1 / (4 * c * h * w)))


def style_cost(a_S, a_G, weights=None):  # noqa: N803 - the course's names
    """The course's style cost: of one layer, or the weighted sum over several layers.

    For one layer, J_style = 1 / (4 n_C^2 (n_H n_W)^2) * sum (G_S - G_G)^2 with G = the
    `gram_matrix` of the style image's (S) and the generated image's (G) activations. For
    lists of activations (one entry per layer), sum_l weights[l] * J_style(layer l): the
    course's `compute_style_cost` with `STYLE_LAYERS`' coefficients (lambda) as `weights`.

    Parameters
    ----------
    a_S, a_G : Tensor, or sequences of Tensors of one length
        Activations `(N, C, H, W)` or `(C, H, W)`, of one shape and float dtype per layer;
        all differentiable.
    weights : sequence of floats, optional
        One per layer (lists only); default 1 / (number of layers) each, the course's 0.2
        for its five layers.

    Returns
    -------
    0-d Tensor of the inputs' dtype: the mean of the per-image costs over N (nan for N = 0).

    Raises
    ------
    ShapeError : not 3-D or 4-D, shapes that differ per layer, or lists of different lengths.
    ValueError : no layers, or `weights` of the wrong length or given for a single layer.
    TypeError : non-float inputs, or dtypes that differ.
    """
    op = "style_cost"
    if is_tensor(a_S) or is_tensor(a_G):
        if weights is not None:
            raise ValueError(f"{op}: weights apply to lists of layers, not to one layer")
        return _layer_style_cost(op, a_S, a_G)
    if not isinstance(a_S, Sequence) or not isinstance(a_G, Sequence) or len(a_S) != len(a_G):
        raise ShapeError(
            f"{op}: a_S and a_G must be Tensors or sequences of one length (a Tensor per "
            f"layer), got {_describe(a_S)} and {_describe(a_G)}"
        )
    if not a_S:
        raise ValueError(f"{op}: no layers given")
    weights = [1 / len(a_S)] * len(a_S) if weights is None else list(weights)
    if len(weights) != len(a_S):
        raise ValueError(f"{op}: {len(weights)} weights for {len(a_S)} layers")
    costs = [_layer_style_cost(op, s, g) for s, g in zip(a_S, a_G, strict=True)]
    total = costs[0] * weights[0]
    for cost, weight in zip(costs[1:], weights[1:], strict=True):
        total = total + cost * weight
    return total


def _layer_style_cost(op, a_S, a_G):  # noqa: N803 - the course's names
    """One layer's J_style (the mean over the images of the batch)."""
    _check_pair(op, a_S, a_G)
    c, h, w = a_S.shape[-3:]
    diff = gram_matrix(a_S) - gram_matrix(a_G)
    return _mean_over_images(_sum_squares(diff, 2) * (1 / (4 * c * c * (h * w) ** 2)))


def _sum_squares(x, ndims):
    """The sum of squares over the last `ndims` dims (one number per image)."""
    return (x * x).sum(tuple(range(-ndims, 0)))


def _mean_over_images(costs):
    """The mean of per-image costs `(N,)` (nan for N = 0, as a "mean" loss), or a 0-d cost."""
    return reduce(costs, "mean")


def _check_activation(op, a):
    if not is_tensor(a):
        raise TypeError(f"{op}: expected a Tensor, got {type(a).__name__}")
    require_float(op, a)
    if a.ndim not in (3, 4):
        raise ShapeError(
            f"{op}: activations must be (N, C, H, W) or (C, H, W), got {a.shape} {a.dtype}"
        )


def _check_pair(op, a, b):
    _check_activation(op, a)
    _check_activation(op, b)
    if a.shape != b.shape or a.dtype != b.dtype:
        kind = TypeError if a.shape == b.shape else ShapeError
        raise kind(
            f"{op}: the two activations must have one shape and dtype, got {a.shape} {a.dtype} "
            f"and {b.shape} {b.dtype}"
        )


def _describe(x):
    if is_tensor(x):
        return f"a Tensor {x.shape} {x.dtype}"
    if isinstance(x, Sequence):
        return f"a {type(x).__name__} of {len(x)}"
    return type(x).__name__
