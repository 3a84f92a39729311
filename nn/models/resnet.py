"""Residual networks (He et al., 2015): blocks whose output is g(z + shortcut), so a block can
learn the identity by driving its weights to zero and very deep networks still train.

Exactly torchvision's `ResNet` (v1.5: a bottleneck block strides in its 3x3 convolution), so
`state_dict()` keys, shapes and order are torchvision's and its checkpoints load directly.
"""

from nn import init
from nn.activation import ReLU
from nn.container import Sequential
from nn.conv import Conv2d
from nn.linear import Linear
from nn.models._args import positive_int
from nn.module import Module
from nn.norm import BatchNorm2d
from nn.pool import AdaptiveAvgPool2d, MaxPool2d


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """3x3 same convolution (at stride 1) without bias: batch norm follows and has its own."""
    return Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def _conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> Conv2d:
    """1x1 convolution without bias: mixes channels, or strides as a projection shortcut."""
    return Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


def _projection(in_channels: int, out_channels: int, stride: int) -> Sequential | None:
    """The course's W_s: a 1x1 stride-`stride` convolution and batch norm that bring a[l] to
    the shape of z[l+2] when the block changes it; None (identity shortcut) when it does not."""
    if stride == 1 and in_channels == out_channels:
        return None
    return Sequential(_conv1x1(in_channels, out_channels, stride), BatchNorm2d(out_channels))


class BasicBlock(Module):
    """The course's residual block: two 3x3 convolutions and a shortcut around them.

    a[l+2] = g(z[l+2] + a[l]), with z[l+2] = BN(conv(g(BN(conv(a[l]))))) and g = ReLU. The
    shortcut is the identity when input and output shapes match (identity shortcut), and
    `downsample` = W_s a[l] otherwise (projection shortcut: a 1x1 convolution of the same
    stride, then batch norm). Used by ResNet-18 and -34.

    Parameters
    ----------
    in_channels : int
        Channels of a[l].
    channels : int
        Channels of both convolutions and of the output (`expansion` is 1).
    stride : int
        Of the first convolution and of the projection; 2 halves height and width.
    downsample : Module or None
        The projection shortcut, or None for the identity.

    Shapes: `(N, in_channels, H, W)` -> `(N, channels, ceil(H / stride), ceil(W / stride))`.
    """

    expansion = 1

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, downsample: Module | None = None
    ):
        super().__init__()
        self.conv1 = _conv3x3(in_channels, channels, stride)
        self.bn1 = BatchNorm2d(channels)
        self.relu = ReLU(inplace=True)
        self.conv2 = _conv3x3(channels, channels)
        self.bn2 = BatchNorm2d(channels)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(Module):
    """The bottleneck residual block of ResNet-50 and deeper: 1x1 -> 3x3 -> 1x1 and a shortcut.

    The first 1x1 convolution shrinks the channels to `channels` (the course's 1x1 "bottleneck
    layer" that cuts the 3x3's cost), the 3x3 works at that width, and the last 1x1 expands to
    `channels * 4`; then a[l+3] = g(z[l+3] + shortcut), the shortcut being a[l] (identity) or
    the projection `downsample` = W_s a[l] when the shape changes. As torchvision's (ResNet
    v1.5), the stride is on the 3x3 convolution, not on the first 1x1 as in the paper.

    Parameters
    ----------
    in_channels : int
        Channels of the input.
    channels : int
        Width of the inner convolutions; the output has `channels * expansion` (4x).
    stride : int
        Of the 3x3 convolution and of the projection.
    downsample : Module or None
        The projection shortcut, or None for the identity.

    Shapes: `(N, in_channels, H, W)` -> `(N, 4 * channels, ceil(H / stride), ceil(W / stride))`.
    """

    expansion = 4

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, downsample: Module | None = None
    ):
        super().__init__()
        self.conv1 = _conv1x1(in_channels, channels)
        self.bn1 = BatchNorm2d(channels)
        self.conv2 = _conv3x3(channels, channels, stride)
        self.bn2 = BatchNorm2d(channels)
        self.conv3 = _conv1x1(channels, channels * self.expansion)
        self.bn3 = BatchNorm2d(channels * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(Module):
    """A residual network, torchvision's layout.

    `conv1` (7x7, 64, stride 2), `bn1`, `relu`, `maxpool` (3x3 stride 2), then `layer1` to
    `layer4`: stages of `block`s at 64, 128, 256 and 512 channels (times `block.expansion`),
    the first block of stages 2-4 striding by 2 with a projection shortcut; `avgpool` (global
    average pooling) and `fc`. A 224x224 image leaves `layer4` as 7x7.

    Parameters
    ----------
    block : BasicBlock or Bottleneck (the class)
    layers : sequence of 4 ints
        Blocks per stage: (2, 2, 2, 2) is ResNet-18, (3, 4, 6, 3) ResNet-34 or, with
        Bottleneck, ResNet-50.
    num_classes : int
        Outputs of `fc`.
    zero_init_residual : bool
        Start the last batch norm of every residual branch at weight 0, so every block starts
        as the identity (torchvision's option, from Goyal et al., 2017).

    Weights as torchvision's: convolutions He-normal with fan_out (`kaiming_normal_`, mode
    "fan_out", ReLU gain), batch norm weight 1 and bias 0, `fc` the `Linear` default.

    Shapes: input `(N, 3, H, W)`, any H, W >= 1; output `(N, num_classes)` logits.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers,
        num_classes: int = 1000,
        zero_init_residual: bool = False,
    ):
        super().__init__()
        positive_int("ResNet", "num_classes", num_classes)
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must give 4 block counts, got {layers!r}")
        for count in layers:
            positive_int("ResNet", "each count of layers", count)
        self.in_channels = 64
        self.conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU(inplace=True)
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(512 * block.expansion, num_classes)
        # batch norm layers already start at weight 1 and bias 0
        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif zero_init_residual and isinstance(m, BasicBlock | Bottleneck):
                init.zeros_((m.bn3 if isinstance(m, Bottleneck) else m.bn2).weight)

    def _make_layer(self, block, channels: int, blocks: int, stride: int = 1) -> Sequential:
        """A stage: one block that may stride and project, then `blocks - 1` identity ones."""
        out_channels = channels * block.expansion
        downsample = _projection(self.in_channels, out_channels, stride)
        layers = [block(self.in_channels, channels, stride, downsample)]
        self.in_channels = out_channels
        layers += [block(out_channels, channels) for _ in range(1, blocks)]
        return Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-18: `BasicBlock` x (2, 2, 2, 2), 11,689,512 parameters; torchvision's
    `resnet18`. See `ResNet`."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, zero_init_residual)


def resnet34(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-34: `BasicBlock` x (3, 4, 6, 3), 21,797,672 parameters; torchvision's
    `resnet34`. See `ResNet`."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, zero_init_residual)


def resnet50(num_classes: int = 1000, zero_init_residual: bool = False) -> ResNet:
    """ResNet-50: `Bottleneck` x (3, 4, 6, 3), 25,557,032 parameters; torchvision's
    `resnet50`. See `ResNet`."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, zero_init_residual)
