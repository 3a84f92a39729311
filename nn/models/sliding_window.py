"""Sliding windows, convolutionally (OverFeat, Sermanet et al., 2014; the course's week-3
example): `fc_to_conv` turns a classifier of fixed-size crops into a fully convolutional model
that classifies every window of a larger image in one forward pass.

The classifier is a `Sequential`: convolutions, pooling and elementwise layers, then `Flatten`,
then `Linear` layers (with elementwise layers between them). The first `Linear` after `Flatten`
becomes a `Conv2d` whose kernel covers the whole feature map, with the same weights reshaped
(`Flatten` orders features as (C, H, W), which is the kernel's layout); each later `Linear`
becomes a 1x1 `Conv2d`. On an image of the classifier's input size the result gives a 1 x 1
grid; on a larger one, a grid whose cell (i, j) is the classifier's output for the crop at rows
i*stride ..., columns j*stride ..., stride being the product of the layers' strides. The
windows share the convolutions over their overlap, which is the point.

The course's example: 14 x 14 x 3 crops -> conv 5x5 16 -> max pool 2 -> FC 400 -> FC 400 ->
softmax 4 becomes ... -> conv 5x5 400 -> conv 1x1 400 -> conv 1x1 4; a 16 x 16 image gives a
2 x 2 grid and a 28 x 28 image an 8 x 8 grid (stride 2).
"""

import copy

from nn.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from nn.container import Sequential
from nn.conv import Conv2d
from nn.dropout import AlphaDropout, Dropout, Dropout2d
from nn.linear import Linear
from nn.module import Module
from nn.norm import BatchNorm2d
from nn.parameter import Parameter
from nn.pool import AvgPool2d, MaxPool2d
from nn.shape import Flatten, Identity

__all__ = ["fc_to_conv"]

# layers acting on each element, or on each position's channel vector (PReLU's per-channel
# slope is along dim 1 in (N, K) and (N, K, H, W) alike), so they act on a grid unchanged
_POINTWISE = (
    CELU, ELU, GELU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
    Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softplus, Softshrink, Softsign, Tanh, Tanhshrink,
    Threshold, Identity, Dropout, AlphaDropout,
)  # fmt: skip
# before Flatten: layers that act on each window the same wherever it lies in the image
_SPATIAL = (Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, Dropout2d)


def fc_to_conv(model: Module, input_size) -> Sequential:
    """A fully convolutional copy of a crop classifier: one pass gives every window's output.

    Parameters
    ----------
    model : Sequential
        `[conv / pool / elementwise layers] + [Flatten()] + [Linear and elementwise layers]`,
        nested Sequentials allowed. Convolutions and pools without padding (a padded crop sees
        zeros where the large image has pixels, so the windows would differ) and without
        `ceil_mode`; a `Softmax` / `LogSoftmax` after `Flatten` must be over the classes
        (dim 1 or -1).
    input_size : tuple of 3 ints
        The classifier's input `(C, H, W)`, e.g. `(3, 14, 14)`.

    Returns
    -------
    Sequential
        Copies of the layers before `Flatten`, then one `Conv2d` per `Linear` (weights of the
        same dtype, copied), with the model's train/eval mode. Input `(N, C, H2, W2)` with
        H2, W2 >= H, W; output `(N, K, (H2 - H) // s + 1, (W2 - W) // s + 1)`, K the last
        Linear's outputs and s the product of the strides before `Flatten`: cell (i, j) equals
        `model(x[:, :, i*s : i*s + H, j*s : j*s + W])`.

    Raises
    ------
    TypeError : not a Sequential.
    ValueError : a layer it cannot convert (named, with its position), no Flatten or no Linear
    after it, an input_size that is not `(C, H, W)`, or a Linear whose inputs do not match the
    feature map `(C', H', W')` that input_size gives.
    """
    op = "fc_to_conv"
    if not isinstance(model, Sequential):
        raise TypeError(f"{op}: expected an nn.Sequential classifier, got {type(model).__name__}")
    size = tuple(input_size) if isinstance(input_size, tuple | list) else ()
    if len(size) != 3 or not all(isinstance(n, int) and n > 0 for n in size):
        raise ValueError(f"{op}: input_size must be (C, H, W) of positive ints, got {input_size!r}")
    layers = _leaves(model)
    cut = [i for i, layer in enumerate(layers) if isinstance(layer, Flatten)]
    if len(cut) != 1:
        raise ValueError(f"{op}: the model needs exactly one Flatten, found {len(cut)}")
    head, tail = layers[: cut[0]], layers[cut[0] + 1 :]
    _check_flatten(op, layers[cut[0]])
    feature_map = size
    for i, layer in enumerate(head):
        feature_map = _after(op, i, layer, feature_map)
    converted = [copy.deepcopy(layer) for layer in head]
    first = True
    for i, layer in enumerate(tail, start=cut[0] + 1):
        if isinstance(layer, Linear):
            converted.append(_linear_as_conv(op, layer, feature_map if first else None))
            first = False
        elif isinstance(layer, Softmax):  # also LogSoftmax and Softmin
            _check_class_dim(op, i, layer)
            converted.append(type(layer)(dim=1))
        elif isinstance(layer, _POINTWISE):
            converted.append(copy.deepcopy(layer))
        else:
            raise ValueError(f"{op}: cannot convert layer {i} after Flatten, {layer!r}")
    if first:
        raise ValueError(f"{op}: the model has no Linear layer after Flatten to convert")
    return Sequential(*converted).train(model.training)


def _leaves(model):
    """The layers of a Sequential, with nested Sequentials opened."""
    out = []
    for layer in model:
        out.extend(_leaves(layer) if isinstance(layer, Sequential) else [layer])
    return out


def _check_flatten(op, layer):
    if layer.start_dim != 1 or layer.end_dim not in (-1, 3):
        raise ValueError(f"{op}: Flatten must merge dims 1 to -1 (C, H, W), got {layer!r}")


def _after(op, i, layer, shape):
    """The `(C, H, W)` that `layer` (at position i, before Flatten) makes of `shape`; a
    ValueError for a layer whose windows would not match the classifier's crops."""
    if not isinstance(layer, _SPATIAL + _POINTWISE):
        raise ValueError(
            f"{op}: cannot convert layer {i}, {layer!r}: before Flatten only convolutions, "
            "pools, BatchNorm2d and elementwise layers act on each window alike"
        )
    if not isinstance(layer, Conv2d | MaxPool2d | AvgPool2d):
        return shape
    padding = layer.padding
    if padding not in ("valid", 0, (0, 0)) or getattr(layer, "ceil_mode", False):
        raise ValueError(
            f"{op}: cannot convert layer {i}, {layer!r}: padding or ceil_mode makes the border "
            "windows of a crop differ from the same windows inside a larger image"
        )
    c, h, w = shape
    if isinstance(layer, Conv2d):
        c, dilation = layer.out_channels, layer.dilation
    else:
        dilation = _pair(getattr(layer, "dilation", 1))
    kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
    h, w = (
        (n - d * (k - 1) - 1) // s + 1
        for n, k, s, d in zip((h, w), kernel, stride, dilation, strict=True)
    )
    if h < 1 or w < 1:
        raise ValueError(f"{op}: layer {i}, {layer!r}, leaves no output for input {shape}")
    return c, h, w


def _linear_as_conv(op, linear, feature_map):
    """A Conv2d computing `linear` over a `(C, H, W)` feature map (None: a 1 x 1 one)."""
    c, h, w = (linear.in_features, 1, 1) if feature_map is None else feature_map
    if linear.in_features != c * h * w:
        raise ValueError(
            f"{op}: the first Linear after Flatten takes {linear.in_features} features but the "
            f"feature map for this input_size is {(c, h, w)} = {c * h * w}"
        )
    weight = linear.weight.data
    conv = Conv2d(c, linear.out_features, (h, w), bias=linear.bias is not None, dtype=weight.dtype)
    conv.weight = Parameter(
        weight.reshape(linear.out_features, c, h, w).copy(), linear.weight.requires_grad
    )
    if linear.bias is not None:
        conv.bias = Parameter(linear.bias.data.copy(), linear.bias.requires_grad)
    return conv


def _check_class_dim(op, i, layer):
    if layer.dim not in (1, -1):
        raise ValueError(
            f"{op}: layer {i}, {layer!r}, is not over the classes (dim 1 or -1 of (N, K))"
        )


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)
