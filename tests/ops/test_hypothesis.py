"""Property tests: random broadcast shapes for binary ops, random small expression graphs.

Both are checked against PyTorch (forward and gradients) and against `autodiff.gradcheck`.
Hypothesis draws the shapes and the graph; values come from a drawn seed and each op's domain.
"""

from functools import partial
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from tests.ops.harness import assert_close, grid, mask, nonzero, normal, positive


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---- binary ops on broadcastable shapes ----------------------------------------------------------

# name -> (call on two tensors of either library, domains of the two inputs)
BINARY = {
    "add": (lambda x, y: x + y, (normal, normal)),
    "sub": (lambda x, y: x - y, (normal, normal)),
    "mul": (lambda x, y: x * y, (normal, normal)),
    "div": (lambda x, y: x / y, (normal, nonzero)),
    "maximum": (lambda x, y: x.maximum(y), (grid(0.0), grid(0.1))),
    "minimum": (lambda x, y: x.minimum(y), (grid(0.0), grid(0.1))),
    "pow": (lambda x, y: x**y, (positive, normal)),
}
SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
SHAPES3 = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)


def _binary_arrays(op, shapes, seed, dtype):
    rng = np.random.default_rng(seed)
    domains = BINARY[op][1]
    return [np.asarray(d(rng, s), dtype=dtype) for d, s in zip(domains, shapes, strict=True)]


def _compare_with_torch(torch, fn, arrays, rtol, atol):
    """fn on autodiff and on torch tensors, forward and backward with one upstream gradient."""
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), fn(*theirs)
    assert out.dtype == arrays[0].dtype
    assert_close(out.data, expected.detach().numpy(), rtol, atol, "forward")
    gy = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
    out.backward(gy)
    expected.backward(torch.from_numpy(gy))
    for i, (x, t) in enumerate(zip(ours, theirs, strict=True)):
        want = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(x.shape) if x.grad is None else x.grad.data
        assert x.grad is None or x.grad.dtype == x.dtype
        assert_close(got, want, rtol, atol, f"gradient of input {i}")


@settings(max_examples=150, deadline=None)
@given(op=st.sampled_from(sorted(BINARY)), shapes=SHAPES, seed=SEEDS)
def test_binary_ops_match_torch(torch, op, shapes, seed):
    arrays = _binary_arrays(op, shapes.input_shapes, seed, np.float32)
    _compare_with_torch(torch, BINARY[op][0], arrays, 1e-5, 1e-6)


@settings(max_examples=150, deadline=None)
@given(op=st.sampled_from(sorted(BINARY)), shapes=SHAPES, seed=SEEDS)
def test_binary_ops_pass_gradcheck(op, shapes, seed):
    arrays = _binary_arrays(op, shapes.input_shapes, seed, np.float64)
    out_shape = np.broadcast_shapes(*shapes.input_shapes)
    inputs = [ad.tensor(a, requires_grad=True) for a in arrays]
    out = BINARY[op][0](*inputs)
    assert out.shape == out_shape
    ad.gradcheck(BINARY[op][0], inputs)


@settings(max_examples=50, deadline=None)
@given(shapes=SHAPES3, seed=SEEDS)
def test_where_on_broadcast_shapes(torch, shapes, seed):
    cond_shape, x_shape, y_shape = shapes.input_shapes
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(y_shape)]
    condition = mask(cond_shape, seed)
    inputs = [ad.tensor(a, requires_grad=True) for a in arrays]
    ad.gradcheck(lambda x, y: ad.where(condition, x, y), inputs)

    def fn(x, y):
        if isinstance(x, ad.Tensor):
            return ad.where(condition, x, y)
        return torch.where(torch.from_numpy(condition), x, y)

    _compare_with_torch(torch, fn, [a.astype(np.float32) for a in arrays], 1e-5, 1e-6)


# ---- random expression graphs --------------------------------------------------------------------


class Step(NamedTuple):
    op: str
    a: int  # index of the first operand among the nodes so far (the leaves are 0 and 1)
    b: int | None  # second operand of a binary op (may equal a: a diamond)
    dim: int | None  # the dim of a reduction or softmax


class Program(NamedTuple):
    x_shape: tuple
    y_shape: tuple
    steps: tuple


def _max(t, d):
    return t.amax(d, keepdim=True)


# every entry works on autodiff and on torch tensors alike; guards keep values in the domain
UNARY = {
    "neg": lambda t: -t,
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "exp": lambda t: t.tanh().exp(),
    "log": lambda t: (t * t + 1).log(),
    "sqrt": lambda t: (t * t + 0.5).sqrt(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "square": lambda t: t**2,
}
BINARY_GRAPH = {
    "add": lambda s, t: s + t,
    "sub": lambda s, t: s - t,
    "mul": lambda s, t: s * t,
    "div": lambda s, t: s / (t * t + 1),
    "maximum": lambda s, t: s.maximum(t),
    "pow": lambda s, t: (s * s + 1) ** t.tanh(),
}
ALONG_DIM = {
    "sum": lambda t, d: t.sum(d, keepdim=True),
    "mean": lambda t, d: t.mean(d, keepdim=True),
    "max": _max,
    "logsumexp": lambda t, d: t.logsumexp(d, keepdim=True),
    "softmax": lambda t, d: t.softmax(d),
    "log_softmax": lambda t, d: t.log_softmax(d),
}
OPS = sorted(UNARY) + sorted(BINARY_GRAPH) + sorted(ALONG_DIM)


@st.composite
def programs(draw):
    """2-6 ops; each takes the newest node first, and any node (itself too) as a second operand."""
    x_shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    y_shape = draw(hnp.broadcastable_shapes(x_shape, min_dims=0, max_dims=3, max_side=3))
    shapes = [x_shape, y_shape]
    steps = []
    for _ in range(draw(st.integers(2, 6))):
        op = draw(st.sampled_from(OPS))
        a = len(shapes) - 1
        b = dim = None
        if op in BINARY_GRAPH:
            b = draw(st.integers(0, a))
            shapes.append(np.broadcast_shapes(shapes[a], shapes[b]))
        elif op in ALONG_DIM:
            if not shapes[a]:
                op, dim = "sum", None  # a 0-d node has no dim to reduce along
            else:
                dim = draw(st.integers(-len(shapes[a]), len(shapes[a]) - 1))
            shapes.append(shapes[a])
        else:
            shapes.append(shapes[a])
        steps.append(Step(op, a, b, dim))
    return Program(x_shape, y_shape, tuple(steps))


def _run(program, x, y):
    nodes = [x, y]
    for op, a, b, dim in program.steps:
        if op in UNARY:
            nodes.append(UNARY[op](nodes[a]))
        elif op in BINARY_GRAPH:
            nodes.append(BINARY_GRAPH[op](nodes[a], nodes[b]))
        elif dim is None:
            nodes.append(nodes[a].sum())
        else:
            nodes.append(ALONG_DIM[op](nodes[a], dim))
    return nodes[-1]


def _leaves(program, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s) for s in (program.x_shape, program.y_shape)]


DIAMOND = Program(
    (2, 3),
    (3,),
    (
        Step("tanh", 1, None, None),  # node 2 = tanh(y)
        Step("mul", 2, 0, None),  # node 3 = node 2 * x
        Step("max", 3, None, 1),  # node 4 = max over dim 1, kept
        Step("add", 4, 3, None),  # node 5 = node 4 + node 3: node 3 reached twice
        Step("mul", 5, 5, None),  # node 6 = node 5 * node 5: one node, both operands
        Step("logsumexp", 6, None, 0),
    ),
)
TIES = Program(
    (3, 1),
    (1, 4),
    (
        Step("relu", 1, None, None),
        Step("maximum", 2, 2, None),  # a tie everywhere: the gradient is split in half
        Step("sub", 3, 2, None),  # exactly 0
        Step("abs", 4, None, None),  # at abs's kink
        Step("add", 5, 0, None),
        Step("softmax", 6, None, -1),
    ),
)


@settings(max_examples=150, deadline=None)
@given(program=programs(), seed=SEEDS)
@example(program=DIAMOND, seed=0)
@example(program=TIES, seed=1)
def test_random_graphs_match_torch(torch, program, seed):
    _compare_with_torch(torch, partial(_run, program), _leaves(program, seed), 1e-9, 1e-10)


@settings(max_examples=150, deadline=None)
@given(program=programs(), seed=SEEDS)
@example(program=DIAMOND, seed=0)
@example(program=TIES, seed=1)
def test_random_graphs_pass_gradcheck(program, seed):
    leaves = [ad.tensor(a, requires_grad=True) for a in _leaves(program, seed)]
    with ad.no_grad():
        scale = max(1.0, float(np.max(np.abs(_run(program, *leaves).data))))
    # rounding in the central difference grows with the size of the output
    ad.gradcheck(lambda x, y: _run(program, x, y), leaves, atol=1e-5 * scale)
