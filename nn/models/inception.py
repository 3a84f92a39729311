"""The Inception module and GoogLeNet (Szegedy et al., 2014), torchvision's layout.

`googlenet()` has torchvision's `state_dict` keys, shapes and order, so its weights load
directly (with torchvision installed; `tv_model` one of its models)::

    state = {k: v.numpy() for k, v in tv_model.state_dict().items()}
    nn.save(state, "googlenet.npz")
    model = googlenet(); model.load_state_dict(nn.load("googlenet.npz"))
"""

from collections import namedtuple

import autodiff
from nn import functional as F
from nn import init
from nn.container import Sequential
from nn.conv import Conv2d
from nn.dropout import Dropout
from nn.linear import Linear
from nn.models._args import positive_int
from nn.module import Module
from nn.norm import BatchNorm2d
from nn.pool import AdaptiveAvgPool2d, MaxPool2d

__all__ = ["BasicConv2d", "GoogLeNet", "GoogLeNetOutputs", "InceptionBlock", "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = """GoogLeNet's training-mode outputs with auxiliary heads: the main
logits and those of the heads after inception4d (aux2) and inception4a (aux1), each `(N,
num_classes)`, in torchvision's order."""


class BasicConv2d(Module):
    """Convolution without bias, batch norm (eps 0.001) and ReLU: `conv`, `bn`, torchvision's.

    Keyword arguments (kernel_size, stride, padding, ...) go to `Conv2d`. Shapes: `(N,
    in_channels, H, W)` -> `(N, out_channels, OH, OW)` as `Conv2d`.
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class InceptionBlock(Module):
    """The Inception module: four branches side by side, concatenated on the channels.

    Branches (torchvision's names): `branch1` a 1x1 convolution; `branch2` a 1x1 bottleneck
    to `ch3x3red` channels, then a 3x3; `branch3` a 1x1 bottleneck to `ch5x5red`, then a 5x5;
    `branch4` a 3x3 max pool (stride 1) then a 1x1. Each convolution is a `BasicConv2d`
    (conv, batch norm, ReLU) padded to keep H and W, so the outputs stack.

    The 1x1 bottlenecks are what make the module affordable. From the course: a 5x5 'same'
    convolution from 28x28x192 to 28x28x32 costs 28*28*32 * 5*5*192 = 120.4M multiply-adds;
    through a 1x1 to 16 channels first it is 28*28*16 * 192 + 28*28*32 * 5*5*16 = 2.4M + 10.0M
    = 12.4M, a tenth, with the same output shape. The pool branch's 1x1 keeps the pooled
    `in_channels` from dominating the concatenation.

    Parameters
    ----------
    in_channels : int
    ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
        Output channels of branch1; of branch2's bottleneck and 3x3; of branch3's bottleneck
        and last convolution; of branch4's 1x1.
    branch3_kernel_size : int
        5, the paper's and course's 5x5 (default); `googlenet()` passes 3, as torchvision's
        GoogLeNet does (its pretrained weights have 3x3 kernels there,
        pytorch/vision#906).

    Attributes
    ----------
    out_channels : int
        ch1x1 + ch3x3 + ch5x5 + pool_proj.

    Shapes: `(N, in_channels, H, W)` -> `(N, out_channels, H, W)`.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        *,
        branch3_kernel_size: int = 5,
    ):
        super().__init__()
        if branch3_kernel_size not in (3, 5):
            raise ValueError(
                f"InceptionBlock: branch3_kernel_size must be 3 or 5, got {branch3_kernel_size!r}"
            )
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(
                ch5x5red,
                ch5x5,
                kernel_size=branch3_kernel_size,
                padding=branch3_kernel_size // 2,
            ),
        )
        self.branch4 = Sequential(
            MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return autodiff.cat([branch(x) for branch in branches], dim=1)


class InceptionAux(Module):
    """An auxiliary classifier on an intermediate feature map, torchvision's: 4x4 average
    pool, 1x1 `BasicConv2d` to 128 channels, `fc1` to 1024 with ReLU, dropout, `fc2`.

    Shapes: `(N, in_channels, H, W)` -> `(N, num_classes)`.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = Linear(2048, 1024)
        self.fc2 = Linear(1024, num_classes)
        self.dropout = Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = F.relu(self.fc1(autodiff.flatten(x, 1)))
        return self.fc2(self.dropout(x))


class GoogLeNet(Module):
    """GoogLeNet (Inception v1): a stem of convolutions and pools, nine Inception modules,
    global average pooling, dropout and a linear classifier; see `googlenet`."""

    def __init__(
        self,
        num_classes: int = 1000,
        aux_logits: bool = False,
        transform_input: bool = False,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
    ):
        super().__init__()
        positive_int("googlenet", "num_classes", num_classes)
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        def inception(*channels):
            return InceptionBlock(*channels, branch3_kernel_size=3)

        # torchvision rounds the pooled sizes up (ceil_mode), as the original Caffe model does
        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.dropout = Dropout(p=dropout)
        self.fc = Linear(1024, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d | Linear):
                init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)

    def _transform_input(self, x):
        """Inputs normalised with mean 0.5 and std 0.5 per channel, re-normalised with
        ImageNet's statistics (what torchvision's pretrained weights expect)."""
        scales = ((0.229, 0.485), (0.224, 0.456), (0.225, 0.406))
        channels = [
            x[:, c : c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
            for c, (std, mean) in enumerate(scales)
        ]
        return autodiff.cat(channels, dim=1)

    def forward(self, x):
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        with_aux = self.training and self.aux_logits
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if with_aux else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(autodiff.flatten(self.avgpool(x), 1)))
        return GoogLeNetOutputs(x, aux2, aux1) if with_aux else x


def googlenet(
    num_classes: int = 1000,
    aux_logits: bool = False,
    transform_input: bool = False,
    dropout: float = 0.2,
    dropout_aux: float = 0.7,
) -> GoogLeNet:
    """GoogLeNet exactly as torchvision's `googlenet(weights=None, init_weights=True)`.

    The same modules in the same order (`conv1`, `maxpool1`, ..., `inception5b`, `aux1`,
    `aux2`, `avgpool`, `dropout`, `fc`), so `state_dict()` keys, shapes and order are
    torchvision's and its checkpoints load with `load_state_dict`. Like torchvision's, the
    "5x5" branch of each Inception module is a 3x3 convolution (see `InceptionBlock`), and the
    max pools round their output size up (`ceil_mode=True`). 6,624,904 parameters at 1000
    classes without the auxiliary heads, 13,004,888 with them.

    Parameters
    ----------
    num_classes : int
        Outputs of the classifier (and of the auxiliary heads).
    aux_logits : bool
        Add the auxiliary classifiers `aux1` (after inception4a) and `aux2` (after
        inception4d). In training mode the model then returns `GoogLeNetOutputs(logits,
        aux_logits2, aux_logits1)`; in eval mode the logits alone, as torchvision's.
    transform_input : bool
        Re-normalise inputs given with mean 0.5, std 0.5 to ImageNet's statistics; torchvision
        sets it for its ImageNet weights, so pass True when loading those.
    dropout, dropout_aux : float
        Dropout before the classifier and inside the auxiliary heads.

    Weights: convolution and linear weights from N(0, 0.01^2) truncated to [-2, 2], biases
    as `Linear`'s default, batch norm weight 1 and bias 0 (torchvision's `init_weights=True`).

    Shapes: `(N, 3, H, W)` -> `(N, num_classes)`; 224x224 in the paper, at least 15x15.
    """
    return GoogLeNet(num_classes, aux_logits, transform_input, dropout, dropout_aux)
