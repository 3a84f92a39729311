"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012) as the course draws it: 227x227x3 images,
five convolutions with ReLU and overlapping max pooling, then 9,216 -> 4,096 -> 4,096 -> 1,000."""

from nn.activation import ReLU
from nn.container import Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Linear
from nn.module import Module
from nn.pool import AdaptiveAvgPool2d, MaxPool2d


class AlexNet(Module):
    """AlexNet, the course's single-tower version.

    CONV1 96 11x11 stride 4 (55x55x96), MAX-POOL 3x3 stride 2 (27x27x96), CONV2 256 5x5 same
    (27x27x256), MAX-POOL (13x13x256), CONV3 384 3x3 same, CONV4 384 3x3 same, CONV5 256 3x3
    same (13x13x256), MAX-POOL (6x6x256 = 9,216), then FC 4,096, FC 4,096 and FC `num_classes`,
    ReLU after every layer but the last, dropout before the first two fully connected layers.
    62,378,344 parameters with 1000 classes.

    The layout is torchvision's (`features`, `avgpool`, `classifier`, default initialisation),
    but the widths are the paper's (96, 256, 384, 384, 256) and not torchvision's one-tower
    variant (64, 192, 384, 256, 256), so torchvision's AlexNet weights do not fit. The
    adaptive average pooling to 6x6 is the identity on 227x227 inputs and lets smaller images
    (down to 67x67) through.

    Parameters
    ----------
    num_classes : int
        Units of the last layer.
    dropout : float
        Drop probability of the two dropout layers.

    Shapes: input `(N, 3, H, W)`, 227x227 as in the course; output `(N, num_classes)` logits.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = Sequential(
            Conv2d(3, 96, kernel_size=11, stride=4),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(96, 256, kernel_size=5, padding=2),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(256, 384, kernel_size=3, padding=1),
            ReLU(inplace=True),
            Conv2d(384, 384, kernel_size=3, padding=1),
            ReLU(inplace=True),
            Conv2d(384, 256, kernel_size=3, padding=1),
            ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = AdaptiveAvgPool2d((6, 6))
        self.classifier = Sequential(
            Dropout(p=dropout),
            Linear(256 * 6 * 6, 4096),
            ReLU(inplace=True),
            Dropout(p=dropout),
            Linear(4096, 4096),
            ReLU(inplace=True),
            Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def alexnet(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """The course's AlexNet (62,378,344 parameters with 1000 classes); see `AlexNet`."""
    return AlexNet(num_classes, dropout)
