"""Op-table entries for autodiff/ops/{unary,rounding,binary}.py.

The piecewise-constant ops (floor, round, sign, `//`, ...) and the remainders jump; their
domains keep every input (and every ratio x / y) well away from the jumps, so that the central
differences of gradcheck see the gradient between them.
"""

import math

import numpy as np

import autodiff as ad
from autodiff.ops.binary import (
    Atan2,
    Copysign,
    DivRounded,
    Hypot,
    Lerp,
    LogAddExp,
    Modulo,
    XLogY,
)
from autodiff.ops.elementwise import Reciprocal
from autodiff.ops.rounding import PiecewiseConstant
from autodiff.ops.unary import (
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atanh,
    Cos,
    Cosh,
    Erf,
    Erfc,
    ErfInv,
    Exp2,
    Expm1,
    Log1p,
    Log2,
    Log10,
    Sin,
    Sinh,
    Tan,
)
from tests.ops.harness import OpSpec, nonzero, normal, positive, sample, torch
from tests.ops.specs_core import BINARY, NO_BROADCAST, UNARY

# ---- domains -------------------------------------------------------------------------------------


def uniform(low, high):
    """Uniform on [low, high]: inside the domain of asin, acosh, ..."""

    def domain(rng, shape):
        return rng.uniform(low, high, shape)

    domain.__name__ = f"uniform({low}, {high})"
    return domain


def off_grid(step):
    """Multiples of `step` plus 0.2 to 0.8 of a step: at least 0.2 * step from a multiple of
    `step` (the jumps of floor and trunc for step 1, of round for step 0.5)."""

    def domain(rng, shape):
        return (rng.integers(-6, 6, shape) + rng.uniform(0.2, 0.8, shape)) * step

    domain.__name__ = f"off_grid({step})"
    return domain


def dividends(rng, shape):
    """Half-integers in [-5.5, 4.5], jittered by 0.05: with `divisors`, x / y is at least 0.1
    from an integer, where the remainders and rounded quotients jump."""
    return rng.integers(-6, 5, shape) + 0.5 + rng.uniform(-0.05, 0.05, shape)


def divisors(rng, shape):
    """+-2 within 5%."""
    return rng.choice([-2.0, 2.0], shape) * rng.uniform(0.95, 1.05, shape)


# ---- numpy references ----------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def _erfinv_scalar(v):
    y = 0.0
    for _ in range(60):  # Newton's method on erf(y) = v, from 0: converges for |v| <= 0.9
        y -= (math.erf(y) - v) / (2 / math.sqrt(math.pi) * math.exp(-y * y))
    return y


_erfinv = np.vectorize(_erfinv_scalar, otypes=[float])


def _np_xlogy(x, y):
    return np.where(x == 0, 0.0, x * np.log(y))


def _np_div_trunc(x, y):
    return np.trunc(x / y)


def _np_lerp(x, end, weight):
    return x + weight * (end - x)


def _np_nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# ---- entries -------------------------------------------------------------------------------------


def _unary(name, covers, ref, domain=normal, samples=UNARY, op=None):
    """An entry for `autodiff.<op>` against `torch.<op>` (`op` defaults to the entry's name),
    both given the sample's kwargs."""
    op = op or name
    return OpSpec(
        name,
        getattr(ad, op),
        ref,
        lambda x, **kw: getattr(torch, op)(x, **kw),
        covers,
        samples,
        domain,
        exempt={"broadcast": NO_BROADCAST},
    )


def _kw(samples, **kwargs):
    """`samples` with `kwargs` added to each."""
    return tuple(sample(*s.shapes, t=s.transposed, **s.kwargs, **kwargs) for s in samples)


def _binary(name, covers, ref, domain=normal, torch_fn=None, **extra):
    """An entry for `autodiff.<name>` against `torch.<name>` (or `torch_fn`)."""
    torch_fn = torch_fn or (lambda x, y: getattr(torch, name)(x, y))
    return OpSpec(name, getattr(ad, name), ref, torch_fn, covers, BINARY, domain, **extra)


unit = uniform(-0.9, 0.9)
TERNARY = (
    sample((), (), ()),
    sample((3, 4), (4,), (3, 1)),
    sample((1, 4), (3, 4), ()),
    sample((4, 3), (3,), (4, 3), t=(0, 2)),
)

SPECS = [
    _unary("erfinv", (ErfInv,), _erfinv, unit),
    _unary("logit", (), lambda x: np.log(x / (1 - x)), uniform(0.1, 0.9)),
    OpSpec(
        "logit_eps",
        lambda x: ad.logit(x, eps=0.25),
        lambda x: np.log(np.clip(x, 0.25, 0.75) / (1 - np.clip(x, 0.25, 0.75))),
        lambda x: torch.logit(x, eps=0.25),
        (),
        UNARY,
        uniform(0.05, 0.95),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "clamp_min",
        lambda x: ad.clamp_min(x, 0.2),
        lambda x: np.maximum(x, 0.2),
        lambda x: torch.clamp_min(x, 0.2),
        (),
        UNARY,
        off_grid(0.5),
        exempt={"broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "clamp_max",
        lambda x: x.clamp_max(-0.2),
        lambda x: np.minimum(x, -0.2),
        lambda x: torch.clamp_max(x, -0.2),
        (),
        UNARY,
        off_grid(0.5),
        exempt={"broadcast": NO_BROADCAST},
    ),
    _binary("xlogy", (XLogY,), _np_xlogy, (normal, positive)),
    OpSpec(
        "addcmul",
        lambda x, a, b: ad.addcmul(x, a, b, value=0.5),
        lambda x, a, b: x + 0.5 * a * b,
        lambda x, a, b: torch.addcmul(x, a, b, value=0.5),
        (),
        TERNARY,
    ),
    OpSpec(
        "addcdiv",
        lambda x, a, b: x.addcdiv(a, b, value=-2),
        lambda x, a, b: x - 2 * a / b,
        lambda x, a, b: torch.addcdiv(x, a, b, value=-2),
        (),
        TERNARY,
        (normal, normal, nonzero),
    ),
    _unary("sin", (Sin,), np.sin),
    _unary("cos", (Cos,), np.cos),
    _unary("tan", (Tan,), np.tan, uniform(-1.2, 1.2)),
    _unary("asin", (Asin,), np.arcsin, unit),
    _unary("acos", (Acos,), np.arccos, unit),
    _unary("atan", (Atan,), np.arctan),
    _unary("sinh", (Sinh,), np.sinh),
    _unary("cosh", (Cosh,), np.cosh),
    _unary("asinh", (Asinh,), np.arcsinh),
    _unary("acosh", (Acosh,), np.arccosh, uniform(1.2, 3.0)),
    _unary("atanh", (Atanh,), np.arctanh, unit),
    _unary("erf", (Erf,), _erf),
    _unary("erfc", (Erfc,), _erfc),
    _unary("log2", (Log2,), np.log2, positive),
    _unary("log10", (Log10,), np.log10, positive),
    _unary("log1p", (Log1p,), np.log1p, uniform(-0.5, 2.0)),
    _unary("exp2", (Exp2,), np.exp2),
    _unary("expm1", (Expm1,), np.expm1),
    _unary("reciprocal", (Reciprocal,), np.reciprocal, nonzero),
    _unary("rsqrt", (), lambda x: 1 / np.sqrt(x), positive),
    _unary("square", (), np.square),
    _unary("sign", (PiecewiseConstant,), np.sign, nonzero),
    _unary("floor", (PiecewiseConstant,), np.floor, off_grid(1.0)),
    _unary("ceil", (PiecewiseConstant,), np.ceil, off_grid(1.0)),
    _unary("trunc", (PiecewiseConstant,), np.trunc, off_grid(1.0)),
    _unary("frac", (), lambda x: x - np.trunc(x), off_grid(1.0)),
    _unary("round", (PiecewiseConstant,), np.round, off_grid(0.5)),
    # the jumps of round to 2 places are at odd multiples of 0.005; of round to tens, of 5
    _unary(
        "round_2", (PiecewiseConstant,), np.round, off_grid(0.005), _kw(UNARY, decimals=2), "round"
    ),
    _unary(
        "round_-1", (PiecewiseConstant,), np.round, off_grid(5.0), _kw(UNARY, decimals=-1), "round"
    ),
    _unary(
        "nan_to_num",
        (),
        _np_nan_to_num,
        samples=(*UNARY, sample((2, 3), nan=1.0, posinf=2.0, neginf=-2.0)),
    ),
    _binary("atan2", (Atan2,), np.arctan2),
    _binary("hypot", (Hypot,), np.hypot),
    _binary("logaddexp", (LogAddExp,), np.logaddexp),
    _binary("copysign", (Copysign,), np.copysign, nonzero),  # kinks at x == 0, jumps at y == 0
    _binary("fmod", (Modulo,), np.fmod, (dividends, divisors)),
    _binary("remainder", (Modulo,), np.remainder, (dividends, divisors)),
    _binary(
        "floor_divide",
        (DivRounded,),
        np.floor_divide,
        (dividends, divisors),
        # torch.floor_divide has no backward; div(rounding_mode="floor") is the same function
        torch_fn=lambda x, y: torch.div(x, y, rounding_mode="floor"),
    ),
    OpSpec(
        "div_trunc",
        lambda x, y: ad.div(x, y, rounding_mode="trunc"),
        _np_div_trunc,
        lambda x, y: torch.div(x, y, rounding_mode="trunc"),
        (DivRounded,),
        BINARY,
        (dividends, divisors),
    ),
    OpSpec(
        "lerp",
        ad.lerp,
        _np_lerp,
        lambda x, end, weight: torch.lerp(x, end, weight),
        (Lerp,),
        (
            sample((), (), ()),
            sample((3, 4), (3, 4), (3, 4)),
            sample((3, 4), (4,), ()),
            sample((3, 1), (1, 4), (3, 4)),
            sample((4, 3), (4, 3), (4, 3), t=(0, 2)),
        ),
        (normal, normal, uniform(-0.5, 1.5)),  # weights on both sides of 0.5: both formulas
    ),
    OpSpec(
        "lerp_scalar_weight",
        ad.lerp,
        _np_lerp,
        lambda x, end, weight: torch.lerp(x, end, weight),
        (Lerp,),
        (
            sample((), (), weight=0.25),
            sample((3, 1), (1, 4), weight=0.75),
            sample((4, 3), (3,), t=(0,), weight=1.0),
        ),
    ),
]
