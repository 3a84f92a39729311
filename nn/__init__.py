"""Neural-network building blocks, as `torch.nn`: Module, Parameter, layers, init and saving.

>>> import nn
>>> import nn.functional as F
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from autodiff.serialization import load, save
from nn import functional, init, models, utils
from nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from nn.container import ModuleDict, ModuleList, Sequential
from nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from nn.distance import CosineSimilarity, PairwiseDistance
from nn.dropout import (
    AlphaDropout,
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from nn.embedding import Embedding
from nn.fold import Fold, Unfold
from nn.linear import Linear
from nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from nn.module import Module
from nn.norm import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
)
from nn.padding import (
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)
from nn.parameter import Parameter
from nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from nn.pool import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
)
from nn.shape import Flatten, Identity
from nn.summary import summary
from nn.syncbatchnorm import SyncBatchNorm
from nn.upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from nn.yolo_loss import YOLOLoss

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AlphaDropout", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss",
    "BCEWithLogitsLoss", "CELU", "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "CosineEmbeddingLoss",
    "CosineSimilarity", "CrossEntropyLoss", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU",
    "Embedding", "FeatureAlphaDropout", "Flatten", "Fold", "functional", "GELU", "GLU", "GroupNorm",
    "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "HuberLoss", "Identity", "init",
    "InstanceNorm1d", "InstanceNorm2d", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU", "Linear",
    "load", "LogSigmoid", "LogSoftmax", "MarginRankingLoss", "MaxPool1d", "MaxPool2d",
    "MaxUnpool1d", "MaxUnpool2d", "Mish", "models", "Module", "ModuleDict", "ModuleList", "MSELoss",
    "NLLLoss", "PairwiseDistance", "Parameter", "PixelShuffle", "PixelUnshuffle", "PoissonNLLLoss",
    "PReLU", "ReflectionPad1d", "ReflectionPad2d", "ReLU", "ReLU6", "ReplicationPad1d",
    "ReplicationPad2d", "save", "SELU", "Sequential", "Sigmoid", "SiLU", "SmoothL1Loss",
    "SoftMarginLoss", "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign", "summary", "Tanh",
    "Tanhshrink", "Threshold", "Unfold", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "SyncBatchNorm", "TripletMarginLoss", "utils", "YOLOLoss", "ZeroPad1d", "ZeroPad2d",
]  # fmt: skip
