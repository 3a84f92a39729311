"""Op-table entries for autodiff/ops/{elementwise,activation,reduce,shape,linalg}.py."""

import numpy as np

import autodiff as ad
from autodiff import ops
from autodiff.ops.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from autodiff.ops.elementwise import (
    Abs,
    Add,
    Clamp,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Reciprocal,
    Sqrt,
    ToDtype,
    Where,
)
from autodiff.ops.linalg import Linear, MatMul
from autodiff.ops.padding import Pad
from autodiff.ops.reduce import Extreme, LogSumExp, Std, Sum
from autodiff.ops.shape import (
    AdvancedIndex,
    BasicIndex,
    Cat,
    Expand,
    IndexPut,
    Permute,
    Reshape,
)
from autodiff.ops.softmax import LogSoftmax, Softmax
from tests.ops.harness import (
    OpSpec,
    away_from,
    distinct,
    grid,
    mask,
    nonzero,
    normal,
    positive,
    sample,
    torch,
)

UNARY = (
    sample(()),
    sample((1, 3)),
    sample((4, 3), t=(0,)),
    sample((2, 1, 3), t=(0,)),
    sample((2, 3, 4)),
)
BINARY = (
    sample((), ()),
    sample((3, 4), (3, 4)),
    sample((3, 4), (4,)),
    sample((), (2, 3)),
    sample((3, 1), (1, 4)),
    sample((2, 3, 4), (3, 1)),
    sample((4, 3), (4, 3), t=(0, 1)),
    sample((4, 3), (3,), t=(0,)),
)
NO_BROADCAST = "takes one tensor"


def _unary(name, fn, ref, torch_fn, covers, domain=normal, **extra):
    exempt = {"broadcast": NO_BROADCAST}
    return OpSpec(name, fn, ref, torch_fn, covers, UNARY, domain, exempt=exempt, **extra)


def _binary(name, fn, ref, torch_fn, covers, domain=normal, **extra):
    return OpSpec(name, fn, ref, torch_fn, covers, BINARY, domain, **extra)


# ---- numpy references ----------------------------------------------------------------------------


def _np_axis(x, dim):
    """numpy's axis for torch's dim: a 0-d tensor accepts dim 0 and -1 in torch."""
    return None if x.ndim == 0 else dim


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_logsumexp(x, dim=None, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    y = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return y if keepdim else np.squeeze(y, axis=dim) if x.ndim else y.reshape(())


def _np_softmax(x, dim=-1):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _np_log_softmax(x, dim=-1):
    return x - _np_logsumexp(x, dim, keepdim=True)


def _np_var(x, dim=None, keepdim=False, correction=1):
    n = x.size if dim is None else np.prod([x.shape[d] for d in np.atleast_1d(dim)])
    d = x - np.mean(x, axis=dim, keepdims=True)
    return np.sum(d * d, axis=dim, keepdims=keepdim) / (n - correction)


def _np_round_to_float32(x):
    return x.astype(np.float32).astype(x.dtype)


def _np_index_put(x, v, index):
    out = x.copy()
    out[index] = v
    return out


def _np_pad(x, pad, value=0):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(x, widths, constant_values=value)


def _np_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :])


def _np_squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=dim) if x.ndim and x.shape[dim] == 1 else x


def _np_swap(x, dim0, dim1):
    return np.swapaxes(x, dim0, dim1) if x.ndim else x


# ---- torch equivalents that need more than one call ----------------------------------------------


def _t_dims(x, dim):
    """torch's spelling of "every dim" for ops that need one."""
    return tuple(range(x.ndim)) if dim is None else dim


def _t_sum(x, dim=None, keepdim=False):
    return x.sum(dim=_t_dims(x, dim), keepdim=keepdim) if x.ndim else x.sum()


def _t_mean(x, dim=None, keepdim=False):
    return x.mean(dim=_t_dims(x, dim), keepdim=keepdim) if x.ndim else x.mean()


def _t_index_put(x, v, index):
    out = x.clone()
    out[_t_index(index)] = v
    return out


def _t_index(index):
    if isinstance(index, tuple):
        return tuple(_t_index(i) for i in index)
    return torch.from_numpy(index) if isinstance(index, np.ndarray) else index


def _t_where(x, y, condition):
    return torch.where(torch.from_numpy(condition), x, y)


def _t_cat(*xs, dim=0):
    return torch.cat(xs, dim)


def _t_stack(*xs, dim=0):
    return torch.stack(xs, dim)


def _t_to_dtype(x):
    return x.to(torch.float64).to(x.dtype)


# ---- autodiff calls that are not a plain functional ----------------------------------------------


def _where(x, y, condition):
    return ad.where(condition, x, y)


def _index_put(x, v, index):
    return ops.index_put(x, index, v)


def _cat(*xs, dim=0):
    return ad.cat(xs, dim)


def _stack(*xs, dim=0):
    return ad.stack(xs, dim)


def _to_dtype(x):
    """float32 -> float64 -> float32 (or the other way round): two ToDtype nodes."""
    other = ad.float64 if x.dtype == ad.float32 else ad.float32
    return ops.to_dtype(ops.to_dtype(x, other), x.dtype)


REDUCE = (
    sample(()),
    sample((3, 4)),
    sample((3, 4), dim=1),
    sample((3, 4), dim=0, keepdim=True),
    sample((2, 3, 4), dim=(0, 2)),
    sample((2, 3, 4), dim=-1, keepdim=True),
    sample((4, 3), t=(0,), dim=-1),
    sample((1, 3), dim=1, keepdim=True),
    sample((), dim=0),
)
VAR = (
    sample((), correction=0),
    sample((3, 4)),
    sample((3, 4), dim=1),
    sample((3, 4), dim=0, keepdim=True, correction=0),
    sample((2, 3, 4), dim=(0, 2)),
    sample((4, 3), t=(0,), dim=-1),
    sample((1, 3), dim=1, keepdim=True),
)
SOFTMAX = (
    sample((), dim=0),
    sample((1, 3), dim=-1),
    sample((1, 3), dim=0),
    sample((3, 4), dim=0),
    sample((2, 3, 4), dim=1),
    sample((4, 3), t=(0,), dim=1),
)

SPECS = [
    # ---- elementwise -----------------------------------------------------------------------------
    _binary("add", ad.ops.add, np.add, lambda x, y: x + y, (Add,)),
    _binary("sub", ad.ops.sub, np.subtract, lambda x, y: x - y, (Add, Neg)),
    _binary("mul", ad.ops.mul, np.multiply, lambda x, y: x * y, (Mul,)),
    _binary("div", ad.ops.div, np.divide, lambda x, y: x / y, (Mul, Reciprocal), (normal, nonzero)),
    _binary("pow", ad.ops.pow, np.power, lambda x, y: x**y, (Pow,), (positive, normal), rtol=3e-5),
    _binary(
        "maximum",
        ad.maximum,
        np.maximum,
        lambda x, y: torch.maximum(x, y),
        (Maximum,),
        (grid(0), grid(0.1)),
    ),
    _binary(
        "minimum",
        ad.minimum,
        np.minimum,
        lambda x, y: torch.minimum(x, y),
        (Minimum,),
        (grid(0), grid(0.1)),
    ),
    _unary("neg", ad.ops.neg, np.negative, lambda x: -x, (Neg,)),
    _unary("exp", ad.exp, np.exp, lambda x: torch.exp(x), (Exp,)),
    _unary("log", ad.log, np.log, lambda x: torch.log(x), (Log,), positive),
    _unary("sqrt", ad.sqrt, np.sqrt, lambda x: torch.sqrt(x), (Sqrt,), positive),
    _unary("abs", ad.abs, np.abs, lambda x: torch.abs(x), (Abs,), away_from(0.0)),
    _unary(
        "to_dtype",
        _to_dtype,
        _np_round_to_float32,
        _t_to_dtype,
        (ToDtype,),
        gradcheck_kw={"eps": 1e-3},
    ),
    OpSpec(
        "pow_scalar",
        ad.ops.pow,
        lambda x, exponent: np.power(x, exponent),
        lambda x, exponent: x**exponent,
        (Pow,),
        (
            sample((), exponent=3),
            sample((1, 3), exponent=0.5),
            sample((3, 4), exponent=2),
            sample((4, 3), t=(0,), exponent=-1.5),
            sample((2, 3), exponent=0),
        ),
        positive,
        exempt={"broadcast": "the exponent is a Python number"},
    ),
    OpSpec(
        "rpow",
        lambda x, base: base**x,
        lambda x, base: np.power(base, x),
        lambda x, base: base**x,
        (Pow,),
        (sample((), base=2.0), sample((1, 3), base=0.5), sample((4, 3), t=(0,), base=3)),
        exempt={"broadcast": "the base is a Python number"},
    ),
    OpSpec(
        "clamp",
        ad.clamp,
        lambda x, min=None, max=None: np.clip(x, min, max),
        lambda x, min=None, max=None: x.clamp(min=min, max=max),
        (Clamp,),
        (
            sample((), min=-0.5),
            sample((1, 3), max=0.5),
            sample((3, 4), min=-0.5, max=0.5),
            sample((4, 3), t=(0,), min=-0.5, max=0.5),
        ),
        away_from(-0.5, 0.5),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "where",
        _where,
        lambda x, y, condition: np.where(condition, x, y),
        _t_where,
        (Where,),
        (
            sample((), (), condition=mask(())),
            sample((3, 4), (3, 4), condition=mask((3, 4))),
            sample((3, 1), (4,), condition=mask((2, 3, 4))),
            sample((1, 4), (3, 1), condition=mask((4,))),
            sample((), (3, 4), condition=mask((3, 4), seed=1)),
            sample((4, 3), (4, 3), t=(0, 1), condition=mask((4, 3))),
        ),
    ),
    # ---- activations -----------------------------------------------------------------------------
    _unary(
        "relu",
        ad.relu,
        lambda x: np.maximum(x, 0),
        lambda x: torch.relu(x),
        (ReLU,),
        away_from(0.0),
    ),
    OpSpec(
        "leaky_relu",
        ad.ops.leaky_relu,
        lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
        lambda x, negative_slope=0.01: torch.nn.functional.leaky_relu(x, negative_slope),
        (LeakyReLU,),
        UNARY + (sample((3, 4), negative_slope=0.2),),
        away_from(0.0),
        exempt={"broadcast": NO_BROADCAST},
    ),
    _unary("sigmoid", ad.sigmoid, _np_sigmoid, lambda x: torch.sigmoid(x), (Sigmoid,)),
    _unary("tanh", ad.tanh, np.tanh, lambda x: torch.tanh(x), (Tanh,)),
    OpSpec(
        "softmax",
        ad.softmax,
        _np_softmax,
        lambda x, dim=-1: torch.softmax(x, dim),
        (Softmax,),
        SOFTMAX,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "log_softmax",
        ad.log_softmax,
        _np_log_softmax,
        lambda x, dim=-1: torch.log_softmax(x, dim),
        (LogSoftmax,),
        SOFTMAX,
        exempt={"broadcast": NO_BROADCAST},
    ),
    # ---- reductions ------------------------------------------------------------------------------
    OpSpec(
        "sum",
        ad.ops.sum,
        lambda x, dim=None, keepdim=False: np.sum(x, axis=_np_axis(x, dim), keepdims=keepdim),
        _t_sum,
        (Sum,),
        REDUCE,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "mean",
        ad.ops.mean,
        lambda x, dim=None, keepdim=False: np.mean(x, axis=_np_axis(x, dim), keepdims=keepdim),
        _t_mean,
        (Sum, Mul),
        REDUCE,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "amax",
        ad.amax,
        lambda x, dim=None, keepdim=False: np.max(x, axis=_np_axis(x, dim), keepdims=keepdim),
        lambda x, dim=None, keepdim=False: x.amax(dim=_t_dims(x, dim), keepdim=keepdim),
        (Extreme,),
        REDUCE,
        distinct,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "amin",
        ad.amin,
        lambda x, dim=None, keepdim=False: np.min(x, axis=_np_axis(x, dim), keepdims=keepdim),
        lambda x, dim=None, keepdim=False: x.amin(dim=_t_dims(x, dim), keepdim=keepdim),
        (Extreme,),
        REDUCE,
        distinct,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "logsumexp",
        ad.logsumexp,
        _np_logsumexp,
        lambda x, dim=None, keepdim=False: torch.logsumexp(x, _t_dims(x, dim), keepdim),
        (LogSumExp,),
        REDUCE,
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "var",
        ad.ops.var,
        _np_var,
        lambda x, dim=None, keepdim=False, correction=1: x.var(
            dim=dim, keepdim=keepdim, correction=correction
        ),
        (Sum, Mul, Add, Neg),
        VAR,
        exempt={"broadcast": NO_BROADCAST},
        rtol=1e-4,
    ),
    OpSpec(
        "std",
        ad.ops.std,
        lambda x, **kw: np.sqrt(_np_var(x, **kw)),
        lambda x, dim=None, keepdim=False, correction=1: x.std(
            dim=dim, keepdim=keepdim, correction=correction
        ),
        (Std,),
        VAR,
        exempt={"broadcast": NO_BROADCAST},
        rtol=1e-4,
    ),
    # ---- shape -----------------------------------------------------------------------------------
    OpSpec(
        "reshape",
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        (Reshape,),
        (
            sample((), shape=(1, 1)),
            sample((3, 4), shape=(2, 6)),
            sample((3, 4), shape=(-1,)),
            sample((1, 3), shape=(3, 1, 1)),
            sample((4, 3), t=(0,), shape=(2, -1)),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "view",
        lambda x, shape: x.view(*shape),
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
        (Reshape,),
        (sample((), shape=(1,)), sample((1, 6), shape=(2, 3)), sample((4, 3), t=(0,), shape=(12,))),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "flatten",
        ad.ops.flatten,
        _np_flatten,
        lambda x, start_dim=0, end_dim=-1: x.flatten(start_dim, end_dim),
        (Reshape,),
        (
            sample(()),
            sample((2, 1, 3)),
            sample((2, 3, 4), start_dim=1),
            sample((2, 3, 4, 1), start_dim=1, end_dim=2),
            sample((4, 3), t=(0,)),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "squeeze",
        ad.ops.squeeze,
        _np_squeeze,
        lambda x, dim=None: x.squeeze() if dim is None else x.squeeze(dim),
        (Reshape,),
        (
            sample(()),
            sample((1, 3, 1)),
            sample((1, 3, 1), dim=-1),
            sample((2, 1, 3), dim=1),
            sample((2, 3), dim=0),
            sample((3, 1, 4), t=(0,), dim=1),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "unsqueeze",
        ad.ops.unsqueeze,
        lambda x, dim: np.expand_dims(x, dim),
        lambda x, dim: x.unsqueeze(dim),
        (Reshape,),
        (
            sample((), dim=0),
            sample((1, 3), dim=1),
            sample((2, 3), dim=-1),
            sample((4, 3), t=(0,), dim=0),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "expand",
        lambda x, sizes: x.expand(*sizes),
        lambda x, sizes: np.broadcast_to(
            x, [n if n != -1 else x.shape[i] for i, n in enumerate(sizes)]
        ),
        lambda x, sizes: x.expand(*sizes),
        (Expand,),
        (
            sample((), sizes=(2, 3)),
            sample((3, 1), sizes=(2, 3, 4)),
            sample((1, 4), sizes=(3, -1)),
            sample((4, 1, 3), t=(0,), sizes=(4, 2, 3)),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "permute",
        lambda x, dims: x.permute(*dims),
        lambda x, dims: np.transpose(x, dims),
        lambda x, dims: x.permute(dims),
        (Permute,),
        (
            sample((), dims=()),
            sample((1, 3), dims=(1, 0)),
            sample((2, 3, 4), dims=(2, 0, 1)),
            sample((2, 3, 4), t=(0,), dims=(0, 2, 1)),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "transpose",
        ad.ops.transpose,
        _np_swap,
        lambda x, dim0, dim1: x.transpose(dim0, dim1),
        (Permute,),
        (
            sample((), dim0=0, dim1=-1),
            sample((1, 3), dim0=0, dim1=1),
            sample((2, 3, 4), dim0=-1, dim1=0),
            sample((4, 3), t=(0,), dim0=0, dim1=1),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "T",
        lambda x: x.T,
        lambda x: x.T,
        lambda x: x.permute(tuple(reversed(range(x.ndim)))),
        (Permute,),
        (sample(()), sample((1, 3)), sample((3,)), sample((2, 3, 4), t=(0,))),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "getitem",
        lambda x, index: x[index],
        lambda x, index: x[index],
        lambda x, index: x[index],
        (BasicIndex,),
        (
            sample((), index=()),
            sample((), index=None),
            sample((1, 3), index=0),
            sample((4, 3), index=(slice(1, 3), -1)),
            sample((2, 3, 4), index=(Ellipsis, None, slice(None, None, 2))),
            sample((4, 3), t=(0,), index=(slice(None), slice(1, None))),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "getitem_advanced",
        lambda x, index: x[index],
        lambda x, index: x[index],
        lambda x, index: x[_t_index(index)],
        (AdvancedIndex,),
        (
            sample((5, 3), index=np.array([0, 2, 2, 4])),
            sample((3, 4), index=mask((3, 4))),
            sample((1, 3), index=(np.array([0, 0]), np.array([2, 1]))),
            sample((4, 3), t=(0,), index=(np.array([[0, 1], [3, 3]]), slice(None))),
            sample((), index=np.array(True)),
        ),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "index_put",
        _index_put,
        _np_index_put,
        _t_index_put,
        (IndexPut,),
        (
            sample((), (), index=()),
            sample((4, 3), (3,), index=1),
            sample((4, 3), (1, 3), index=1),
            sample((4, 3), (), index=(slice(1, 3),)),
            sample((4, 3), (1, 3), index=np.array([0, 2])),
            sample((3, 4), (), index=mask((3, 4))),
            sample((4, 3), (2, 3), t=(0,), index=slice(0, 2)),
        ),
    ),
    OpSpec(
        "cat",
        _cat,
        lambda *xs, dim=0: np.concatenate(xs, axis=dim),
        _t_cat,
        (Cat,),
        (
            sample((2, 3), (4, 3)),
            sample((2, 3), (2, 1), dim=1),
            sample((1,), (3,), (2,)),
            sample((3, 4), (2, 4), t=(0,)),
            sample((2, 3, 4), (2, 1, 4), dim=-2),
        ),
        exempt={
            "scalar": "cat joins along an existing dim (0-d tensors have none), as in torch",
            "broadcast": "cat does not broadcast; its inputs differ in the joined dim",
        },
    ),
    OpSpec(
        "stack",
        _stack,
        lambda *xs, dim=0: np.stack(xs, axis=dim),
        _t_stack,
        (Cat, Reshape),
        (
            sample((), ()),
            sample((2, 3), (2, 3), dim=1),
            sample((1, 3), (1, 3), (1, 3), dim=-1),
            sample((4, 3), (4, 3), t=(0,)),
        ),
        exempt={"broadcast": "stack needs inputs of one shape, as in torch"},
    ),
    OpSpec(
        "pad",
        ad.ops.pad,
        _np_pad,
        lambda x, pad, value=0: torch.nn.functional.pad(x, pad, value=value),
        (Pad,),
        (
            sample((3,), pad=(1, 2)),
            sample((1, 3), pad=(1, 1, 0, 2)),
            sample((2, 3, 4), pad=(0, 1), value=0.5),
            sample((4, 3), t=(0,), pad=(2, 0, 1, 1)),
        ),
        exempt={
            "scalar": "padding needs a dim (torch refuses 0-d)",
            "broadcast": NO_BROADCAST,
        },
    ),
    # ---- linalg ----------------------------------------------------------------------------------
    OpSpec(
        "matmul",
        ad.matmul,
        np.matmul,
        lambda x, y: torch.matmul(x, y),
        (MatMul,),
        (
            sample((3, 4), (4, 2)),
            sample((4,), (4, 2)),
            sample((3, 4), (4,)),
            sample((4,), (4,)),
            sample((1, 4), (4, 1)),
            sample((2, 3, 4), (4, 5)),
            sample((3,), (2, 3, 4)),
            sample((2, 1, 3, 4), (5, 4, 2)),
            sample((4, 3), (3, 2), t=(0, 1)),
        ),
        rtol=1e-4,
        exempt={"scalar": "matmul refuses 0-d operands, as torch does"},
    ),
    OpSpec(
        "linear",
        ad.ops.linear,
        lambda x, w, b=None: x @ w.T + (0 if b is None else b),
        lambda x, w, b=None: torch.nn.functional.linear(x, w, b),
        (Linear,),
        (
            sample((3, 4), (2, 4), (2,)),
            sample((4,), (1, 4), (1,)),
            sample((2, 3, 4), (5, 4)),
            sample((4, 3), (2, 3), (2,), t=(0, 1)),
        ),
        rtol=1e-4,
        exempt={"scalar": "linear needs (*, in_features) input, as torch does"},
    ),
]
