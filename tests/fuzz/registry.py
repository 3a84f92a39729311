"""The table of fuzz ops, and the draws they share (dims, scalars, operands, indices).

An op is a generator `gen(b, a) -> Node | None`: given the Builder `b` and a drawn operand node
`a`, it draws its parameters, writes one step of source and returns the new node (None when it
found nothing valid to write). `applies(a)` says whether the op can take `a` at all. The order of
the table matters to shrinking: hypothesis shrinks an op choice towards the first entry.
"""

import numpy as np
from hypothesis import strategies as st

OPS = {}  # name -> (applies, gen)
SCALARS = (2.0, 0.5, -1.5, 3, -0.25)  # an int among them: Python ints must not widen or cast


def register(name, gen, applies=None):
    """Add op `name` to the table."""
    OPS[name] = (applies or (lambda a: True), gen)


def op(applies=None):
    """Decorator form of `register`, named after the function."""

    def decorate(gen):
        register(gen.__name__, gen, applies)
        return gen

    return decorate


def integer(b, lo, hi):
    return b.draw(st.integers(lo, hi))


def choice(b, options):
    return b.draw(st.sampled_from(options))


def flag(b):
    return b.draw(st.booleans())


def distinct(b, options, k):
    """k distinct picks from options."""
    return b.draw(st.lists(st.sampled_from(options), min_size=k, max_size=k, unique=True))


def permutation(b, n):
    return b.draw(st.permutations(range(n)))


def scalar(b):
    return repr(choice(b, SCALARS))


def dim(b, ndim, extra=0):
    """A dim of an ndim tensor (ndim + extra positions), written positive or negative."""
    size = max(ndim + extra, 1)  # a 0-d tensor takes dim 0 and -1, as PyTorch's do
    d = integer(b, 0, size - 1)
    return d - size if flag(b) else d


def dims(b, ndim):
    """A non-empty tuple of distinct dims (any order), written positive or negative."""
    size = max(ndim, 1)
    picked = b.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True))
    return tuple(d - size if flag(b) else d for d in picked)


def positive(d, ndim):
    return d % max(ndim, 1)


def operand(b, fits):
    """Any node `fits(node)` accepts (None when there is none), newest first when shrinking."""
    nodes = [n for n in reversed(b.nodes) if fits(n)]
    return choice(b, nodes) if nodes else None


def broadcast(*shapes):
    """The broadcast shape, or None."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def basic_index(b, shape):
    """(index text, result shape) of a basic index: ints, slices (steps 1-2), None, `...`."""
    parts, out = [], []
    d = 0
    if flag(b) and shape:
        parts.append("...")
        rest = integer(b, 1, len(shape))
        out += list(shape[: len(shape) - rest])
        d = len(shape) - rest
    ellipsis = bool(parts)  # then every dim after it is indexed explicitly
    while d < len(shape) and (ellipsis or not parts or flag(b)):
        n = shape[d]
        kind = choice(b, ("slice", "int", "full", "none"))
        if kind == "none" and parts.count("None") < 2:
            parts.append("None")
            out.append(1)
            continue
        d += 1
        kind = "full" if kind == "none" else kind
        if kind == "full":
            parts.append(":")
            out.append(n)
        elif kind == "int":
            i = integer(b, -n, n - 1)
            parts.append(str(i))
        else:
            start = integer(b, 0, n - 1)
            stop = integer(b, start + 1, n)
            step = integer(b, 1, 2)
            parts.append(_slice(b, start, stop, step, n))
            out.append(len(range(start, stop, step)))
    if not shape:
        parts.append(choice(b, ("None", "...")))
        out += [1] if parts[-1] == "None" else []
    if "..." not in parts:
        out += list(shape[d:])
    return ", ".join(parts), tuple(out)


def _slice(b, start, stop, step, n):
    text_start = "" if start == 0 else str(start - n if flag(b) else start)
    text_stop = "" if stop == n else str(stop)
    return f"{text_start}:{text_stop}" + (f":{step}" if step != 1 else "")


def index_list(b, n, size=None):
    """A list of indices into a dim of length n (repeats and negative indices allowed)."""
    size = integer(b, 1, 4) if size is None else size
    return [integer(b, -n, n - 1) for _ in range(size)]
