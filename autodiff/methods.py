"""The ops that are also `Tensor` methods, as torch.Tensor's are.

`x.sin()` is `ops.sin(x)`: every name in `FUNCTIONAL` (by the ops module that owns it) becomes a
method that is the op itself. `x.sin_()` is `ops.sin(x)` written into x: every name in
`IN_PLACE` gets such a `name_` method, through `Tensor._inplace` and its version checks. Methods
with behaviour of their own (operators, `to`, `zero_`, ...) are written out in tensor.py and
conversion.py.
"""

import importlib

from autodiff import ops
from autodiff.tensor import Tensor

FUNCTIONAL = {
    "activation": "relu sigmoid tanh prelu hardshrink",
    "softmax": "softmax log_softmax",
    "elementwise": "add sub mul div neg exp log sqrt abs clamp clamp_min clamp_max pow maximum "
    "minimum clone",
    "linalg": "matmul mm bmm mv dot vdot inner outer ger addmm addmv addbmm baddbmm kron norm",
    "reduce": "sum mean nansum nanmean prod max min amax amin aminmax var std logsumexp argmax "
    "argmin any all count_nonzero",
    "scan": "cumsum cumprod cummax cummin logcumsumexp",
    "sort": "sort argsort topk kthvalue median nanmedian mode unique",
    "shape": "reshape view flatten transpose permute squeeze unsqueeze expand unflatten swapaxes "
    "swapdims movedim moveaxis t broadcast_to index_put",
    "movement": "repeat tile repeat_interleave flip fliplr flipud roll rot90",
    "diagonals": "diagonal diag_embed diag trace tril triu",
    "index": "gather scatter scatter_add scatter_reduce index_select index_add index_copy "
    "index_fill masked_fill masked_select take take_along_dim nonzero",
    "slicing": "narrow select split chunk unbind unfold",
    "unary": "sin cos tan asin acos atan sinh cosh asinh acosh atanh erf erfc erfinv logit log2 "
    "log10 log1p exp2 expm1 reciprocal rsqrt square nan_to_num arcsin arccos arctan arcsinh "
    "arccosh arctanh negative absolute clip",
    "rounding": "floor ceil round trunc fix sign sgn frac",
    "binary": "atan2 arctan2 hypot logaddexp copysign lerp xlogy addcmul addcdiv floor_divide "
    "fmod remainder multiply divide subtract true_divide",
    "logical": "isnan isinf isfinite isclose allclose equal logical_and logical_or logical_xor "
    "logical_not bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift "
    "bitwise_right_shift",
}

IN_PLACE = (
    "add sub mul div multiply divide subtract true_divide pow neg negative abs absolute "
    "exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal square sin cos tan asin acos "
    "atan arcsin arccos arctan sinh cosh tanh asinh acosh atanh arcsinh arccosh arctanh "
    "atan2 arctan2 erf erfc erfinv sigmoid relu logit sign sgn floor ceil round trunc fix "
    "frac clamp clip clamp_min clamp_max nan_to_num hypot copysign lerp fmod remainder "
    "floor_divide xlogy addcmul addcdiv logical_and logical_or logical_xor logical_not "
    "bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift "
    "masked_fill index_fill index_add index_copy index_put scatter scatter_add "
    "scatter_reduce tril triu cumsum cumprod"
)


def _inplace_method(name):
    """The method `x.name_(...)`: op `name` applied to x, written into x."""
    op = getattr(ops, name)

    def method(self, *args, **kwargs):
        return self._inplace(f"{name}_", op, *args, **kwargs)

    method.__name__ = f"{name}_"
    method.__qualname__ = f"Tensor.{name}_"
    method.__doc__ = f"In place: `{name}(x, ...)` written into x; returns x."
    return method


for _module, _names in FUNCTIONAL.items():
    _ops = importlib.import_module(f"autodiff.ops.{_module}")
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_ops, _name))

for _name in IN_PLACE.split():
    setattr(Tensor, f"{_name}_", _inplace_method(_name))
