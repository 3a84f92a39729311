"""autodiff: reverse-mode automatic differentiation on a dynamic graph, PyTorch-style.

>>> import autodiff as ad
>>> a = ad.tensor(5.0, requires_grad=True)
>>> b = ad.tensor(3.0, requires_grad=True)
>>> c = ad.tensor(2.0, requires_grad=True)
>>> J = 3 * (a + b * c)
>>> J.backward()
>>> J.item(), a.grad.item(), b.grad.item(), c.grad.item()
(33.0, 3.0, 6.0, 9.0)
"""

from autodiff import memory, ops
from autodiff.autograd import grad
from autodiff.creation import (
    arange,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from autodiff.dtypes import bool_, float32, float64, int32, int64, uint8
from autodiff.engine import enable_grad, is_grad_enabled, no_grad
from autodiff.function import Function
from autodiff.gradcheck import GradcheckError, gradcheck, numerical_grad
from autodiff.ops import (
    abs,
    cat,
    clamp,
    exp,
    log,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    minimum,
    relu,
    sigmoid,
    softmax,
    sqrt,
    stack,
    tanh,
    where,
)
from autodiff.random import manual_seed
from autodiff.tensor import Tensor

memory.keep_freed_memory()

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "abs", "arange", "bool_", "cat", "clamp",
    "enable_grad", "exp", "eye", "float32", "float64", "full", "grad", "gradcheck", "int32",
    "int64", "is_grad_enabled", "log", "log_softmax", "logsumexp", "manual_seed", "matmul",
    "maximum", "minimum", "no_grad", "numerical_grad", "ones", "ones_like", "ops", "rand",
    "randn", "relu", "sigmoid", "softmax", "sqrt", "stack", "tanh", "tensor", "uint8", "where",
    "zeros", "zeros_like",
]  # fmt: skip
