"""MobileNet v1 (Howard et al., 2017) and v2 (Sandler et al., 2018); v2 in torchvision's layout.

`mobilenet_v2()` has torchvision's `state_dict` keys, shapes and order, so its weights load
directly (with torchvision installed; `tv_model` one of its models)::

    state = {k: v.numpy() for k, v in tv_model.state_dict().items()}
    nn.save(state, "mobilenet_v2.npz")
    model = mobilenet_v2(); model.load_state_dict(nn.load("mobilenet_v2.npz"))
"""

import autodiff
from nn import functional as F
from nn import init
from nn.activation import ReLU, ReLU6
from nn.container import Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Linear
from nn.models._args import positive_float, positive_int
from nn.module import Module
from nn.norm import BatchNorm2d

__all__ = [
    "Conv2dNormActivation",
    "DepthwiseSeparable",
    "InvertedResidual",
    "MobileNetV1",
    "MobileNetV2",
    "mobilenet_v1",
    "mobilenet_v2",
]


def make_divisible(value: float, divisor: int = 8) -> int:
    """`value` rounded to the nearest multiple of `divisor` (at least `divisor`), and up one
    more step if that lost over 10%: the channel rule of the MobileNet reference code."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class Conv2dNormActivation(Sequential):
    """Convolution without bias, batch norm, activation: children '0', '1', '2', torchvision's.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, groups : int
        Of the `Conv2d`; padding (kernel_size - 1) // 2 keeps H and W at stride 1.
    activation_layer : Module class
        Built without arguments, e.g. `ReLU` or `ReLU6`.

    Shapes: `(N, in_channels, H, W)` -> `(N, out_channels, OH, OW)`, OH = (H - 1) // stride + 1
    for an odd kernel.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation_layer=ReLU6,
    ):
        conv = Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            (kernel_size - 1) // 2,
            groups=groups,
            bias=False,
        )
        super().__init__(conv, BatchNorm2d(out_channels), activation_layer())
        self.out_channels = out_channels


class DepthwiseSeparable(Module):
    """MobileNet v1's block: a depthwise 3x3 convolution, then a pointwise 1x1 one.

    `depthwise` convolves each channel with its own 3x3 filter (groups = in_channels), then
    batch norm and ReLU; `pointwise` mixes the channels with a 1x1 convolution to
    `out_channels`, then batch norm and ReLU. Convolutions have no bias (batch norm's shift
    replaces it).

    Cost, from the course: a normal f x f convolution from n_c to n_c' channels costs
    f^2 n_c n_c' multiply-adds per output position; the depthwise step costs f^2 n_c and the
    pointwise one n_c n_c', so the ratio is 1/n_c' + 1/f^2. The course's example (6x6x3 input,
    3x3 filters, 5 output channels, 4x4 output): 2,160 multiply-adds normally against 432 +
    240 = 672, a ratio 0.31 = 1/5 + 1/9; with 512 output channels the ratio is 0.113.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Of the depthwise convolution (1, or 2 to halve H and W).

    Shapes: `(N, in_channels, H, W)` -> `(N, out_channels, (H - 1) // stride + 1, ...)`.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.depthwise = Conv2dNormActivation(
            in_channels, in_channels, 3, stride, groups=in_channels, activation_layer=ReLU
        )
        self.pointwise = Conv2dNormActivation(in_channels, out_channels, 1, activation_layer=ReLU)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class InvertedResidual(Module):
    """MobileNet v2's block: expand, depthwise, linear bottleneck; torchvision's layout.

    `conv` holds, in order: a 1x1 expansion from `in_channels` to `hidden = round(in_channels
    * expand_ratio)` channels with batch norm and ReLU6 (left out when expand_ratio is 1); a
    depthwise 3x3 convolution with batch norm and ReLU6; a 1x1 projection to
    `out_channels` with batch norm and no activation (the linear bottleneck: a ReLU on the
    narrow output would destroy information that the wide block cannot recover). When
    stride is 1 and in_channels == out_channels the input is added to the output (the
    residual connects the narrow bottlenecks, the inverse of ResNet's wide-narrow-wide).

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        1 or 2, of the depthwise convolution.
    expand_ratio : float
        t in the paper: the hidden width over in_channels (6 in MobileNet v2).

    Shapes: `(N, in_channels, H, W)` -> `(N, out_channels, (H - 1) // stride + 1, ...)`.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: float):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        positive_float("InvertedResidual", "expand_ratio", expand_ratio)
        hidden = int(round(in_channels * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(in_channels, hidden, kernel_size=1))
        layers += [
            Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden),
            Conv2d(hidden, out_channels, 1, bias=False),
            BatchNorm2d(out_channels),
        ]
        self.conv = Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (out_channels, stride) of the 13 depthwise-separable blocks, the paper's Table 1 (its
# second-to-last stride-2 line is a typo: the 7x7 map stays 7x7 there)
_V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
_V1_BLOCKS += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

# t (expansion), c (output channels), n (repeats), s (stride of the first), the paper's Table 2
_V2_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class _MobileNet(Module):
    """`features`, then global average pooling, flattening and `classifier`."""

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(autodiff.flatten(x, 1))


class MobileNetV1(_MobileNet):
    """MobileNet v1: a stride-2 3x3 convolution and 13 `DepthwiseSeparable` blocks
    (`features`), global average pooling and `classifier`; see `mobilenet_v1`."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 1e-3):
        super().__init__()
        positive_int("mobilenet_v1", "num_classes", num_classes)
        positive_float("mobilenet_v1", "width_mult", width_mult)
        channels = make_divisible(32 * width_mult)
        layers = [Conv2dNormActivation(3, channels, stride=2, activation_layer=ReLU)]
        for out_channels, stride in _V1_BLOCKS:
            out_channels = make_divisible(out_channels * width_mult)
            layers.append(DepthwiseSeparable(channels, out_channels, stride))
            channels = out_channels
        self.features = Sequential(*layers)
        self.classifier = Sequential(Dropout(p=dropout), Linear(channels, num_classes))


class MobileNetV2(_MobileNet):
    """MobileNet v2: a stride-2 3x3 convolution, 17 `InvertedResidual` blocks and a 1x1
    convolution to 1280 channels (`features`), global average pooling and `classifier`
    (dropout, linear); see `mobilenet_v2`."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2):
        super().__init__()
        positive_int("mobilenet_v2", "num_classes", num_classes)
        positive_float("mobilenet_v2", "width_mult", width_mult)
        channels = make_divisible(32 * width_mult)
        last_channels = make_divisible(1280 * max(1.0, width_mult))
        layers = [Conv2dNormActivation(3, channels, stride=2)]
        for t, c, n, s in _V2_SETTING:
            out_channels = make_divisible(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(channels, out_channels, s if i == 0 else 1, t))
                channels = out_channels
        layers.append(Conv2dNormActivation(channels, last_channels, kernel_size=1))
        self.features = Sequential(*layers)
        self.classifier = Sequential(Dropout(p=dropout), Linear(last_channels, num_classes))

        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, Linear):
                init.normal_(m.weight, 0, 0.01)
                init.zeros_(m.bias)


def mobilenet_v1(
    num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 1e-3
) -> MobileNetV1:
    """MobileNet v1 as in the paper's Table 1: 4,231,976 parameters at width 1.0.

    `features`: a 3x3 stride-2 convolution to 32 channels, then 13 `DepthwiseSeparable`
    blocks to 1024 channels (five strides of 2 in all: 224x224 -> 7x7); global average
    pooling; `classifier`: dropout and a linear layer. Every convolution is followed by batch
    norm and ReLU and has no bias. torchvision has no MobileNet v1.

    Parameters
    ----------
    num_classes : int
    width_mult : float
        The paper's width multiplier alpha: every layer's channels times alpha, rounded to a
        multiple of 8 as in `mobilenet_v2` (exactly alpha * c at the paper's 1, 0.75, 0.5 and
        0.25). The resolution multiplier is just the input size.
    dropout : float
        Before the classifier; 1e-3 as in Keras' MobileNet, the reference implementation (the
        paper reports little regularisation).

    Weights: `Conv2d`, `BatchNorm2d` and `Linear` defaults.

    Shapes: `(N, 3, H, W)` -> `(N, num_classes)`; 224x224 in the paper, any H, W >= 1.
    """
    return MobileNetV1(num_classes, width_mult, dropout)


def mobilenet_v2(
    num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2
) -> MobileNetV2:
    """MobileNet v2 exactly as torchvision's `mobilenet_v2(weights=None)`: 3,504,872
    parameters at width 1.0.

    `features`: a `Conv2dNormActivation` (3x3, stride 2, to 32 channels), 17
    `InvertedResidual` blocks (the paper's Table 2) and a 1x1 `Conv2dNormActivation` to 1280
    channels, all with ReLU6; global average pooling; `classifier`: `Dropout(dropout)` and a
    `Linear`. `state_dict()` keys, shapes and order are torchvision's.

    Parameters
    ----------
    num_classes : int
    width_mult : float
        Every layer's channels times this, rounded to a multiple of 8 (`make_divisible`); the
        last 1280 only grows, never shrinks.
    dropout : float
        Before the classifier.

    Weights: convolutions He-normal with fan_out, batch norm 1 and 0, linear N(0, 0.01^2)
    with zero bias, as torchvision's.

    Shapes: `(N, 3, H, W)` -> `(N, num_classes)`; 224x224 in the paper, any H, W >= 1.
    """
    return MobileNetV2(num_classes, width_mult, dropout)
