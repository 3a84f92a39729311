"""Op-table entries for the activations of autodiff/ops/{activation,smooth_activation,softmax}.py
beyond relu, leaky_relu, sigmoid, tanh, softmax and log_softmax (those are in specs_core.py)."""

import math

import numpy as np

from autodiff.ops import activation as act
from autodiff.ops import smooth_activation as smooth
from autodiff.ops.activation import Hardtanh, Sigmoid, Tanh
from autodiff.ops.elementwise import Clamp, Where
from autodiff.ops.smooth_activation import ELU, GELU, Softplus
from autodiff.ops.softmax import Softmax, softmin
from tests.ops.harness import OpSpec, away_from, normal, sample, torch

UNARY = (
    sample(()),
    sample((1, 3)),
    sample((4, 3), t=(0,)),
    sample((2, 3, 4)),
)
ONE_INPUT = {"broadcast": "takes one tensor"}


def _wide(*kinks):
    """Uniform on [-5, 5], kept 0.1 away from `kinks` (to reach hardsigmoid's +-3)."""
    near = away_from(*kinks)

    def domain(rng, shape):
        return near(rng, shape) * 2.5

    domain.__name__ = f"wide{kinks}"
    return domain


def _unary(name, fn, ref, torch_name, covers, domain=normal, samples=UNARY, exempt=(), **extra):
    """An entry for `F.<torch_name>`; fn, ref and torch get the sample's kwargs."""
    return OpSpec(
        name,
        fn,
        ref,
        lambda x, **kw: getattr(torch.nn.functional, torch_name)(x, **kw),
        covers,
        samples,
        domain,
        exempt={**ONE_INPUT, **dict(exempt)},
        **extra,
    )


# ---- numpy references (float64, from the definitions) -------------------------------------------

_erf = np.vectorize(math.erf, otypes=[float])
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1))


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _softmin(x, dim):
    e = np.exp(-x - np.max(-x, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _glu(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * _sigmoid(b)


def _prelu(x, w):
    w = w.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 and w.size > 1 else w.reshape(())
    return np.where(x > 0, x, w * x)


SPECS = [
    _unary(
        "gelu",
        smooth.gelu,
        _gelu,
        "gelu",
        (GELU,),
        samples=(*UNARY, sample((3, 5), approximate="tanh"), sample((), approximate="tanh")),
    ),
    _unary("silu", smooth.silu, lambda x: x * _sigmoid(x), "silu", (Sigmoid,)),
    _unary(
        "elu",
        smooth.elu,
        _elu,
        "elu",
        (ELU,),
        domain=away_from(0.0),
        samples=(*UNARY, sample((3, 4), alpha=0.5)),
    ),
    _unary(
        "selu",
        smooth.selu,
        lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
        "selu",
        (ELU,),
        domain=away_from(0.0),
    ),  # fmt: skip
    _unary(
        "celu",
        smooth.celu,
        lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x / alpha) - 1)),
        "celu",
        (ELU,),
        domain=away_from(0.0),
        samples=(*UNARY, sample((3, 4), alpha=2.0)),
    ),
    _unary(
        "softplus",
        smooth.softplus,
        _softplus,
        "softplus",
        (Softplus,),
        domain=away_from(0.0, 0.5),  # the cut-off of the beta=2, threshold=1 sample: x = 0.5
        samples=(*UNARY, sample((4, 5), beta=2.0, threshold=1.0), sample((3,), beta=0.5)),
    ),
    _unary(
        "softsign",
        smooth.softsign,
        lambda x: x / (1 + np.abs(x)),
        "softsign",
        (),
        domain=away_from(0.0),
    ),  # fmt: skip
    _unary("tanhshrink", smooth.tanhshrink, lambda x: x - np.tanh(x), "tanhshrink", (Tanh,)),
    _unary(
        "logsigmoid", smooth.logsigmoid, lambda x: -np.logaddexp(0, -x), "logsigmoid", (Softplus,)
    ),  # fmt: skip
    _unary(
        "mish", smooth.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), "mish", (Softplus, Tanh)
    ),  # fmt: skip
    _unary(
        "hardtanh",
        act.hardtanh,
        lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
        "hardtanh",
        (Hardtanh,),
        domain=away_from(-1.0, 1.0, -0.5, 0.0, 2.0),
        samples=(*UNARY, sample((4, 5), min_val=-0.5, max_val=2.0)),
    ),
    _unary(
        "relu6", act.relu6, lambda x: np.clip(x, 0, 6), "relu6", (Hardtanh,), domain=_wide(0.0, 2.4)
    ),  # fmt: skip
    _unary(
        "hardsigmoid",
        act.hardsigmoid,
        lambda x: np.clip(x / 6 + 0.5, 0, 1),
        "hardsigmoid",
        (Hardtanh,),
        domain=_wide(-1.2, 1.2),
    ),  # fmt: skip
    _unary(
        "hardswish",
        act.hardswish,
        lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
        "hardswish",
        (Hardtanh,),
        domain=_wide(-1.2, 1.2),
    ),  # fmt: skip
    _unary(
        "threshold",
        act.threshold,
        lambda x, threshold, value: np.where(x > threshold, x, value),
        "threshold",
        (Where,),
        domain=away_from(0.3),
        samples=tuple(sample(*s.shapes, t=s.transposed, threshold=0.3, value=-2.0) for s in UNARY),
    ),
    _unary(
        "hardshrink",
        act.hardshrink,
        lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x, 0),
        "hardshrink",
        (Where,),
        domain=away_from(-0.5, 0.5, -1.0, 1.0),
        samples=(*UNARY, sample((4, 5), lambd=1.0)),
    ),
    _unary(
        "softshrink",
        act.softshrink,
        lambda x, lambd=0.5: x - np.clip(x, -lambd, lambd),
        "softshrink",
        (Clamp,),
        domain=away_from(-0.5, 0.5, -1.0, 1.0),
        samples=(*UNARY, sample((4, 5), lambd=1.0)),
    ),
    _unary(
        "softmin",
        softmin,
        _softmin,
        "softmin",
        (Softmax,),
        samples=(
            sample((), dim=0),
            sample((1, 3), dim=1),
            sample((4, 3), t=(0,), dim=0),
            sample((2, 3, 4), dim=-1),
        ),  # fmt: skip
    ),
    _unary(
        "glu",
        smooth.glu,
        _glu,
        "glu",
        (Sigmoid,),
        samples=(sample((1, 4)), sample((4, 6), t=(0,), dim=0), sample((2, 4, 3), dim=1)),
        exempt={"scalar": "a 0-d tensor cannot be halved"},
    ),
    OpSpec(
        name="prelu",
        fn=act.prelu,
        ref=_prelu,
        torch_fn=lambda x, w: torch.nn.functional.prelu(x, w),
        covers=(Where,),
        samples=(
            sample((), (1,)),
            sample((2, 3, 4), (3,)),
            sample((4, 3), (1,), t=(0,)),
            sample((2, 1, 3), (1,)),
            sample((5,), (1,)),
            sample((2, 3, 2, 2), (3,)),
        ),
        domain=(away_from(0.0), normal),
    ),
]
