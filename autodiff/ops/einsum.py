"""`einsum`: sums of products named by an equation such as "bij,bjk->bik", as `torch.einsum`.

The equation is first rewritten with letters only: each operand's "..." becomes letters of
its own (right-aligned, so ellipsis dims broadcast as in numpy), and an implicit output (no
"->") is the ellipsis letters followed by the letters used once, in alphabetical order. numpy's
`einsum` with `optimize=True` then does the forward, and einsums do the backward.
"""

import string

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels.blas import numba_threads

__all__ = ["einsum"]


class Einsum(Function):
    """The einsum `subscripts` (letters only: "ij,jk->ik") of the operands.

    Gradient of operand i: the einsum of the output gradient with the other operands, giving
    operand i's distinct letters; letters summed away in the forward (in operand i only) are
    broadcast back, and a repeated letter ("ii->i") writes the gradient onto that diagonal.
    """

    @staticmethod
    def forward(ctx, *operands, subscripts):
        ctx.save(*operands)
        ctx.subscripts = subscripts
        with numba_threads():  # its products, as autodiff's others (kernels/blas.py)
            return np.einsum(subscripts, *operands, optimize=True)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved
        inputs, output = ctx.subscripts.split("->")
        terms = inputs.split(",")
        sizes = _letter_sizes(terms, operands)
        grads = []
        for i, term in enumerate(terms):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != i]
            reachable = set(output).union(*others)
            letters = "".join(dict.fromkeys(term))  # distinct, in order of first appearance
            target = "".join(c for c in letters if c in reachable)
            equation = ",".join([output, *others]) + "->" + target
            rest = [a for j, a in enumerate(operands) if j != i]
            with numba_threads():
                part = np.einsum(equation, g, *rest, optimize=True)
            # letters only operand i had were summed over: the gradient is constant along them
            part = np.expand_dims(part, [k for k, c in enumerate(letters) if c not in reachable])
            part = np.broadcast_to(part, [sizes[c] for c in letters])
            grads.append(part if letters == term else _onto_diagonal(part, term, letters, g.dtype))
        return tuple(grads)


def einsum(equation: str, *operands):
    """Sum of products of the operands' elements, named by `equation`, as `torch.einsum`.

    Parameters
    ----------
    equation : str
        Comma-separated subscripts, one letter (a-z, A-Z) per dim of each operand, optionally
        "..." for any number of leading (or middle) dims, and optionally "->" and the output's
        subscripts. Letters repeated across operands are multiplied along; letters missing from
        the output are summed over; a letter repeated within an operand takes its diagonal
        ("ii->i", and "ii" is the trace). Without "->", the output is "..." then the letters
        used once, in alphabetical order (capitals first). Spaces are ignored.
    *operands : Tensor
        Or one list of tensors. All of one dtype. A letter's dims have one size, or size 1
        (broadcast).

    Returns
    -------
    Tensor of the operands' dtype.

    Raises
    ------
    ValueError (ShapeError)
        A malformed equation, a subscript count that does not match an operand's dims, or sizes
        that do not agree.
    TypeError
        The operands' dtypes differ.
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string, got {type(equation).__name__}")
    if not operands:
        raise ShapeError("einsum: needs at least one operand")
    kinds = {a.dtype for a in operands}
    if len(kinds) > 1:
        raise TypeError(f"einsum: expected operands of one dtype, got {_describe(operands)}")
    subscripts = _letters_only(equation.replace(" ", ""), operands)
    _letter_sizes(subscripts.split("->")[0].split(","), operands, equation)
    return Einsum.apply(*operands, subscripts=subscripts)


def _letters_only(equation, operands):
    """The equation with every "..." replaced by letters and the output made explicit."""
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(
            f"einsum: equation {equation!r} has {len(terms)} operand(s) but "
            f"{len(operands)} were given: {_describe(operands)}"
        )
    for term in [*terms, output]:
        body = term.replace("...", "", 1)
        if not all(c in string.ascii_letters for c in body):
            raise ValueError(f"einsum: invalid subscripts {term!r} in {equation!r}")
    spare = [c for c in string.ascii_letters if c not in equation]
    n_ellipsis = []
    for term, a in zip(terms, operands, strict=True):
        n_letters = len(term.replace("...", ""))
        extra = a.ndim - n_letters
        if extra < 0 or (extra > 0 and "..." not in term):
            raise ShapeError(
                f"einsum: subscripts {term!r} name {n_letters} dims but the operand has "
                f"{a.ndim} (shape {a.shape} {a.dtype}) in {equation!r}"
            )
        n_ellipsis.append(extra)
    if max(n_ellipsis) > len(spare):
        raise ValueError(f"einsum: too many dims for the letters left in {equation!r}")
    ellipsis = "".join(spare[: max(n_ellipsis)])
    terms = [t.replace("...", ellipsis[len(ellipsis) - n :]) for t, n in zip(terms, n_ellipsis)]
    if arrow:
        output = output.replace("...", ellipsis)
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"einsum: output subscript {c} appears twice in {equation!r}")
            if not any(c in t for t in terms):
                raise ValueError(
                    f"einsum: output subscript {c} is in no operand's subscripts in {equation!r}"
                )
    else:
        joined = "".join(terms)
        once = sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ellipsis)
        output = ellipsis + "".join(once)
    return ",".join(terms) + "->" + output


def _letter_sizes(terms, operands, equation=None):
    """Each letter's size: the one size (other than 1) its dims have; checked if `equation`."""
    sizes = {}
    for term, a in zip(terms, operands, strict=True):
        for c, n in zip(term, a.shape, strict=True):
            if equation is not None and term.count(c) > 1 and n != a.shape[term.index(c)]:
                raise ShapeError(
                    f"einsum: subscript {c} is repeated in an operand of shape {a.shape} but "
                    f"its sizes differ in {equation!r}"
                )
            known = sizes.setdefault(c, n)
            if known != n and equation is not None and 1 not in (known, n):
                raise ShapeError(
                    f"einsum: subscript {c} has sizes {known} and {n} in {equation!r} "
                    f"({_describe(operands)})"
                )
            if known == 1:
                sizes[c] = n
    return sizes


def _onto_diagonal(part, term, letters, dtype):
    """A zero array of `term`'s shape holding `part` (indexed by `letters`) on the diagonal
    where `term` repeats a letter."""
    shape = [part.shape[letters.index(c)] for c in term]
    out = np.zeros(shape, dtype)
    strides = [sum(s for t, s in zip(term, out.strides, strict=True) if t == c) for c in letters]
    view = np.lib.stride_tricks.as_strided(out, part.shape, strides)
    view[...] = part
    return out


def _describe(operands):
    return ", ".join(f"{a.shape} {a.dtype}" for a in operands)
