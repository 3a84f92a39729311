"""`Linear`: the fully connected layer y = x W^T + b."""

import math

from autodiff import dtypes
from autodiff.creation import empty
from autodiff.device import check as check_device
from nn import functional as F
from nn import init
from nn.module import Module
from nn.parameter import Parameter


class Linear(Module):
    """y = x @ weight.T + bias, PyTorch's layout and initialisation.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output example.
    bias : bool
        Learn an additive bias.
    dtype : float32 or float64
        Of the parameters.

    Attributes
    ----------
    weight : Parameter `(out_features, in_features)`
        Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)).
    bias : Parameter `(out_features,)` or None
        U(-1/sqrt(in_features), 1/sqrt(in_features)).

    Shapes: input `(*, in_features)`, output `(*, out_features)`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, "Linear")
        dtype = dtypes.parameter_dtype(type(self).__name__, dtype)
        self.in_features = in_features
        self.out_features = out_features
        # an uninitialised tensor, shared by the Parameter: no copy of an array about to be drawn
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw weight and bias from PyTorch's default distributions (global generator)."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


def reset_weight_and_bias(weight, bias) -> None:
    """PyTorch's default for Linear and Conv2d: weight kaiming_uniform_(a=sqrt(5)), bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_features (* kh * kw)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = math.prod(weight.shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)
