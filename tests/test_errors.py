"""Errors: ValueError/TypeError naming the op, the shapes and the dtypes, raised before any
state changes."""

import re

import numpy as np
import pytest

import autodiff as ad

X = ad.ones(2, 3)
Y64 = ad.ones(4, dtype=ad.float64)
I = ad.tensor([1, 2])

# (name, call, exception, fragments the message must contain, in order)
CASES = [
    ("add", lambda: X + Y64, ValueError, ["add:", "(2,3)", "(4,)", "float32", "float64"]),
    ("mul", lambda: X * Y64, ValueError, ["mul:", "(2,3)", "(4,)", "float32", "float64"]),
    ("pow", lambda: X**Y64, ValueError, ["pow:", "(2, 3) float32", "(4,) float64"]),
    ("maximum", lambda: ad.maximum(X, Y64), ValueError, ["maximum:", "(2, 3)", "(4,)"]),
    (
        "where shape",
        lambda: ad.where(np.ones(5, bool), X, X),
        ValueError,
        ["where:", "(5,) bool", "(2, 3) float32"],
    ),
    ("where dtype", lambda: ad.where(np.ones(3), X, X), TypeError, ["where:", "bool", "float64"]),
    (
        "matmul",
        lambda: X @ ad.ones(2, 3),
        ValueError,
        ["matmul:", "(2, 3) (float32)", "(2, 3) (float32)", "3 != 2"],
    ),
    ("matmul 0-d", lambda: X @ ad.tensor(1.0), ValueError, ["matmul:", "(2, 3)", "()"]),
    ("matmul batch", lambda: ad.ones(2, 2, 3) @ ad.ones(3, 3, 4), ValueError, ["matmul:"]),
    ("cat", lambda: ad.cat([X, ad.ones(2, 4)]), ValueError, ["cat:", "(2, 3)", "(2, 4) float32"]),
    ("stack", lambda: ad.stack([X, ad.ones(3, 2)]), ValueError, ["stack:", "(2, 3)", "(3, 2)"]),
    ("reshape", lambda: X.reshape(4), ValueError, ["reshape:", "(4,)", "(2, 3)"]),
    ("expand", lambda: X.expand(3, 3), ValueError, ["expand:", "(2, 3)", "(3, 3)"]),
    ("expand -1", lambda: X.expand(-1, 2, 3), ValueError, ["expand:", "(-1, 2, 3)", "(2, 3)"]),
    ("permute", lambda: X.permute(0, 0), ValueError, ["permute:", "(0, 0)", "(2, 3)"]),
    ("transpose", lambda: X.transpose(0, 2), ValueError, ["transpose:", "dim 2", "(2, 3)"]),
    ("squeeze", lambda: X.squeeze(3), ValueError, ["squeeze:", "dim 3", "(2, 3)"]),
    ("unsqueeze", lambda: X.unsqueeze(4), ValueError, ["unsqueeze:", "dim 4", "(2, 3)"]),
    ("sum", lambda: X.sum(2), ValueError, ["sum:", "dim 2", "(2, 3)"]),
    ("sum repeated", lambda: X.sum((0, -2)), ValueError, ["sum:", "repeats", "(2, 3)"]),
    ("max empty", lambda: ad.zeros(0).max(), ValueError, ["max:", "empty", "(0,)"]),
    ("mean int", lambda: I.mean(), TypeError, ["mean:", "int64", "(2,)"]),
    ("logsumexp int", lambda: I.logsumexp(), TypeError, ["logsumexp:", "int64"]),
    ("softmax", lambda: X.softmax(2), ValueError, ["softmax:", "dim 2", "(2, 3)"]),
    ("log_softmax", lambda: X.log_softmax(-3), ValueError, ["log_softmax:", "(2, 3)"]),
    ("pad", lambda: ad.ops.pad(X, (1,)), ValueError, ["pad:", "(1,)", "(2, 3)"]),
    ("clamp", lambda: X.clamp(), ValueError, ["clamp:", "min", "max"]),
    ("argmax", lambda: X.argmax(5), ValueError, ["argmax:", "dim 5", "(2, 3)"]),
    ("add str", lambda: X + "a", TypeError, ["add:", "float32", "(2, 3)"]),
    ("tensor dtype", lambda: ad.tensor(np.zeros(2, np.complex64)), TypeError, ["complex64"]),
    ("tensor str", lambda: ad.tensor("abc"), TypeError, ["tensor:", "not supported"]),
    (
        "requires_grad int",
        lambda: ad.tensor([1], requires_grad=True),
        TypeError,
        ["requires_grad:", "int64", "(1,)"],
    ),
    (
        "backward gradient",
        lambda: (ad.ones(2, requires_grad=True) * 2).backward(np.ones(3)),
        ValueError,
        ["backward:", "(3,) float64", "(2,) float32"],
    ),
    (
        "grad_outputs",
        lambda: ad.grad(ad.ones(1, requires_grad=True).sum(), [], grad_outputs=[None, None]),
        ValueError,
        ["grad:", "2 grad_outputs", "1 outputs"],
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_names_the_op_shapes_and_dtypes(call, kind, fragments):
    with pytest.raises(kind) as info:
        call()
    # our own classes (a ShapeError is a ValueError and a RuntimeError), not numpy's subclasses
    ours = {ValueError: (ValueError, ad.ShapeError, ad.DimError)}.get(kind, (kind,))
    assert type(info.value) in ours, f"{type(info.value).__name__}: {info.value}"
    pattern = ".*".join(re.escape(f) for f in fragments)
    assert re.search(pattern, str(info.value)), str(info.value)


def _state(t):
    return (t.data.copy(), t.data, t._version, t.grad_fn, t.requires_grad, t.grad)


def _assert_unchanged(t, before):
    values, buffer, version, grad_fn, requires_grad, grad = before
    np.testing.assert_array_equal(t.data, values)
    assert t.data is buffer and t._version == version and t.grad_fn is grad_fn
    assert t.requires_grad == requires_grad and t.grad is grad


@pytest.mark.parametrize(
    ("modify", "kind", "fragments"),
    [
        (lambda t: t.__iadd__(ad.ones(4)), ValueError, ["add:", "(2,3)", "(4,)"]),
        (lambda t: t.add_(ad.ones(2, 2, 3)), ValueError, ["add_:", "(2, 2, 3)", "(2, 3) float32"]),
        (lambda t: t.mul_(ad.ones(5, 1, 1)), ValueError, ["mul_:", "(5, 2, 3)", "(2, 3)"]),
        (lambda t: t.copy_(ad.ones(4)), ValueError, ["(2,3)", "(4,)"]),
        (lambda t: t.__setitem__(0, ad.ones(5)), ValueError, ["(5,)", "(3,)"]),
        (lambda t: t.__setitem__(7, 1.0), IndexError, ["7"]),
        (lambda t: t.clamp_(), ValueError, ["clamp:"]),
        (lambda t: t.div_(ad.ones(3, 2)), ValueError, ["(2,3)", "(3,2)"]),
    ],
)
@pytest.mark.parametrize("graph", [False, True], ids=["plain", "in-graph"])
def test_failing_inplace_op_leaves_the_tensor_unchanged(modify, kind, fragments, graph):
    leaf = ad.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=graph)
    t = leaf * 1 if graph else leaf
    before = _state(t)
    with pytest.raises(kind) as info:
        modify(t)
    assert re.search(".*".join(re.escape(f) for f in fragments), str(info.value)), info.value
    _assert_unchanged(t, before)
    if graph:  # the graph still works
        t.sum().backward()
        np.testing.assert_array_equal(leaf.grad.data, np.ones((2, 3)))


def test_failing_dtype_inplace_leaves_the_tensor_unchanged():
    i = ad.tensor([1, 2])
    before = _state(i)
    with pytest.raises(TypeError, match=r"add_:.*float32.*int64.*\(2,\)"):
        i += 0.5
    _assert_unchanged(i, before)


def test_refused_inplace_on_a_leaf_leaves_it_unchanged():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    before = _state(a)
    with pytest.raises(RuntimeError, match=r"add_:.*leaf.*\(2,\)"):
        a += 1
    _assert_unchanged(a, before)


def test_failing_requires_grad_leaves_the_flag_unchanged():
    i = ad.tensor([1, 2])
    with pytest.raises(TypeError):
        i.requires_grad_()
    assert not i.requires_grad
    y = ad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False
    assert y.requires_grad


def test_failing_backward_call_leaves_grads_and_graph_unchanged():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    y = a * a
    with pytest.raises(ValueError, match="backward"):
        y.backward(np.ones(3))
    assert a.grad is None
    y.backward(np.ones(2))  # the graph was not freed by the failed call
    np.testing.assert_array_equal(a.grad.data, [2.0, 4.0])


def test_backward_that_fails_midway_writes_no_leaf_grad():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0], requires_grad=True)
    h = a * 1
    y = (h * h).sum() + (b * 2).sum()
    h.add_(1)  # h is saved by h * h: backward fails when it reaches that node
    with pytest.raises(RuntimeError, match="Mul"):
        y.backward()
    assert a.grad is None and b.grad is None


def test_gradcheck_errors():
    with pytest.raises(ValueError, match="no input requires grad"):
        ad.gradcheck(lambda t: t * 2, [ad.tensor([1.0])])
    x = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="float32"):
        ad.gradcheck(lambda t: (t * 2).float(), [x])
    with pytest.raises(TypeError, match="must return a Tensor"):
        ad.gradcheck(lambda t: 1.0, [x])
    with pytest.raises(ValueError, match=r"numerical_grad:.*\(2,\)"):
        ad.numerical_grad(lambda t: t * 2, [ad.tensor([1.0, 2.0])])


# ---- the classes PyTorch raises (issue 10, item 11) ----------------------------------------------

X3 = ad.randn(2, 3)
I3 = ad.zeros(2, 3, dtype=ad.int64)

# a dim out of range: IndexError as in PyTorch, and ValueError as our docs say
BAD_DIMS = {
    "sum": lambda: X3.sum(5),
    "mean": lambda: X3.mean(-3),
    "max": lambda: X3.max(2),
    "amax": lambda: X3.amax(4),
    "softmax": lambda: X3.softmax(2),
    "log_softmax": lambda: ad.nn.functional.log_softmax(X3, 3),
    "cat": lambda: ad.cat([X3, X3], 2),
    "stack": lambda: ad.stack([X3, X3], 4),
    "transpose": lambda: X3.transpose(0, 2),
    "squeeze": lambda: X3.squeeze(3),
    "unsqueeze": lambda: X3.unsqueeze(4),
    "flatten": lambda: X3.flatten(3),
    "gather": lambda: X3.gather(2, I3),
    "index_select": lambda: X3.index_select(2, ad.tensor([0])),
    "sort": lambda: X3.sort(2),
    "topk": lambda: X3.topk(1, 2),
    "cumsum": lambda: X3.cumsum(2),
    "argmax": lambda: X3.argmax(2),
    "std": lambda: X3.std(2),
    "norm": lambda: X3.norm(dim=2),
    "split": lambda: X3.split(1, 2),
    "flip": lambda: X3.flip(2),
    "narrow": lambda: X3.narrow(2, 0, 1),
    "size": lambda: X3.size(2),
    "movedim": lambda: X3.movedim(0, 2),
    "median": lambda: X3.median(2),
    "prod": lambda: X3.prod(2),
    "normalize": lambda: ad.nn.functional.normalize(X3, dim=2),
    "scatter": lambda: X3.scatter(2, I3, 1.0),
    "vector_norm": lambda: ad.linalg.vector_norm(X3, dim=2),
}


@pytest.mark.parametrize("call", BAD_DIMS.values(), ids=BAD_DIMS.keys())
def test_a_dim_out_of_range_is_an_index_error_and_a_value_error(call):
    with pytest.raises(IndexError) as info:
        call()
    assert isinstance(info.value, ValueError) and "out of range" in str(info.value)


# shapes that do not fit: RuntimeError as in PyTorch, and ValueError as our docs say
BAD_SHAPES = {
    "add": lambda: X3 + ad.ones(4),
    "matmul": lambda: X3 @ X3,
    "cat": lambda: ad.cat([X3, ad.ones(3, 4)], 0),
    "stack": lambda: ad.stack([X3, ad.ones(3, 2)]),
    "linear": lambda: ad.nn.Linear(4, 2)(X3),
    "conv2d": lambda: ad.nn.functional.conv2d(ad.ones(1, 2, 4, 4), ad.ones(3, 3, 3, 3)),
    "mse_loss": lambda: ad.nn.functional.mse_loss(X3, ad.ones(3, 2)),
    "cross_entropy": lambda: ad.nn.functional.cross_entropy(X3, ad.tensor([0, 1, 2])),
    "reshape": lambda: X3.reshape(4, 2),
    "expand": lambda: X3.expand(3, 3),
    "einsum": lambda: ad.einsum("ij,jk->ik", X3, X3),
    "layer_norm": lambda: ad.nn.functional.layer_norm(X3, (4,)),
    "masked_fill": lambda: X3.masked_fill(ad.ones(4, dtype=ad.bool_), 0.0),
    "batch_norm": lambda: ad.nn.BatchNorm1d(4)(X3),
    "setitem": lambda: X3.clone().__setitem__(0, ad.ones(5)),
}


@pytest.mark.parametrize("call", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_shapes_that_do_not_fit_are_a_runtime_error_and_a_value_error(call):
    with pytest.raises(RuntimeError) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, ad.ShapeError)
