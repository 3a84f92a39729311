"""Neural-network building blocks, as `torch.nn`: Module, Parameter, layers, init and saving.

>>> import nn
>>> import nn.functional as F
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from nn import functional, init
from nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.container import ModuleDict, ModuleList, Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Linear
from nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from nn.module import Module
from nn.norm import BatchNorm1d, BatchNorm2d
from nn.parameter import Parameter
from nn.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nn.serialization import load, save
from nn.shape import Flatten, Identity

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "L1Loss",
    "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh",
    "functional", "init", "load", "save",
]  # fmt: skip
