"""Fuzz ops on shapes: views, indexing, joins, matmul, and in-place writes.

In-place writes go into a fresh `clone()`, so no value some op saved for backward is
overwritten (PyTorch refuses that; autodiff accepts it by design, see the README). Under
`no_grad` only `add_`/`sub_` of a scalar are written: the gradient passes them unchanged, as it
does the true derivative, so central differences stay a valid referee.
"""

import math

import numpy as np

from tests.fuzz.registry import (
    basic_index,
    broadcast,
    choice,
    dim,
    dims,
    flag,
    index_list,
    integer,
    op,
    operand,
    permutation,
    positive,
    scalar,
)


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _shapes_of(n):
    """Shapes of at most three dims holding n elements (the 0-d one for n = 1)."""
    shapes = [(n,), (1, n), (n, 1)] + ([()] if n == 1 else [])
    shapes += [(d, n // d) for d in _divisors(n)]
    shapes += [(d, e, n // d // e) for d in _divisors(n) for e in _divisors(n // d)]
    return sorted(set(shapes), key=lambda s: (len(s), s))


@op()
def reshape(b, a):
    shape = choice(b, _shapes_of(math.prod(a.shape)))
    written = list(shape)
    if shape and flag(b):
        written[integer(b, 0, len(shape) - 1)] = -1
    args = ", ".join(map(str, written)) if written else "()"
    if a.contiguous and flag(b):
        return b.emit(f"{a.name}.view({args})", shape, [a], contiguous=True)
    if len(shape) == 1 and shape[0] == math.prod(a.shape) and flag(b):
        return b.emit(f"{a.name}.flatten()", shape, [a], contiguous=a.contiguous)
    return b.emit(f"{a.name}.reshape({args})", shape, [a], contiguous=a.contiguous)


@op(applies=lambda a: a.ndim >= 1)
def transpose(b, a):
    kind = choice(b, ("transpose", "permute", "mT"))
    if kind == "mT" and a.ndim >= 2:
        shape = (*a.shape[:-2], a.shape[-1], a.shape[-2])
        return b.emit(f"{a.name}.mT", shape, [a], contiguous=False)
    if kind == "permute":
        order = permutation(b, a.ndim)
        written = [d - a.ndim if flag(b) else d for d in order]
        shape = tuple(a.shape[d] for d in order)
        return b.emit(f"{a.name}.permute({', '.join(map(str, written))})", shape, [a], False)
    d0, d1 = dim(b, a.ndim), dim(b, a.ndim)
    shape = list(a.shape)
    p0, p1 = positive(d0, a.ndim), positive(d1, a.ndim)
    shape[p0], shape[p1] = shape[p1], shape[p0]
    return b.emit(f"{a.name}.transpose({d0}, {d1})", shape, [a], contiguous=False)


@op(applies=lambda a: a.ndim < 4)
def unsqueeze(b, a):
    d = dim(b, a.ndim, extra=1)
    shape = list(a.shape)
    shape.insert(positive(d, a.ndim + 1), 1)
    return b.emit(f"{a.name}.unsqueeze({d})", shape, [a], contiguous=a.contiguous)


@op()
def squeeze(b, a):
    """All size-1 dims, one dim (which need not have size 1), or a tuple of dims."""
    kind = choice(b, ("all", "one", "tuple")) if a.ndim else "all"
    if kind == "all":
        return b.emit(f"{a.name}.squeeze()", [s for s in a.shape if s != 1], [a], a.contiguous)
    picked = (dim(b, a.ndim),) if kind == "one" else dims(b, a.ndim)
    gone = {positive(d, a.ndim) for d in picked if a.shape[positive(d, a.ndim)] == 1}
    shape = [s for d, s in enumerate(a.shape) if d not in gone]
    args = str(picked[0]) if kind == "one" else str(picked)
    return b.emit(f"{a.name}.squeeze({args})", shape, [a], contiguous=a.contiguous)


@op()
def expand(b, a):
    """New leading dims and size-1 dims widened; -1 keeps a size."""
    lead = [integer(b, 1, 3) for _ in range(integer(b, 0, 4 - a.ndim) if a.ndim < 4 else 0)]
    sizes = [integer(b, 1, 3) if s == 1 else s for s in a.shape]
    written = lead + [s if s != a.shape[i] or not flag(b) else -1 for i, s in enumerate(sizes)]
    shape = lead + sizes
    if not b.fits(shape):
        return None
    args = ", ".join(map(str, written)) if written else "()"
    return b.emit(f"{a.name}.expand({args})", shape, [a], contiguous=False)


@op()
def slicing(b, a):
    index, shape = basic_index(b, a.shape)
    if not b.fits(shape):
        return None
    return b.emit(f"{a.name}[{index}]", shape, [a], contiguous=False)


@op(applies=lambda a: a.ndim >= 1)
def advanced_index(b, a):
    """An integer list (repeats, negatives) or a boolean mask along one dim; or two lists."""
    d = integer(b, 0, a.ndim - 1)
    n = a.shape[d]
    lead = ":, " * d
    kind = choice(b, ("list", "mask", "pair")) if a.ndim >= 2 and d == 0 else "list"
    if kind == "mask":
        mask = [flag(b) for _ in range(n)]
        mask[integer(b, 0, n - 1)] = True
        return b.emit(f"{a.name}[torch.tensor({mask!r})]", (sum(mask), *a.shape[1:]), [a])
    idx = index_list(b, n)
    if kind == "pair":
        other = index_list(b, a.shape[1], size=len(idx))
        expr = f"{a.name}[torch.tensor({idx!r}), torch.tensor({other!r})]"
        return b.emit(expr, (len(idx), *a.shape[2:]), [a])
    shape = (*a.shape[:d], len(idx), *a.shape[d + 1 :])
    return b.emit(f"{a.name}[{lead}torch.tensor({idx!r})]", shape, [a])


@op(applies=lambda a: a.ndim >= 1)
def narrow(b, a):
    """narrow, select, and one piece of chunk, split or unbind."""
    d = dim(b, a.ndim)
    n = a.shape[positive(d, a.ndim)]
    kind = choice(b, ("narrow", "select", "chunk", "split", "unbind"))
    shape = list(a.shape)
    if kind in ("select", "unbind"):
        i = integer(b, -n, n - 1)
        del shape[positive(d, a.ndim)]
        expr = f"{a.name}.select({d}, {i})" if kind == "select" else f"{a.name}.unbind({d})[{i}]"
        return b.emit(expr, shape, [a], contiguous=False)
    if kind == "narrow":
        start = integer(b, 0, n - 1)
        length = integer(b, 1, n - start)
        shape[positive(d, a.ndim)] = length
        return b.emit(f"{a.name}.narrow({d}, {start}, {length})", shape, [a], contiguous=False)
    if kind == "chunk":  # chunk(k) cuts pieces of ceil(n / k)
        k = integer(b, 1, n)
        size, call = -(-n // k), f"chunk({k}, {d})"
    else:
        size = integer(b, 1, n)
        call = f"split({size}, {d})"
    pieces = [min(size, n - s) for s in range(0, n, size)]
    i = integer(b, 0, len(pieces) - 1)
    shape[positive(d, a.ndim)] = pieces[i]
    return b.emit(f"{a.name}.{call}[{i}]", shape, [a], contiguous=False)


@op(applies=lambda a: a.ndim >= 1)
def cat(b, a):
    d = dim(b, a.ndim)
    p = positive(d, a.ndim)

    def joins(n):
        return n.ndim == a.ndim and all(
            s == t for i, (s, t) in enumerate(zip(n.shape, a.shape)) if i != p
        )

    others = [operand(b, joins) for _ in range(integer(b, 1, 2))]
    shape = list(a.shape)
    shape[p] += sum(n.shape[p] for n in others)
    if not b.fits(shape):
        return None
    names = ", ".join(n.name for n in [a, *others])
    return b.emit(f"torch.cat([{names}], dim={d})", shape, [a, *others])


@op(applies=lambda a: a.ndim < 4)
def stack(b, a):
    others = [operand(b, lambda n: n.shape == a.shape) for _ in range(integer(b, 1, 2))]
    d = dim(b, a.ndim, extra=1)
    shape = list(a.shape)
    shape.insert(positive(d, a.ndim + 1), len(others) + 1)
    if not b.fits(shape):
        return None
    names = ", ".join(n.name for n in [a, *others])
    return b.emit(f"torch.stack([{names}], dim={d})", shape, [a, *others])


@op(applies=lambda a: a.ndim >= 1)
def gather(b, a):
    d = dim(b, a.ndim)
    p = positive(d, a.ndim)
    shape = tuple(integer(b, 1, 3) if i == p else integer(b, 1, s) for i, s in enumerate(a.shape))
    index = b.rng.integers(0, a.shape[p], shape)
    call = choice(b, ("torch.gather({a}, {d}, {i})", "{a}.gather({d}, {i})"))
    return b.emit(call.format(a=a.name, d=d, i=f"torch.tensor({index.tolist()!r})"), shape, [a])


@op(applies=lambda a: a.ndim >= 1)
def flip(b, a):
    picked = dims(b, a.ndim)
    return b.emit(f"{a.name}.flip({list(picked)!r})", a.shape, [a])


@op()
def roll(b, a):
    if a.ndim == 0 or flag(b):  # without dims: over the flattened tensor
        return b.emit(f"torch.roll({a.name}, {integer(b, -3, 3)})", a.shape, [a])
    picked = dims(b, a.ndim)
    shifts = tuple(integer(b, -3, 3) for _ in picked)
    return b.emit(f"{a.name}.roll({shifts!r}, {picked!r})", a.shape, [a])


def _matmul_shape(s, t):
    """np.matmul's result shape, or None."""
    if not s or not t:
        return None
    try:
        return np.matmul(np.zeros(s), np.zeros(t)).shape
    except ValueError:
        return None


@op(applies=lambda a: a.ndim >= 1)
def matmul(b, a):
    """With an existing node whose shape fits, or a new leaf (vector, matrix or batch)."""

    other = operand(b, lambda n: _fits_matmul(b, a.shape, n.shape)) if flag(b) else None
    if other is None:
        k = a.shape[-1]
        kind = choice(b, ("matrix", "vector", "batch"))
        shape = {"vector": (k,), "matrix": (k, integer(b, 1, 3)), "batch": (2, k, 2)}[kind]
        if not _fits_matmul(b, a.shape, shape):
            shape = (k,)
        other = b.leaf(shape)
    expr = choice(b, ("{a} @ {c}", "torch.matmul({a}, {c})")).format(a=a.name, c=other.name)
    return b.emit(expr, _matmul_shape(a.shape, other.shape), [a, other])


def _fits_matmul(b, s, t):
    shape = _matmul_shape(s, t)
    return shape is not None and b.fits(shape)


# ---- in-place writes -----------------------------------------------------------------------------


@op()
def inplace_no_grad(b, a):
    """A scalar added in place under no_grad, through the tensor itself or a view of it."""
    out = b.emit(f"{a.name}.clone()", a.shape, [a])
    target = out.name
    if a.ndim >= 1 and flag(b):
        index, _ = basic_index(b, a.shape)
        target = f"{out.name}[{index}]"
    elif a.ndim >= 2 and flag(b):
        target = f"{out.name}.transpose(0, -1)"
    write = choice(b, ("{t}.add_({s})", "{t}.sub_({s})", "{t} += {s}"))
    if write == "{t} += {s}" and "." in target:
        write = "{t}.add_({s})"  # `x.transpose(0, -1) += 1` is not Python
    b.statement("with torch.no_grad():\n    " + write.format(t=target, s=scalar(b)), [])
    return out


RECORDED = (
    "{t}.mul_({c})",
    "{t}.add_({c}, alpha={s})",
    "{t} += {c}",
    "{t} *= {s}",
    "{t}.tanh_()",
    "{t}.sigmoid_()",
    "{t}.clamp_(-0.5, 0.5)",
    "{t}.div_({c} * {c} + 1)",
)


@op()
def inplace_recorded(b, a):
    """An in-place op recorded in the graph, on a fresh clone."""
    out = b.emit(f"{a.name}.clone()", a.shape, [a])
    c = operand(b, lambda n: n is not out and broadcast(n.shape, a.shape) == tuple(a.shape))
    template = choice(b, RECORDED)
    uses = [c] if "{c}" in template else []
    b.statement(template.format(t=out.name, c=c.name, s=scalar(b)), uses)
    return out


@op(applies=lambda a: a.ndim >= 1)
def index_assign(b, a):
    """`out[index] = value` on a fresh clone: a scalar, another node, or out itself."""
    out = b.emit(f"{a.name}.clone()", a.shape, [a])
    index, shape = basic_index(b, a.shape)
    if "None" in index:  # a value for a None-indexed slice adds a dim; keep it simple
        index, shape = ":", a.shape
    value, uses = _value_for(b, out, shape)
    b.statement(f"{out.name}[{index}] = {value}", uses)
    return out


def _value_for(b, out, shape):
    """(text, uses) of a value for `out[index] = value`: a scalar, a node, or out itself."""
    kind = choice(b, ("scalar", "node", "self"))
    if kind == "node":
        c = operand(b, lambda n: n is not out and broadcast(n.shape, shape) == tuple(shape))
        if c is not None:
            return c.name, [c]
    if kind == "self" and out.ndim >= 1:
        index, own = basic_index(b, out.shape)
        if broadcast(own, shape) == tuple(shape):
            return f"{out.name}[{index}] * {scalar(b)}", []
    return scalar(b), []
