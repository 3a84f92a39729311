"""Fuzz ops on values: elementwise (with broadcasting and Python scalars), reductions, and the
nn functionals. exp, log and sqrt are written on safe domains (after tanh, on x*x + 1, ...)."""

import math
from functools import partial

from tests.fuzz.registry import (
    broadcast,
    choice,
    dim,
    dims,
    distinct,
    flag,
    integer,
    op,
    operand,
    positive,
    register,
    scalar,
)

UNARY = {
    "neg": "-{a}",
    "tanh": "{a}.tanh()",
    "sigmoid": "torch.sigmoid({a})",
    "relu": "F.relu({a})",
    "abs": "{a}.abs()",
    "exp": "torch.exp({a}.tanh())",
    "log": "torch.log({a} * {a} + 1)",
    "log_sigmoid": "{a}.sigmoid().log()",
    "sqrt": "({a} * {a} + 0.25).sqrt()",
    "square": "{a} ** 2",
    "pow": "({a} * {a} + 1) ** 1.5",
    "gelu": "F.gelu({a})",
    "gelu_tanh": "F.gelu({a}, approximate='tanh')",
    "dropout": "F.dropout({a}, p=0.0)",
}
WITH_SCALAR = ("{a} + {s}", "{s} - {a}", "{a} * {s}", "{a} / {s}", "{s} / ({a} * {a} + 1)")
BINARY = (
    "{a} + {c}",
    "{a} - {c}",
    "{a} * {c}",
    "{a} / ({c} * {c} + 1)",
    "torch.maximum({a}, {c})",
    "torch.minimum({a}, {c})",
    "torch.where({a} > {c}, {a}, {c} * 2)",
    "torch.where({c} > 0, {a}, {s})",
)
BOUNDS = (-1.0, -0.5, 0.0, 0.5, 1.0)


@op()
def binary(b, a):
    c = operand(b, lambda n: (s := broadcast(a.shape, n.shape)) is not None and b.fits(s))
    expr = choice(b, BINARY).format(a=a.name, c=c.name, s=scalar(b))
    return b.emit(expr, broadcast(a.shape, c.shape), [a, c])


@op()
def scalar_arith(b, a):
    expr = choice(b, WITH_SCALAR).format(a=a.name, s=scalar(b))
    return b.emit(expr, a.shape, [a])


def _unary(template):
    return lambda b, a: b.emit(template.format(a=a.name), a.shape, [a])


for _name, _template in UNARY.items():
    register(_name, _unary(_template))


@op()
def clamp(b, a):
    lo, hi = sorted(distinct(b, BOUNDS, 2))
    expr = choice(
        b,
        (
            f"{a.name}.clamp(min={lo})",
            f"{a.name}.clamp(max={hi})",
            f"{a.name}.clamp({lo}, {hi})",
            f"torch.clamp({a.name}, min={lo}, max={hi})",
        ),
    )
    return b.emit(expr, a.shape, [a])


# ---- reductions ----------------------------------------------------------------------------------

REDUCTIONS = ("sum", "mean", "amax", "amin", "logsumexp", "var", "std", "max")


def reduction(name, b, a):
    """Reduction `name` over all dims, one dim or a tuple of dims, keepdim or not."""
    if name == "max":
        picked = (dim(b, a.ndim),)
    elif name != "logsumexp" and flag(b):
        picked = None
    else:
        picked = dims(b, a.ndim)
    keepdim = flag(b)
    reduced = range(a.ndim) if picked is None else {positive(d, a.ndim) for d in picked}
    count = math.prod(a.shape[d] for d in reduced if d < a.ndim)
    args = [] if picked is None else [str(picked[0]) if len(picked) == 1 else str(picked)]
    if name in ("var", "std"):
        # correction 1 needs two elements; over one, PyTorch and numpy give NaN with a warning
        correction = integer(b, 0, 1 if count > 1 else 0)
        args.append(f"correction={correction}")
    if picked is not None:
        args.append(f"keepdim={keepdim}")
    call = f"{name}({', '.join(args)})"
    if name == "max":
        call += ".values"
    expr = f"{a.name}.{call}"
    if picked is None:
        shape = ()
    elif keepdim:
        shape = tuple(1 if d in reduced else s for d, s in enumerate(a.shape))
    else:
        shape = tuple(s for d, s in enumerate(a.shape) if d not in reduced)
    return b.emit(expr, shape, [a])


for _name in REDUCTIONS:
    register(_name, partial(reduction, _name))


# ---- nn functionals ------------------------------------------------------------------------------


@op()
def softmax(b, a):
    d = dim(b, a.ndim)
    expr = choice(
        b,
        (
            f"F.softmax({a.name}, dim={d})",
            f"F.log_softmax({a.name}, dim={d})",
            f"{a.name}.softmax({d})",
            f"torch.log_softmax({a.name}, {d})",
        ),
    )
    return b.emit(expr, a.shape, [a])


@op(applies=lambda a: a.ndim >= 1)
def cross_entropy(b, a):
    """Class indices (with ignore_index) or class probabilities; weights, label smoothing."""
    classes = a.shape[0] if a.ndim == 1 else a.shape[1]
    target_shape = () if a.ndim == 1 else (a.shape[0], *a.shape[2:])
    kwargs = [f"reduction={choice(b, ('mean', 'sum', 'none'))!r}"]
    if flag(b):
        kwargs.append(f"label_smoothing={choice(b, (0.1, 0.25))}")
    if flag(b):
        kwargs.append(f"weight={b.const(b.rng.uniform(0.5, 2.0, classes))}")
    if flag(b):
        target = f"F.softmax({b.const(b.rng.standard_normal(a.shape))}, dim={min(a.ndim, 2) - 1})"
    else:
        labels = b.rng.integers(0, classes, target_shape)
        if classes > 1 and labels.size > 1 and flag(b):
            ignored = int(labels.flat[0])
            kwargs.append(f"ignore_index={ignored}")
            labels.flat[-1] = (ignored + 1) % classes  # not every target ignored
        target = f"torch.tensor({labels.tolist()!r})"
    shape = target_shape if "'none'" in kwargs[0] else ()
    return b.emit(f"F.cross_entropy({a.name}, {target}, {', '.join(kwargs)})", shape, [a])


@op()
def mse_loss(b, a):
    c = operand(b, lambda n: n.shape == a.shape)
    other = c.name if c is not a and flag(b) else b.const(b.rng.standard_normal(a.shape))
    reduction = choice(b, ("mean", "sum", "none"))
    shape = a.shape if reduction == "none" else ()
    uses = [a, c] if other == c.name else [a]
    return b.emit(f"F.mse_loss({a.name}, {other}, reduction={reduction!r})", shape, uses)


@op(applies=lambda a: a.ndim >= 1)
def layer_norm(b, a):
    """Over the last k dims, with a weight and a bias that are new leaves (or none)."""
    k = integer(b, 1, a.ndim)
    normalized = a.shape[a.ndim - k :]
    args = [a.name, repr(list(normalized) if flag(b) else normalized)]
    uses = [a]
    for param in ("weight", "bias"):
        if flag(b):
            leaf = b.leaf(normalized)
            args.append(f"{param}={leaf.name}")
            uses.append(leaf)
    if flag(b):
        args.append("eps=1e-3")
    return b.emit(f"F.layer_norm({', '.join(args)})", a.shape, uses)
