"""Elementwise math of two tensors: atan2, hypot, logaddexp, copysign, lerp, xlogy, addcmul,
addcdiv, and the rounded
divisions (`//`, `div(rounding_mode=)`) with their remainders (`%`, fmod).

Operands broadcast, and are promoted as PyTorch does (`_args.promote`); either may be a Python
number, a constant. atan2 and copysign compute integer operands in float32; hypot, logaddexp and
lerp take float tensors only, and the divisions and remainders keep integer dtypes (raising
ZeroDivisionError for an integer division by 0, where PyTorch raises too).
"""

import numpy as np

from autodiff.function import Function, _describe
from autodiff.ops import elementwise
from autodiff.ops._args import is_tensor, promote, promote_float, result_type

__all__ = [
    "atan2",
    "arctan2",
    "hypot",
    "logaddexp",
    "copysign",
    "lerp",
    "xlogy",
    "addcmul",
    "addcdiv",
    "floor_divide",
    "fmod",
    "remainder",
    "multiply",
    "divide",
    "subtract",
    "true_divide",
]

ROUNDING_MODES = ("trunc", "floor")


class Atan2(Function):
    """The angle of the point (y, x) (`atan2(input=x, other=y)`, the angle of x / y), in
    [-pi, pi]; the gradient at the origin is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        return np.arctan2(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        r2 = x * x + y * y
        with np.errstate(divide="ignore"):
            scale = g * np.where(r2 == 0, 0, 1 / r2)
        return (
            scale * y if ctx.needs_input_grad[0] else None,
            -scale * x if ctx.needs_input_grad[1] else None,
        )


class Hypot(Function):
    """sqrt(x**2 + y**2) without overflow in the squares (NaN gradient at the origin, as in
    PyTorch)."""

    @staticmethod
    def forward(ctx, x, y):
        out = np.hypot(x, y)
        ctx.save(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = g / out
        return (
            scale * x if ctx.needs_input_grad[0] else None,
            scale * y if ctx.needs_input_grad[1] else None,
        )


class LogAddExp(Function):
    """log(exp(x) + exp(y)) without overflow; each gradient is a sigmoid of the difference,
    PyTorch's formula, which gives 1 and 0 where x or y is infinite."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        with np.errstate(invalid="ignore"):  # numpy warns at NaN, though its results are right
            return np.logaddexp(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        with np.errstate(over="ignore", invalid="ignore"):
            return (
                g / (1 + np.exp(y - x)) if ctx.needs_input_grad[0] else None,
                g / (1 + np.exp(x - y)) if ctx.needs_input_grad[1] else None,
            )


class Copysign(Function):
    """|x| with the sign of y (-0.0 counts as negative). The gradient with respect to y is 0;
    with respect to x it is +-1, and 0 at x == 0 (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, y):
        out = np.copysign(x, y)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        gx = gy = None
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gx = g * np.where(x == 0, 0, out / x)
        if ctx.needs_input_grad[1]:
            gy = np.zeros_like(g)
        return gx, gy


class Lerp(Function):
    """x + w * (end - x), computed as PyTorch does: from x where |w| < 0.5, else from end, so
    that lerp(x, end, 1) is exactly end. Its own rule for that exactness."""

    @staticmethod
    def forward(ctx, x, end, w):
        ctx.save(x, end, w)
        diff = end - x
        return np.where(np.abs(w) < 0.5, x + w * diff, end - diff * (1 - w))

    @staticmethod
    def backward(ctx, g):
        x, end, w = ctx.saved
        return (
            g * (1 - w) if ctx.needs_input_grad[0] else None,
            g * w if ctx.needs_input_grad[1] else None,
            g * (end - x) if ctx.needs_input_grad[2] else None,
        )


class DivRounded(Function):
    """x / y rounded toward zero or down (`rounding_mode` "trunc" or "floor"). Piecewise
    constant in both operands, so both gradients are 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, y, rounding_mode):
        return _divide_rounded(x, y, rounding_mode)

    @staticmethod
    def backward(ctx, g):
        return (
            np.zeros_like(g) if ctx.needs_input_grad[0] else None,
            np.zeros_like(g) if ctx.needs_input_grad[1] else None,
        )


class Modulo(Function):
    """x - q * y, q the quotient x / y rounded by `rounding_mode`: "trunc" is fmod (the sign
    of x), "floor" is Python's `%` (the sign of y). numpy computes it exactly, where the
    composition would lose the digits of a large quotient. d/dx = 1, d/dy = -q, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, y, rounding_mode):
        ctx.save(x, y)
        ctx.rounding_mode = rounding_mode
        return np.fmod(x, y) if rounding_mode == "trunc" else np.remainder(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = -g * _divide_rounded(x, y, ctx.rounding_mode)
        return (g if ctx.needs_input_grad[0] else None), gy


class XLogY(Function):
    """x * log(y), and 0 where x == 0 (unless y is NaN), as in PyTorch: the entropy term
    p * log(p) is 0 at p = 0. Its own rule: composed, the gradient at x = y = 0 would be NaN."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        return _xlogy(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        gx = None
        if ctx.needs_input_grad[0]:  # PyTorch's rule: log(y), but 0 at x == 0 with y <= 0
            gx = np.where((x == 0) & (y <= 0), 0, _xlogy(g, y))
        with np.errstate(divide="ignore", invalid="ignore"):
            gy = g * x / y if ctx.needs_input_grad[1] else None
        return gx, gy


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0, x * np.log(y))


def _divide_rounded(x, y, rounding_mode):
    """x / y rounded toward zero ("trunc") or down ("floor"), in the operands' dtype."""
    if rounding_mode == "floor":
        return np.floor_divide(x, y)  # Python's `//`, for floats too
    if np.result_type(x, y).kind == "f":
        return np.trunc(np.true_divide(x, y))
    q = np.floor_divide(x, y)
    return q + ((q < 0) & (np.remainder(x, y) != 0))  # floor is one below trunc there


# ---- functionals ---------------------------------------------------------------------------------


def xlogy(input, other):
    """x * log(y) elementwise, and 0 where x == 0 (even at y == 0), NaN where y is NaN."""
    x, y = promote_float(input, other)
    # a Python number as an array of the tensor's dtype: np.log(2) alone is float64
    dtype = (x if is_tensor(x) else y).dtype
    return XLogY.apply(*(v if is_tensor(v) else np.asarray(v, dtype) for v in (x, y)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return elementwise.add(input, elementwise.mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    return elementwise.add(input, elementwise.div(tensor1, tensor2), alpha=value)


def atan2(input, other):
    """The angle of the point (other, input) in radians, in [-pi, pi]; float32 for integers."""
    return Atan2.apply(*promote_float(input, other))


def hypot(input, other):
    """sqrt(input**2 + other**2); float tensors only (TypeError for integers, as PyTorch)."""
    return Hypot.apply(*_float_operands("hypot", input, other))


def logaddexp(input, other):
    """log(exp(input) + exp(other)); float tensors only (TypeError for integers, as PyTorch)."""
    return LogAddExp.apply(*_float_operands("logaddexp", input, other))


def copysign(input, other):
    """|input| with the sign of other, elementwise; float32 for integer operands."""
    return Copysign.apply(*promote_float(input, other))


def lerp(input, end, weight):
    """input + weight * (end - input), as PyTorch computes it (exactly `end` at weight 1).

    Parameters
    ----------
    input, end : Tensor
        Float tensors of one dtype; shapes broadcast.
    weight : float or Tensor
        A number, or a float tensor broadcasting with them.

    Returns
    -------
    Tensor of the broadcast shape and input's dtype.
    """
    if not (is_tensor(input) and is_tensor(end)) or input.dtype != end.dtype:
        raise TypeError(
            f"lerp: input and end must be tensors of one dtype, got {_describe(input)} and "
            f"{_describe(end)}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"lerp: float tensors only, got {_describe(input)}")
    return Lerp.apply(*promote(input, end, weight))


def div_rounded(x, y, rounding_mode):
    """x / y rounded toward zero (`rounding_mode="trunc"`) or down ("floor"), elementwise.

    `div(x, y, rounding_mode=...)` calls this. Integer operands keep their integer dtype (and
    raise ZeroDivisionError for a division by 0); bool operands are refused; floats follow
    IEEE (x / 0 is +-inf, 0 / 0 NaN). The gradients are 0.
    """
    if rounding_mode not in ROUNDING_MODES:
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
        )
    return DivRounded.apply(*_division_operands("div", x, y), rounding_mode=rounding_mode)


def floor_divide(input, other):
    """input // other: the quotient rounded down, as Python's `//` (on floats too)."""
    x, y = _division_operands("floor_divide", input, other)
    return DivRounded.apply(x, y, rounding_mode="floor")


def fmod(input, other):
    """The remainder of input / other with the sign of input (C's fmod)."""
    x, y = _division_operands("fmod", input, other)
    return Modulo.apply(x, y, rounding_mode="trunc")


def remainder(input, other):
    """input % other: the remainder with the sign of other, as Python's `%`."""
    x, y = _division_operands("remainder", input, other)
    return Modulo.apply(x, y, rounding_mode="floor")


def _float_operands(op, x, y):
    """x and y promoted; a TypeError unless the result is a float dtype."""
    x, y = promote(x, y)
    if result_type(x, y).kind != "f":
        raise TypeError(f"{op}: float tensors only, got {_describe(x)} and {_describe(y)}")
    return x, y


def _division_operands(op, x, y):
    """x and y promoted for a rounded division; bool refused, integer division by 0 raised."""
    x, y = promote(x, y)
    kind = result_type(x, y).kind
    if kind == "b":
        raise TypeError(f"{op}: not defined for bool tensors ({_describe(x)}, {_describe(y)})")
    if kind != "f" and np.any(y.data == 0 if is_tensor(y) else np.equal(y, 0)):
        raise ZeroDivisionError(f"{op}: integer division by zero ({_describe(x)}, {_describe(y)})")
    return x, y


# ---- PyTorch's other names -----------------------------------------------------------------------

arctan2 = atan2
multiply = elementwise.mul
divide = elementwise.div
subtract = elementwise.sub
true_divide = elementwise.div
