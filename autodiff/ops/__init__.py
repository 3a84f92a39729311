"""Differentiable ops as functions of tensors; `Tensor` methods and operators call these.

Each module lists its public functions in `__all__`; this package re-exports all of them, so
`ops.sin` is `ops.unary.sin`. `TENSOR_OPS` are the modules whose functions PyTorch also has at
its top level (`torch.sin`, `torch.cat`): `autodiff` re-exports those. Losses, convolution,
pooling, normalisation and dropout live in `nn.functional` only, as in PyTorch.
"""

from autodiff.ops import (
    activation,
    conv,
    dropout,
    elementwise,
    linalg,
    loss,
    normalization,
    pool,
    reduce,
    shape,
)

TENSOR_OPS = (activation, elementwise, linalg, reduce, shape)
NN_OPS = (conv, dropout, loss, normalization, pool)

__all__ = [name for module in TENSOR_OPS + NN_OPS for name in module.__all__]
globals().update({name: getattr(m, name) for m in TENSOR_OPS + NN_OPS for name in m.__all__})
