"""LeNet-5 (LeCun et al., 1998), the course's first convolutional network: two 5x5 convolutions
with pooling, then three fully connected layers, on 32x32 images."""

from nn.activation import ReLU, Tanh
from nn.container import Sequential
from nn.conv import Conv2d
from nn.linear import Linear
from nn.module import Module
from nn.pool import AvgPool2d, MaxPool2d

_VARIANTS = {"classic": (Tanh, AvgPool2d), "modern": (ReLU, MaxPool2d)}


class LeNet5(Module):
    """LeNet-5: CONV1 (6 5x5) - POOL1 - CONV2 (16 5x5) - POOL2 - FC3 (120) - FC4 (84) - FC5.

    The course's table for a 32x32 input: CONV1 gives 28x28x6, POOL1 14x14x6, CONV2 10x10x16,
    POOL2 5x5x16 = 400 features, then 120, 84 and `num_classes` units. With the defaults it has
    61,706 parameters (156 + 2,416 + 48,120 + 10,164 + 850).

    Parameters
    ----------
    variant : {"classic", "modern"}
        "classic" is the 1998 network as the course draws it: tanh activations and 2x2 average
        pooling. "modern" is how it is written today: ReLU and 2x2 max pooling. The parameters
        are the same; the softmax is left to the loss (`nn.CrossEntropyLoss`) in both.
    num_classes : int
        Units of the last layer.
    in_channels : int
        Channels of the input images (1 for grey digits, 3 for colour).

    Shapes: input `(N, in_channels, 32, 32)`, output `(N, num_classes)` logits, float32.

    Raises
    ------
    ValueError
        An unknown variant.
    """

    def __init__(self, variant: str = "classic", num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        if variant not in _VARIANTS:
            raise ValueError(f"LeNet5: variant must be one of {sorted(_VARIANTS)}, got {variant!r}")
        activation, pool = _VARIANTS[variant]
        self.variant = variant
        self.features = Sequential(
            Conv2d(in_channels, 6, kernel_size=5),
            activation(),
            pool(kernel_size=2, stride=2),
            Conv2d(6, 16, kernel_size=5),
            activation(),
            pool(kernel_size=2, stride=2),
        )
        self.classifier = Sequential(
            Linear(16 * 5 * 5, 120),
            activation(),
            Linear(120, 84),
            activation(),
            Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))

    def extra_repr(self) -> str:
        return f"variant={self.variant!r}"


def lenet5(variant: str = "classic", num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5, classic (tanh, average pooling) or modern (ReLU, max pooling); see `LeNet5`."""
    return LeNet5(variant, num_classes, in_channels)
