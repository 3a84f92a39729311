"""Exponential and smooth activations: elu, selu, celu, softplus, logsigmoid, silu, mish, gelu,
softsign, tanhshrink and glu.

softsign and tanhshrink compute an integer input in float32, as PyTorch's; the others take float
tensors only (TypeError otherwise). `inplace=` is accepted for code written for PyTorch and
ignored: the result is always a new tensor.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels.special import erf
from autodiff.ops import _args
from autodiff.ops._args import require_float
from autodiff.ops.activation import sigmoid, stable_sigmoid, tanh
from autodiff.ops.elementwise import abs, add, div, mul, neg, sub
from autodiff.ops.shape import getitem

__all__ = [
    "elu",
    "selu",
    "celu",
    "softplus",
    "logsigmoid",
    "silu",
    "mish",
    "gelu",
    "softsign",
    "tanhshrink",
    "glu",
]

# SELU's constants (Klambauer et al. 2017), as PyTorch writes them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_CUBIC = 0.044715


class ELU(Function):
    """scale * x for x > 0, else scale * alpha * (exp(input_scale * x) - 1): elu, selu, celu.

    Its own rule: composed with `where`, the unused branch's exp overflows for large x, and its
    zero gradient times inf is NaN.
    """

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        ctx.save(x)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        negative = np.minimum(x, 0) * input_scale  # clipped, so exp cannot overflow
        return np.where(x > 0, x * scale, np.expm1(negative) * (scale * alpha))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        negative = np.minimum(x, 0) * ctx.input_scale
        slope = np.exp(negative) * (ctx.scale * ctx.alpha * ctx.input_scale)
        return g * np.where(x > 0, ctx.scale, slope)


class Softplus(Function):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (PyTorch's cut-off).

    Its own rule: `logaddexp` keeps it finite for large x, and the gradient, sigmoid(beta * x),
    is computed without overflow; a composition of exp and log would overflow.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        ctx.save(x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled = x * beta
        with np.errstate(invalid="ignore"):  # a NaN passes through, as in PyTorch, unannounced
            return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        scaled = x * ctx.beta
        return g * np.where(scaled > ctx.threshold, 1, stable_sigmoid(scaled))


class GELU(Function):
    """x * Phi(x), Phi the standard normal CDF (through erf), or PyTorch's tanh approximation.

    Its own rule: one node saving x, where the composition records five and saves their inputs
    (GELU is the activation of transformer MLPs, so this is on the hot path).
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save(x)
        ctx.approximate = approximate
        return x * _gelu_cdf_and_slope(x, approximate)[0]

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        cdf, slope = _gelu_cdf_and_slope(x, ctx.approximate)
        return g * (cdf + x * slope)


def _gelu_cdf_and_slope(x, approximate):
    """Phi(x) (or its tanh approximation) and its derivative, on arrays of x's dtype."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        slope = 0.5 * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
        return 0.5 * (1 + t), slope
    # np.asarray: arithmetic on a 0-d array gives a numpy scalar, which the kernel refuses
    cdf = 0.5 * (1 + erf(np.asarray(x * math.sqrt(0.5))))
    return cdf, np.exp(-0.5 * x * x) * _INV_SQRT_2PI


def elu(input, alpha: float = 1.0, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """x for x > 0, alpha * (exp(x) - 1) otherwise; float tensors only."""
    return ELU.apply(require_float("elu", input), alpha=alpha)


def selu(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """scale * elu(x, alpha) with SELU's fixed alpha ~ 1.6733 and scale ~ 1.0507."""
    return ELU.apply(require_float("selu", input), alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input, alpha: float = 1.0, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise. Raises ValueError for alpha = 0."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return ELU.apply(require_float("celu", input), alpha=alpha, input_scale=1 / alpha)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002 - PyTorch's names
    """log(1 + exp(beta * x)) / beta, computed stably; x itself where beta * x > threshold.

    Float tensors only; the result has input's shape and dtype.
    """
    return Softplus.apply(require_float("softplus", input), beta=beta, threshold=threshold)


def logsigmoid(input):  # noqa: A002 - PyTorch's name
    """log(sigmoid(x)) = -softplus(-x), finite for any x; float tensors only."""
    x = require_float("logsigmoid", input)
    return neg(Softplus.apply(neg(x), threshold=math.inf))


def silu(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """x * sigmoid(x) (swish); float tensors only."""
    x = require_float("silu", input)
    return mul(x, sigmoid(x))


def mish(input, inplace: bool = False):  # noqa: A002 - PyTorch's names
    """x * tanh(softplus(x)); float tensors only."""
    x = require_float("mish", input)
    return mul(x, tanh(Softplus.apply(x, threshold=math.inf)))


def gelu(input, approximate: str = "none"):  # noqa: A002 - PyTorch's names
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2)).

    `approximate="tanh"` gives 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). Float
    tensors only; raises ValueError for another `approximate`.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(require_float("gelu", input), approximate=approximate)


def softsign(input):  # noqa: A002 - PyTorch's name
    """x / (1 + |x|); an integer tensor gives float32."""
    x = _args.to_float(input)
    return div(x, add(abs(x), 1.0))


def tanhshrink(input):  # noqa: A002 - PyTorch's name
    """x - tanh(x); an integer tensor gives float32."""
    x = _args.to_float(input)
    return sub(x, tanh(x))


def glu(input, dim: int = -1):  # noqa: A002 - PyTorch's names
    """The gated linear unit a * sigmoid(b), a and b the two halves of input along `dim`.

    Parameters
    ----------
    input : Tensor, float, with an even size along `dim`.
    dim : int

    Returns
    -------
    Tensor of input's shape with `dim` halved.

    Raises
    ------
    ShapeError : a 0-d input, or an odd size along dim.  DimError : dim out of range.
    """
    x = require_float("glu", input)
    if x.ndim == 0:
        raise ShapeError("glu: a 0-d tensor cannot be halved")
    d = _args.dim("glu", x, dim)
    half, odd = divmod(x.shape[d], 2)
    if odd:
        raise ShapeError(f"glu: dim {d} must have an even size to halve, got shape {x.shape}")
    before = (slice(None),) * d
    first = getitem(x, (*before, slice(0, half)))
    second = getitem(x, (*before, slice(half, None)))
    return mul(first, sigmoid(second))
