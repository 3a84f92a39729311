"""autodiff: reverse-mode automatic differentiation on a dynamic graph, PyTorch-style.

>>> import autodiff as ad
>>> a = ad.tensor(5.0, requires_grad=True)
>>> b = ad.tensor(3.0, requires_grad=True)
>>> c = ad.tensor(2.0, requires_grad=True)
>>> J = 3 * (a + b * c)
>>> J.backward()
>>> J.item(), a.grad.item(), b.grad.item(), c.grad.item()
(33.0, 3.0, 6.0, 9.0)

`import autodiff as torch` carries most PyTorch scripts: the tensor ops are here under
PyTorch's names, and `autodiff.nn`, `autodiff.nn.functional`, `autodiff.optim` and
`autodiff.utils.data` are the packages `nn`, `nn.functional`, `optim` and `autodiff.data`.
"""

# isort: off
from autodiff.tensor import Tensor  # first: tensor.py binds methods of every ops module

# isort: on
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
from autodiff.random import manual_seed

_TENSOR_OPS = {name: getattr(m, name) for m in ops.TENSOR_OPS for name in m.__all__}
globals().update(_TENSOR_OPS)

memory.keep_freed_memory()

__version__ = "0.1.0"

__all__ = [
    "Function", "GradcheckError", "Tensor", "arange", "bool_", "enable_grad", "eye", "float32",
    "float64", "full", "grad", "gradcheck", "int32", "int64", "is_grad_enabled", "manual_seed",
    "no_grad", "numerical_grad", "ones", "ones_like", "ops", "rand", "randn", "tensor", "uint8",
    "zeros", "zeros_like", *_TENSOR_OPS,
]  # fmt: skip
