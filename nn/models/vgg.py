"""VGG (Simonyan and Zisserman, 2014), the course's "simplicity" network: only 3x3 same
convolutions and 2x2 max pooling, doubling the channels 64 -> 128 -> 256 -> 512 as the image
halves; exactly torchvision's `VGG`, so its checkpoints load with `load_state_dict`."""

from functools import partial

from nn import init
from nn.activation import ReLU
from nn.container import Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Linear
from nn.models._args import positive_int
from nn.module import Module
from nn.norm import BatchNorm2d
from nn.pool import AdaptiveAvgPool2d, MaxPool2d
from nn.utils import skip_init

# torchvision's (and the paper's) configurations A, B, D, E: conv widths, "M" a max pool
_CONFIGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (
        *(64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"),
        *(512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
    ),
}


def make_layers(config, batch_norm: bool = False) -> Sequential:
    """The `features` of a VGG: per width in `config` a 3x3 same convolution (with bias), batch
    norm if asked, and ReLU; per "M" a 2x2 stride-2 max pool. Input has 3 channels."""
    layers, in_channels = [], 3
    for v in config:
        if v == "M":
            layers.append(MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(BatchNorm2d(v))
        layers.append(ReLU(inplace=True))
        in_channels = v
    return Sequential(*layers)


class VGG(Module):
    """A VGG network: `features`, `avgpool` (adaptive, to 7x7) and `classifier`.

    `classifier` is Linear(25,088, 4,096), ReLU, Dropout, Linear(4,096, 4,096), ReLU, Dropout,
    Linear(4,096, `num_classes`), as torchvision's. The adaptive pooling is the identity on
    224x224 images (7x7x512 after five pools) and lets any input of at least 32x32 through.

    Parameters
    ----------
    features : Module
        The convolutional part, e.g. `make_layers(config, batch_norm)`; ends with 512 channels.
    num_classes : int
        Units of the last layer.
    init_weights : bool
        torchvision's initialisation: convolutions He-normal with fan_out (`kaiming_normal_`,
        mode "fan_out", ReLU gain) and zero bias, batch norm weight 1 and bias 0, linear layers
        N(0, 0.01^2) and zero bias. False keeps the layers' defaults (quicker when the weights
        are loaded next anyway).
    dropout : float
        Drop probability of the two dropout layers.

    Shapes: input `(N, 3, H, W)` with H, W >= 32; output `(N, num_classes)` logits.
    """

    def __init__(
        self,
        features: Module,
        num_classes: int = 1000,
        init_weights: bool = True,
        dropout: float = 0.5,
    ):
        super().__init__()
        positive_int("VGG", "num_classes", num_classes)
        self.features = features
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        # init_weights redraws the classifier's 123M weights below: skipping the layers' default
        # draws spares drawing them twice
        linear = partial(skip_init, Linear) if init_weights else Linear
        self.classifier = Sequential(
            linear(512 * 7 * 7, 4096),
            ReLU(inplace=True),
            Dropout(p=dropout),
            linear(4096, 4096),
            ReLU(inplace=True),
            Dropout(p=dropout),
            linear(4096, num_classes),
        )
        if init_weights:
            # batch norm layers already start at weight 1 and bias 0
            for m in self.modules():
                if isinstance(m, Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    init.zeros_(m.bias)
                elif isinstance(m, Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(depth: int, num_classes: int, batch_norm: bool, init_weights: bool, dropout: float):
    """VGG-`depth` (11, 13, 16 or 19 weight layers)."""
    positive_int(f"vgg{depth}", "num_classes", num_classes)
    return VGG(make_layers(_CONFIGS[depth], batch_norm), num_classes, init_weights, dropout)


def vgg11(
    num_classes: int = 1000,
    batch_norm: bool = False,
    init_weights: bool = True,
    dropout: float = 0.5,
) -> VGG:
    """VGG-11 (configuration A), as torchvision's `vgg11` or, with batch_norm, `vgg11_bn`:
    132,863,336 parameters (132,868,840 with batch norm); see `VGG`."""
    return _vgg(11, num_classes, batch_norm, init_weights, dropout)


def vgg13(
    num_classes: int = 1000,
    batch_norm: bool = False,
    init_weights: bool = True,
    dropout: float = 0.5,
) -> VGG:
    """VGG-13 (configuration B), as torchvision's `vgg13` or, with batch_norm, `vgg13_bn`:
    133,047,848 parameters (133,053,736 with batch norm); see `VGG`."""
    return _vgg(13, num_classes, batch_norm, init_weights, dropout)


def vgg16(
    num_classes: int = 1000,
    batch_norm: bool = False,
    init_weights: bool = True,
    dropout: float = 0.5,
) -> VGG:
    """VGG-16 (configuration D), the course's: two 64s, two 128s, three 256s, three 512s and
    three 512s, a 2x2 max pool after each group, then 4,096, 4,096 and 1,000 units.

    As torchvision's `vgg16` or, with batch_norm (after every convolution), `vgg16_bn`:
    138,357,544 parameters (138,365,992 with batch norm); see `VGG` for the arguments.
    """
    return _vgg(16, num_classes, batch_norm, init_weights, dropout)


def vgg19(
    num_classes: int = 1000,
    batch_norm: bool = False,
    init_weights: bool = True,
    dropout: float = 0.5,
) -> VGG:
    """VGG-19 (configuration E), as torchvision's `vgg19` or, with batch_norm, `vgg19_bn`:
    143,667,240 parameters (143,678,248 with batch norm); see `VGG`."""
    return _vgg(19, num_classes, batch_norm, init_weights, dropout)
