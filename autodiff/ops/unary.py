"""Elementwise math of one tensor: trigonometric, hyperbolic, exponential and logarithmic
functions, erf, square and nan_to_num (the rounding functions are in rounding.py).

Dtypes follow PyTorch: the float functions (sin, erf, log2, reciprocal, ...) compute an integer
or bool tensor in float32; square keeps integer dtypes (square of bool is int64). Every output
has the input's shape.

Each op with a gradient rule of its own is a `Function` below; those compute in one numpy ufunc
what a composition would lose digits on (log2(8) is exactly 3, expm1 and log1p near 0). rsqrt,
square and nan_to_num are compositions.
"""

import math

import numpy as np

from autodiff import dtypes
from autodiff.function import Function
from autodiff.kernels import special
from autodiff.ops import elementwise
from autodiff.ops._args import to_float

__all__ = [
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "erf",
    "erfc",
    "erfinv",
    "logit",
    "log2",
    "log10",
    "log1p",
    "exp2",
    "expm1",
    "reciprocal",
    "rsqrt",
    "square",
    "nan_to_num",
    "arcsin",
    "arccos",
    "arctan",
    "arcsinh",
    "arccosh",
    "arctanh",
    "negative",
    "absolute",
    "clip",
]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# ---- trigonometric -------------------------------------------------------------------------------


class Sin(Function):
    """sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * np.cos(x)


class Cos(Function):
    """cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return -g * np.sin(x)


class Tan(Function):
    """tan(x); the derivative 1 + tan(x)**2 comes from the saved output."""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * (1 + y * y)


class Asin(Function):
    """arcsin(x), NaN outside [-1, 1]."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / np.sqrt(1 - x * x)


class Acos(Function):
    """arccos(x), NaN outside [-1, 1]; its own ufunc, since pi/2 - asin(x) cancels near 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return -g / np.sqrt(1 - x * x)


class Atan(Function):
    """arctan(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / (1 + x * x)


# ---- hyperbolic ----------------------------------------------------------------------------------


class Sinh(Function):
    """sinh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * np.cosh(x)


class Cosh(Function):
    """cosh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * np.sinh(x)


class Asinh(Function):
    """arsinh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / np.sqrt(x * x + 1)


class Acosh(Function):
    """arcosh(x), NaN below 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / np.sqrt(x * x - 1)


class Atanh(Function):
    """artanh(x), +-inf at +-1 and NaN outside [-1, 1]."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / (1 - x * x)


# ---- error function ------------------------------------------------------------------------------


class Erf(Function):
    """The error function, from a numba kernel (numpy has none)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * (_TWO_OVER_SQRT_PI * np.exp(-x * x))


class Erfc(Function):
    """1 - erf(x), from a kernel of its own: the difference loses every digit for large x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return special.erfc(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x))


class ErfInv(Function):
    """The inverse of erf, from a kernel; d/dx erfinv(x) = sqrt(pi) / 2 * exp(erfinv(x)**2)."""

    @staticmethod
    def forward(ctx, x):
        y = special.erfinv(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * (np.exp(y * y) / _TWO_OVER_SQRT_PI)


# ---- exponential and logarithm -------------------------------------------------------------------


class Log2(Function):
    """log2(x): -inf at 0, NaN below."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / (x * math.log(2))


class Log10(Function):
    """log10(x): -inf at 0, NaN below."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / (x * math.log(10))


class Log1p(Function):
    """log(1 + x), accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g / (1 + x)


class Exp2(Function):
    """2 ** x, exact at integers."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y * math.log(2)


class Expm1(Function):
    """exp(x) - 1, accurate for small x."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * (y + 1)


# ---- functionals ---------------------------------------------------------------------------------


def sin(input):
    """sin(x) elementwise; integer and bool tensors compute in float32."""
    return Sin.apply(to_float(input))


def cos(input):
    """cos(x) elementwise; integer and bool tensors compute in float32."""
    return Cos.apply(to_float(input))


def tan(input):
    """tan(x) elementwise; integer and bool tensors compute in float32."""
    return Tan.apply(to_float(input))


def asin(input):
    """arcsin(x) elementwise, in [-pi/2, pi/2]; NaN outside [-1, 1]."""
    return Asin.apply(to_float(input))


def acos(input):
    """arccos(x) elementwise, in [0, pi]; NaN outside [-1, 1]."""
    return Acos.apply(to_float(input))


def atan(input):
    """arctan(x) elementwise, in (-pi/2, pi/2)."""
    return Atan.apply(to_float(input))


def sinh(input):
    """Hyperbolic sine elementwise."""
    return Sinh.apply(to_float(input))


def cosh(input):
    """Hyperbolic cosine elementwise."""
    return Cosh.apply(to_float(input))


def asinh(input):
    """Inverse hyperbolic sine elementwise."""
    return Asinh.apply(to_float(input))


def acosh(input):
    """Inverse hyperbolic cosine elementwise; NaN below 1."""
    return Acosh.apply(to_float(input))


def atanh(input):
    """Inverse hyperbolic tangent elementwise; +-inf at +-1, NaN outside [-1, 1]."""
    return Atanh.apply(to_float(input))


def erf(input):
    """The error function 2/sqrt(pi) * integral from 0 to x of e^(-t^2) dt, elementwise."""
    return Erf.apply(to_float(input))


def erfc(input):
    """1 - erf(x), elementwise, without the cancellation of computing it so for large x."""
    return Erfc.apply(to_float(input))


def erfinv(input):
    """The inverse of erf on (-1, 1), elementwise; +-inf at +-1."""
    return ErfInv.apply(to_float(input))


def logit(input, eps=None):
    """log(p / (1 - p)); with `eps`, p is first clamped to [eps, 1 - eps] (zero gradient
    outside), as in PyTorch."""
    p = to_float(input)
    if eps is not None:
        p = elementwise.clamp(p, eps, 1 - eps)
    return elementwise.log(p) - log1p(-p)


def log2(input):
    """Base-2 logarithm elementwise (exact at powers of 2)."""
    return Log2.apply(to_float(input))


def log10(input):
    """Base-10 logarithm elementwise."""
    return Log10.apply(to_float(input))


def log1p(input):
    """log(1 + x) elementwise, accurate for small x."""
    return Log1p.apply(to_float(input))


def exp2(input):
    """2 ** x elementwise."""
    return Exp2.apply(to_float(input))


def expm1(input):
    """e^x - 1 elementwise, accurate for small x."""
    return Expm1.apply(to_float(input))


def reciprocal(input):
    """1 / x; an integer or bool x gives float32 (inf where it is 0)."""
    return elementwise.Reciprocal.apply(to_float(input))


def rsqrt(input):
    """1 / sqrt(x), composed; float32 for an integer x."""
    return reciprocal(elementwise.sqrt(input))


def square(input):
    """x * x, composed; keeps integer dtypes, and a bool x gives int64 (as PyTorch's x ** 2)."""
    x = elementwise.to_dtype(input, dtypes.int64) if input.dtype == dtypes.bool_ else input
    return elementwise.mul(x, x)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf`.

    `posinf` and `neginf` default to the largest and lowest finite value of x's dtype. An
    integer x is returned as a copy. The gradient passes where x is finite and is 0 where a
    value was replaced, as in PyTorch.
    """
    if input.dtype.kind != "f":
        return Tensor._wrap(input.data.copy())
    replaced = np.nan_to_num(input.data, nan=nan, posinf=posinf, neginf=neginf)
    return elementwise.where(np.isfinite(input.data), input, replaced)


# ---- PyTorch's other names -----------------------------------------------------------------------

arcsin = asin
arccos = acos
arctan = atan
arcsinh = asinh
arccosh = acosh
arctanh = atanh
negative = elementwise.neg
absolute = elementwise.abs
clip = elementwise.clamp


from autodiff.tensor import Tensor  # noqa: E402
