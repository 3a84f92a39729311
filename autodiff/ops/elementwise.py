"""Elementwise arithmetic and math: primitives with their gradient rules, and compositions.

Binary ops follow numpy broadcasting; their backward returns gradients in the broadcast shape
and the engine sums them back to each input's shape. A Python scalar operand is a constant
and never up-casts a float32 tensor (numpy's NEP 50 rules).
"""

import math

import numpy as np

from autodiff import kernels
from autodiff.function import Function

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "exp",
    "log",
    "sqrt",
    "abs",
    "maximum",
    "minimum",
    "clamp",
    "clamp_min",
    "clamp_max",
    "where",
    "clone",
    "to_dtype",
]


class Add(Function):
    """x + y."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Mul(Function):
    """x * y."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x, y):
        # each input only for the other's gradient: `y[0] * 3.0` keeps no view of y, so a later
        # write into y (`y[0] = ...`) does not invalidate this node, as in PyTorch
        ctx.save(x if ctx.needs_input_grad[1] else None, y if ctx.needs_input_grad[0] else None)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return (
            g * y if ctx.needs_input_grad[0] else None,
            g * x if ctx.needs_input_grad[1] else None,
        )


class Neg(Function):
    """-x."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Reciprocal(Function):
    """1 / x; its own rule so that division needs one saved array."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return -g * y * y


class Pow(Function):
    """x ** y, y a tensor or a constant. d/dy uses log(x), so x must be positive there (or 0).
    The square (y the constant 2) has a one-pass backward kernel."""

    @staticmethod
    def forward(ctx, x, y):
        out = x**y
        # the output only for y's gradient: a constant exponent keeps no extra array alive
        ctx.save(x, y, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved
        if isinstance(y, int | float) and y == 2:
            return kernels.elementwise.square_backward(g, x), None
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                gx = g * y * x ** (y - 1)
                if np.any(y == 0):  # 0 there, as in PyTorch (the formula gives nan at x == 0)
                    gx = np.where(y == 0, 0, gx)
            if ctx.needs_input_grad[1]:
                # 0 where x == 0 and y >= 0, as in PyTorch (the formula gives 0 * log(0) = nan)
                gy = np.where((x == 0) & (y >= 0), 0, g * out * np.log(x))
        return gx, gy


class Exp(Function):
    """e ** x."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y


class Log(Function):
    """Natural logarithm (-inf at 0, nan below, as numpy)."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / x


class Sqrt(Function):
    """Square root."""

    scalar_math = True

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g / (2 * y)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * np.sign(x)


class Maximum(Function):
    """Elementwise max of x and y; a tie splits the gradient in half, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return _split_by_winner(ctx, g, x > y, x == y)


class Minimum(Function):
    """Elementwise min of x and y; a tie splits the gradient in half, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return _split_by_winner(ctx, g, x < y, x == y)


def _split_by_winner(ctx, g, x_wins, tie):
    share = np.where(x_wins, 1, np.where(tie, 0.5, 0)).astype(g.dtype)
    return (
        g * share if ctx.needs_input_grad[0] else None,
        g * (1 - share) if ctx.needs_input_grad[1] else None,
    )


class Clamp(Function):
    """x limited to [low, high] (either may be None); gradient passes where low <= x <= high."""

    @staticmethod
    def forward(ctx, x, low=None, high=None):
        ctx.save(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        inside = np.ones(x.shape, bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return g * inside


class Where(Function):
    """x where `condition` else y; condition is a bool array (not differentiable)."""

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save(condition)
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        (condition,) = ctx.saved
        zero = np.zeros((), g.dtype)
        return (
            None,
            np.where(condition, g, zero) if ctx.needs_input_grad[1] else None,
            np.where(condition, zero, g) if ctx.needs_input_grad[2] else None,
        )


class Clone(Function):
    """A C-contiguous copy of x, in the graph (`clone()`, and `contiguous()` of a strided view)."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


class ToDtype(Function):
    """An explicit dtype conversion; the gradient is converted back by the engine."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g


def add(x, y, *, alpha=1):
    """x + alpha * y, in the dtype PyTorch's promotion gives (see `_args.result_type`)."""
    x, y = promote(x, y)
    return Add.apply(x, y if alpha == 1 else mul(y, alpha))


def sub(x, y, *, alpha=1):
    """x - alpha * y, composed as x + (-y); a constant y is negated directly."""
    x, y = promote(x, y)
    if alpha != 1:
        y = mul(y, alpha)
    return Add.apply(x, neg(y) if is_tensor(y) else -y)


def mul(x, y):
    """x * y elementwise, broadcast, in the dtype PyTorch's promotion gives."""
    x, y = promote(x, y)
    return Mul.apply(x, y)


def div(x, y, *, rounding_mode=None):
    """x / y, composed as x * (1 / y); a constant y is inverted directly.

    True division of integers gives float32, as in PyTorch; `rounding_mode` "trunc" or "floor"
    rounds the quotient instead (and keeps integer dtypes).
    """
    if rounding_mode is not None:
        return div_rounded(x, y, rounding_mode)
    x, y = promote_float(x, y)
    if is_tensor(y):
        return Mul.apply(x, Reciprocal.apply(y))
    if isinstance(y, int | float):
        # x / 0 is inf * sign(x) (nan at 0) in numpy; Python's 1 / 0 would raise instead
        return Mul.apply(x, 1 / y if y != 0 else math.inf)
    return Mul.apply(x, np.divide(1, y))  # an array, already of x's dtype


def neg(x):
    """-x elementwise."""
    return Neg.apply(x)


def pow(x, exponent):  # noqa: A001 - PyTorch's name
    """x ** exponent elementwise (a tensor or a number); d/d exponent needs x > 0 (or 0)."""
    x, exponent = promote(x, exponent)
    return Pow.apply(x, exponent)


def exp(x):
    """e ** x elementwise."""
    return Exp.apply(to_float(x))


def log(x):
    """Natural logarithm elementwise: -inf at 0, NaN below."""
    return Log.apply(to_float(x))


def sqrt(x):
    """Square root elementwise: NaN below 0, and an infinite gradient at 0."""
    return Sqrt.apply(to_float(x))


def abs(x):  # noqa: A001 - PyTorch's name
    """|x| elementwise; its gradient at 0 is 0, as in PyTorch."""
    if x.dtype == np.bool_:
        raise TypeError(f"abs: not defined for bool tensors (shape {x.shape})")
    return Abs.apply(x)


def maximum(x, y):
    """The larger of x and y elementwise (NaN if either is); a tie splits the gradient."""
    x, y = promote(x, y)
    return Maximum.apply(x, y)


def minimum(x, y):
    """The smaller of x and y elementwise (NaN if either is); a tie splits the gradient."""
    x, y = promote(x, y)
    return Minimum.apply(x, y)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """x limited to [min, max]; either bound may be None, a number or a tensor.

    Tensor bounds broadcast against x and receive the gradient where they are the result
    (x below `min`, above `max`), as in PyTorch.
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    x, *_ = promote(x, *(b for b in (min, max) if b is not None))
    if is_tensor(min) or is_tensor(max):
        out = x if min is None else where(x < min, min, x)
        return out if max is None else where(out > max, max, out)
    return Clamp.apply(x, low=min, high=max)


def clamp_min(x, min):  # noqa: A002 - PyTorch's name
    """max(x, min) elementwise."""
    return clamp(x, min=min)


def clamp_max(x, max):  # noqa: A002 - PyTorch's name
    """min(x, max) elementwise."""
    return clamp(x, max=max)


def where(condition, x=None, y=None):
    """Elementwise `x if condition else y`; condition is a bool tensor or array.

    With the condition alone, the indices where it holds: `nonzero(condition, as_tuple=True)`.
    """
    if x is None and y is None:
        return nonzero(condition, as_tuple=True)
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (for the indices)")
    cond = condition.data if is_tensor(condition) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be bool, got {cond.dtype} (shape {cond.shape})")
    x, y = promote(x, y)
    if not is_tensor(x) and not is_tensor(y):  # two scalars: numpy would choose float64
        x = Tensor(np.asarray(x, result_type(x, y)))
    return Where.apply(cond, x, y)


def clone(x):
    """A copy of x with its own array, in the graph (the gradient passes through)."""
    return Clone.apply(x)


def to_dtype(x, dtype):
    """x converted to `dtype` (a no-op, returning x, when it already has it).

    Only a cast to a float dtype is recorded: an integer or bool result is a constant, which
    never requires grad, as in PyTorch.
    """
    if x.dtype == dtype:
        return x
    if dtype.kind != "f":
        return Tensor._wrap(x.data.astype(dtype))
    return ToDtype.apply(x, dtype=dtype)


from autodiff.ops._args import (  # noqa: E402
    is_tensor,
    promote,
    promote_float,
    result_type,
    to_float,
)
from autodiff.ops.binary import div_rounded  # noqa: E402
from autodiff.ops.index import nonzero  # noqa: E402
from autodiff.tensor import Tensor  # noqa: E402
