"""The course's networks, each a plain `nn.Module` built from this library's layers.

One module per family. Where torchvision has the same network, the `state_dict()` keys, shapes
and order are torchvision's, so its weights load directly.
"""

from nn.models.alexnet import AlexNet, alexnet
from nn.models.inception import GoogLeNet, GoogLeNetOutputs, InceptionBlock, googlenet
from nn.models.lenet import LeNet5, lenet5
from nn.models.mobilenet import (
    DepthwiseSeparable,
    InvertedResidual,
    MobileNetV1,
    MobileNetV2,
    mobilenet_v1,
    mobilenet_v2,
)
from nn.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
)
from nn.models.sliding_window import fc_to_conv
from nn.models.transfer import (
    param_groups,
    precompute_features,
    replace_head,
    trainable_parameters,
)
from nn.models.vgg import VGG, make_layers, vgg11, vgg13, vgg16, vgg19

__all__ = [
    "AlexNet",
    "alexnet",
    "BasicBlock",
    "Bottleneck",
    "LeNet5",
    "lenet5",
    "make_layers",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "VGG",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "DepthwiseSeparable",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "InceptionBlock",
    "InvertedResidual",
    "fc_to_conv",
    "MobileNetV1",
    "MobileNetV2",
    "googlenet",
    "mobilenet_v1",
    "mobilenet_v2",
    "param_groups",
    "precompute_features",
    "replace_head",
    "trainable_parameters",
]
