"""A fuzz program: leaves, a straight-line body of torch-named calls, and a scalar loss.

The body is Python source written against the names `torch` and `F`, so the one text runs in
both libraries: with `torch`, `F` bound to `autodiff`, `autodiff.nn.functional`, or to PyTorch's
`torch`, `torch.nn.functional`. What is compared is what is printed when the two disagree.

`Builder` records a program while the generator draws it, keeping each node's shape so every
call it writes is valid.
"""

import math
from dataclasses import dataclass, field

import numpy as np

MAX_NDIM = 4
MAX_NUMEL = 48


@dataclass
class Node:
    """A named tensor of the program: a leaf `x<k>` or a computed `v<k>`."""

    name: str
    shape: tuple
    contiguous: bool = True  # so `.view` may be written on it

    @property
    def ndim(self) -> int:
        return len(self.shape)


@dataclass
class Program:
    """Leaves (requiring grad) and constants as float64 arrays, the body, and the loss line."""

    leaves: list  # (name, ndarray)
    consts: list  # (name, ndarray): loss weights, targets; no grad
    body: list  # source lines
    nodes: list  # names of the computed nodes, in order of creation
    loss: str  # the expression of the scalar loss
    ops: tuple = ()  # the generator's op names, for grouping mismatches
    _run: object = field(default=None, repr=False, compare=False)

    def run(self, torch, functional):
        """(loss, [computed nodes]) on fresh leaves of the library `torch` (float64)."""
        if self._run is None:
            params = ", ".join(["torch", "F", *self._names()])
            body = [*self.body, f"loss = {self.loss}", f"return loss, [{', '.join(self.nodes)}]"]
            lines = [part for line in body for part in line.split("\n")]
            src = f"def run({params}):\n" + "".join(f"    {line}\n" for line in lines)
            namespace = {}
            exec(compile(src, "<fuzz program>", "exec"), namespace)
            self._run = namespace["run"]
        leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for _, a in self.leaves]
        consts = [torch.tensor(a, dtype=torch.float64) for _, a in self.consts]
        loss, nodes = self._run(torch, functional, *leaves, *consts)
        return leaves, loss, nodes

    def function(self, torch, functional):
        """`fn(*leaves) -> loss` with the constants bound: for central differences."""
        consts = [torch.tensor(a, dtype=torch.float64) for _, a in self.consts]
        self.run(torch, functional)  # compiles
        return lambda *leaves: self._run(torch, functional, *leaves, *consts)[0]

    def _names(self):
        return [name for name, _ in self.leaves] + [name for name, _ in self.consts]

    def source(self) -> str:
        """A standalone script that reproduces the program with autodiff (or, edited, torch)."""
        lines = [
            "import autodiff as torch  # or: import torch",
            "import autodiff.nn.functional as F  # or: import torch.nn.functional as F",
            "",
        ]
        for name, a in self.leaves:
            lines.append(
                f"{name} = torch.tensor({_literal(a)}, dtype=torch.float64, requires_grad=True)"
            )
        for name, a in self.consts:
            lines.append(f"{name} = torch.tensor({_literal(a)}, dtype=torch.float64)")
        lines += [*self.body, f"loss = {self.loss}", "loss.backward()", "print(loss.item())"]
        lines += [f"print({name}.grad)" for name, _ in self.leaves]
        return "\n".join(lines)

    def __str__(self):
        return self.source()


def _literal(a: np.ndarray) -> str:
    return repr(a.tolist())


class Builder:
    """Collects a program while a generator draws it; `draw` is hypothesis's."""

    def __init__(self, draw, seed):
        self.draw = draw
        self.rng = np.random.default_rng(seed)
        self.leaves, self.consts, self.body, self.ops = [], [], [], []
        self.nodes = []  # every Node, leaves and computed
        self.computed = []
        self.used = set()

    def leaf(self, shape) -> Node:
        """A new leaf requiring grad, values uniform in (-2, 2) to 5 decimals (short to print)."""
        node = Node(f"x{len(self.leaves)}", tuple(shape))
        self.leaves.append((node.name, self.rng.uniform(-2.0, 2.0, shape).round(5)))
        self.nodes.append(node)
        return node

    def const(self, array) -> str:
        """The name of a new float64 constant holding `array`."""
        name = f"c{len(self.consts)}"
        self.consts.append((name, np.asarray(array, dtype=np.float64)))
        return name

    def emit(self, expr, shape, uses, contiguous=True, before=()) -> Node:
        """`v<k> = expr` (after the lines `before`), a node of `shape` computed from `uses`."""
        node = Node(f"v{len(self.computed)}", tuple(shape), contiguous)
        self.body += [line.format(out=node.name) for line in before]
        self.body.append(f"{node.name} = {expr}")
        self.used.update(n.name for n in uses)
        self.nodes.append(node)
        self.computed.append(node)
        return node

    def statement(self, line, uses):
        """A line that computes no new node (an in-place write)."""
        self.body.append(line)
        self.used.update(n.name for n in uses)

    def fits(self, shape) -> bool:
        """Whether a result of this shape stays small."""
        return len(shape) <= MAX_NDIM and math.prod(shape) <= MAX_NUMEL

    def finish(self) -> Program:
        """The program whose loss weighs every node no later op used (each by a constant)."""
        sinks = [n for n in self.computed if n.name not in self.used] or self.nodes[:1]
        terms = [
            f"({n.name} * {self.const(self.rng.uniform(-1, 1, n.shape).round(2))}).sum()"
            for n in sinks
        ]
        # a leaf no op took is no part of the program (the shrinker leaves some behind)
        taken = self.used | {n.name for n in sinks}
        return Program(
            [(name, a) for name, a in self.leaves if name in taken],
            self.consts,
            self.body,
            [n.name for n in self.computed],
            " + ".join(terms),
            tuple(self.ops),
        )
