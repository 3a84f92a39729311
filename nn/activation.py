"""Activation layers: thin modules around the functions of `nn.functional`, with PyTorch's class
names, constructor arguments and reprs.

`inplace=True` is accepted for code written for PyTorch; the result is always a new tensor and
the input is left as it is.
"""

import numpy as np

from autodiff import dtypes
from autodiff.device import check as check_device
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter


class _Pointwise(Module):
    """A layer applying `function` (an `nn.functional` function) with no argument but
    `inplace`, which is accepted and ignored."""

    function = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return type(self).function(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Pointwise):
    """max(x, 0) elementwise; the gradient at 0 is 0."""

    function = staticmethod(F.relu)


class ReLU6(_Pointwise):
    """min(max(x, 0), 6) elementwise."""

    function = staticmethod(F.relu6)


class SiLU(_Pointwise):
    """x * sigmoid(x) elementwise (swish)."""

    function = staticmethod(F.silu)


class SELU(_Pointwise):
    """scale * elu(x, alpha) with SELU's fixed constants."""

    function = staticmethod(F.selu)


class Mish(_Pointwise):
    """x * tanh(softplus(x)) elementwise."""

    function = staticmethod(F.mish)


class Hardsigmoid(_Pointwise):
    """relu6(x + 3) / 6 elementwise."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_Pointwise):
    """x * relu6(x + 3) / 6 elementwise."""

    function = staticmethod(F.hardswish)


class _Plain(Module):
    """A layer applying `function` with no arguments at all."""

    function = None

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return type(self).function(input)


class Sigmoid(_Plain):
    """1 / (1 + e^-x) elementwise."""

    function = staticmethod(F.sigmoid)


class Tanh(_Plain):
    """tanh(x) elementwise."""

    function = staticmethod(F.tanh)


class Softsign(_Plain):
    """x / (1 + |x|) elementwise."""

    function = staticmethod(F.softsign)


class Tanhshrink(_Plain):
    """x - tanh(x) elementwise."""

    function = staticmethod(F.tanhshrink)


class LogSigmoid(_Plain):
    """log(sigmoid(x)) elementwise, finite for any x."""

    function = staticmethod(F.logsigmoid)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace(self)


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self)


class CELU(ELU):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise."""

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.celu(input, self.alpha)


class GELU(Module):
    """x * Phi(x) (Phi the normal CDF), or its tanh approximation with approximate="tanh"."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]. Raises ValueError if min_val > max_val."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot exceed max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self)


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self)


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.softshrink(input, self.lambd)


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along `dim`."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`.

    `dim=None` picks PyTorch's legacy dim (0 for 0-, 1- and 3-d inputs, else 1) with a
    deprecation warning; pass it explicitly, e.g. `Softmax(dim=1)` for `(N, C)` scores.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Softmax):
    """softmax(-x) along `dim`."""

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.softmin(input, self.dim)


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed stably; pair it with `NLLLoss`."""

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.log_softmax(input, self.dim)


class PReLU(Module):
    """x for x > 0, weight * x otherwise, with a learned slope (one, or one per channel).

    Parameters
    ----------
    num_parameters : int
        1 (one slope shared by every channel) or the number of channels C (dim 1 of the input).
    init : float
        The initial slope.
    device : "cpu" or None.  dtype : float32 (default) or float64.

    Attributes
    ----------
    weight : Parameter `(num_parameters,)`, filled with `init`.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        check_device(device, "PReLU")
        self.num_parameters = num_parameters
        self.init = init
        dtype = dtypes.parameter_dtype("PReLU", dtype)
        self.weight = Parameter(np.empty(num_parameters, dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill the slopes with `init` again."""
        init.constant_(self.weight, self.init)

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _inplace(layer):
    return ", inplace=True" if layer.inplace else ""
