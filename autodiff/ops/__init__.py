"""Differentiable ops as functions of tensors; `Tensor` methods and operators call these.

Each module lists its public functions in `__all__`; this package re-exports all of them, so
`ops.sin` is `ops.unary.sin`. `TENSOR_OPS` are the modules whose functions PyTorch also has at
its top level (`torch.sin`, `torch.cat`): `autodiff` re-exports those. Losses, convolution,
pooling, normalisation and dropout live in `nn.functional` only, as in PyTorch.

Where a module and one of its functions share a name (`softmax`, `dropout`, `einsum`), the
attribute here is the function; import the module by its path (`autodiff.ops.softmax`).
"""

from autodiff.ops import (
    activation,
    attention,
    binary,
    conv,
    diagonals,
    distance,
    dropout,
    einsum,
    elementwise,
    embedding,
    fold,
    index,
    linalg,
    logical,
    loss,
    loss_margin,
    loss_regression,
    movement,
    normalization,
    padding,
    pixel_shuffle,
    pool,
    reduce,
    resample,
    rounding,
    scan,
    shape,
    slicing,
    smooth_activation,
    softmax,
    sort,
    style_transfer,
    unary,
)

TENSOR_OPS = (
    activation,
    binary,
    diagonals,
    distance,
    einsum,
    elementwise,
    index,
    linalg,
    logical,
    movement,
    pixel_shuffle,
    reduce,
    rounding,
    scan,
    shape,
    slicing,
    softmax,
    sort,
    unary,
)
NN_OPS = (
    attention,
    conv,
    dropout,
    embedding,
    fold,
    loss,
    loss_margin,
    loss_regression,
    normalization,
    padding,
    pool,
    resample,
    smooth_activation,
    style_transfer,
)

__all__ = [name for module in TENSOR_OPS + NN_OPS for name in module.__all__]
globals().update({name: getattr(m, name) for m in TENSOR_OPS + NN_OPS for name in m.__all__})
