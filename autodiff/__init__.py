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

import importlib

# isort: off
from autodiff.tensor import Tensor  # first: tensor.py binds methods of every ops module

# isort: on
from autodiff import aliases, backends, cuda, dtypes, linalg, ops, return_types, runtime
from autodiff.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from autodiff.autograd import grad
from autodiff.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from autodiff.device import device
from autodiff.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from autodiff.engine import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from autodiff.errors import DimError, ShapeError
from autodiff.function import Function
from autodiff.gradcheck import GradcheckError, gradcheck, numerical_grad
from autodiff.gradcheck_graph import gradcheck_graph, record_node_inputs
from autodiff.random import Generator, manual_seed
from autodiff.serialization import load, save

_TENSOR_OPS = {name: getattr(m, name) for m in ops.TENSOR_OPS for name in m.__all__}
globals().update(_TENSOR_OPS)
globals().update(dtypes.ALIASES)  # PyTorch's other dtype names: autodiff.long, autodiff.float


Size = tuple  # `x.shape` is a plain tuple; `torch.Size([2, 3]) == (2, 3)` holds here too


def is_tensor(obj) -> bool:
    """Whether `obj` is a `Tensor`."""
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:  # noqa: A002 - PyTorch's name
    """Whether `input`'s dtype is a floating one (float16, float32, float64)."""
    return input.is_floating_point()


def numel(input) -> int:  # noqa: A002 - PyTorch's name
    """The number of elements of `input`."""
    return input.numel()


def get_default_dtype():
    """float32: what Python floats and the creation functions give (not configurable)."""
    return float32


# nothing outside autodiff changes unless the user asked for it (autodiff/runtime.py)
runtime._from_environment()

__version__ = "0.1.0"

__all__ = [
    "arange", "as_tensor", "backends", "bool_", "cuda", "device", "DimError", "empty", "empty_like",
    "enable_grad", "eye", "float16", "float32", "float64", "from_numpy", "full", "full_like",
    "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "set_detect_anomaly",
    "Function", "Generator", "get_default_dtype", "grad", "gradcheck", "GradcheckError",
    "gradcheck_graph", "record_node_inputs",
    "inference_mode", "int16", "int32", "int64", "int8", "is_floating_point", "is_grad_enabled",
    "is_tensor", "linalg", "linspace", "load", "logspace", "manual_seed", "nn", "no_grad", "normal",
    "numel", "numerical_grad", "ones", "ones_like", "ops", "optim", "rand", "rand_like", "randint",
    "randn", "randn_like", "randperm", "return_types", "save", "set_grad_enabled", "ShapeError",
    "Size", "Tensor", "tensor", "uint8", "utils", "zeros", "zeros_like", *_TENSOR_OPS,
    *dtypes.ALIASES,
]  # fmt: skip

# PyTorch's paths to nn, optim and autodiff.data (autodiff/aliases.py), imported on first use:
# nn and optim are built on autodiff, so importing them here would import upwards
aliases.install()


# The toolkits above the core, also imported on first use: `import autodiff` stays quick.
_LAZY = ("nn", "optim", "utils", "distributed", "metrics", "tune", "vision", "viz")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"autodiff.{name}")
    raise AttributeError(f"module 'autodiff' has no attribute {name!r}")
