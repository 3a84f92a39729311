"""In-place methods: the table-generated `name_` forms against PyTorch's, in and out of the graph,
and the version check that refuses only what backward really reads (issue 12, defect 5)."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import methods

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
UNIT = RNG.uniform(0.1, 0.9, (3, 4))  # inside the domain of log, sqrt, asin, atanh, logit...
OTHER = RNG.uniform(0.5, 1.5, (3, 4))
INT = np.arange(12).reshape(3, 4) + 1

UNARY = (
    "neg negative abs absolute exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal square "
    "sin cos tan asin acos atan arcsin arccos arctan sinh cosh tanh asinh atanh arcsinh arctanh "
    "erf erfc erfinv sigmoid relu logit sign sgn floor ceil round trunc fix frac nan_to_num tril "
    "triu logical_not"
)
BINARY = (
    "add sub mul div multiply divide subtract true_divide pow atan2 arctan2 hypot copysign fmod "
    "remainder floor_divide xlogy logical_and logical_or logical_xor"
)
BITWISE = "bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift"

# name: (input array, extra arguments: arrays become tensors, bool arrays masks). Every op of
# autodiff.methods.IN_PLACE must be here (test_every_in_place_method_is_tested).
CASES = {
    **dict.fromkeys(UNARY.split(), (UNIT, ())),
    **dict.fromkeys(BINARY.split(), (UNIT, (OTHER,))),
    **dict.fromkeys(BITWISE.split(), (INT, (INT[::-1] % 3,))),
    "bitwise_not": (INT, ()),
    "acosh": (OTHER + 1, ()),
    "arccosh": (OTHER + 1, ()),
    "clamp": (UNIT, (0.3, 0.6)),
    "clip": (UNIT, (None, 0.5)),
    "clamp_min": (UNIT, (0.5,)),
    "clamp_max": (UNIT, (0.5,)),
    "lerp": (UNIT, (OTHER, 0.25)),
    "addcmul": (UNIT, (OTHER, OTHER)),
    "addcdiv": (UNIT, (OTHER, OTHER)),
    "cumsum": (UNIT, (1,)),
    "cumprod": (UNIT, (0,)),
    "masked_fill": (UNIT, (UNIT > 0.5, -1.0)),
    "index_fill": (UNIT, (1, np.array([0, 2]), 7.0)),
    "index_add": (UNIT, (0, np.array([2, 2]), OTHER[:2])),
    "index_copy": (UNIT, (1, np.array([3, 0]), OTHER[:, :2])),
    "index_put": (UNIT, ((np.array([0, 2]), np.array([1, 1])), OTHER[0, :2])),
    "scatter": (UNIT, (0, np.array([[2, 0, 1, 1]]), OTHER)),
    "scatter_add": (UNIT, (1, np.array([[0, 0], [3, 3], [1, 2]]), OTHER)),
    "scatter_reduce": (UNIT, (0, np.array([[1, 1, 0, 2]]), OTHER, "amax")),
}


def _args(lib, args):
    def convert(a):
        if isinstance(a, tuple):
            return tuple(convert(b) for b in a)
        if isinstance(a, np.ndarray):
            return lib.tensor(a)
        return a

    return [convert(a) for a in args]


IN_PLACE = methods.IN_PLACE.split()


def test_every_in_place_method_is_tested():
    missing = [n for n in IN_PLACE if n not in CASES]
    assert not missing, f"add a case to CASES for the in-place methods {missing}"
    assert all(hasattr(ad.Tensor, f"{n}_") for n in IN_PLACE)


@pytest.mark.parametrize("name", IN_PLACE)
def test_inplace_method_matches_torch(name):
    array, args = CASES[name]
    x = ad.tensor(array)
    buffer = x.data
    result = getattr(x, f"{name}_")(*_args(ad, args))
    t = torch.tensor(array)
    getattr(t, f"{name}_")(*_args(torch, args))
    assert result is x and x.data is buffer, f"{name}_ replaced the tensor or its buffer"
    assert x._version == 1 and x.dtype == array.dtype
    np.testing.assert_allclose(x.data, t.numpy(), rtol=1e-12)
    assert getattr(ad.Tensor, f"{name}_").__name__ == f"{name}_"


@pytest.mark.parametrize("name", ["sqrt", "exp", "div", "sigmoid"])
def test_inplace_float_op_on_an_integer_tensor_is_refused_like_torch(name):
    _, args = CASES[name]
    with pytest.raises(RuntimeError):
        getattr(torch.tensor(INT), f"{name}_")(*_args(torch, args))
    x = ad.tensor(INT)
    with pytest.raises(TypeError, match=f"{name}_: result of dtype float"):
        getattr(x, f"{name}_")(*_args(ad, args))
    np.testing.assert_array_equal(x.data, INT)
    assert x._version == 0


def test_inplace_method_on_a_leaf_that_requires_grad_is_refused():
    a = ad.tensor(UNIT, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_: a leaf tensor that requires grad"):
        a.masked_fill_(ad.tensor(UNIT > 0.5), 0.0)
    with ad.no_grad():
        a.index_fill_(0, ad.tensor([1]), 0.0)
    assert a.is_leaf and a._version == 1 and not a.data[1].any()


def _graph_program(lib, a, b):
    """A graph with the generated in-place forms, written once for autodiff and once for torch."""
    y = a * 2
    y.masked_fill_(a > 0.5, 0.0)
    y.index_add_(0, lib.tensor([2, 0]), b[:2], alpha=3.0)
    y.scatter_(1, lib.tensor([[1], [0], [3]]), b[:, :1])
    y.mul_(b).sigmoid_()
    z = b * 1
    z.index_fill_(1, lib.tensor([0]), a[0, 0])
    z.clamp_(min=0.7)
    z.scatter_add_(0, lib.tensor([[0, 1, 2, 0]]), a[:1])
    z.tril_()
    return (y * z).sum()


def test_generated_inplace_methods_in_the_graph_match_torch():
    ours = [ad.tensor(a, requires_grad=True) for a in (UNIT, OTHER)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (UNIT, OTHER)]
    out, expected = _graph_program(ad, *ours), _graph_program(torch, *theirs)
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-12)
    out.backward()
    expected.backward()
    for x, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12)


# ---- the version check: refuse what backward reads, accept what it does not (defect 5) --------


def _program_writing_a_row_scaled_by(lib, x, factor):
    y = x * 1.0
    y[0] = y[0] * factor  # mul saves y[0] (a view of y) only if `factor` requires grad
    return y.sum()


@pytest.mark.parametrize(
    "factor",
    [3.0, np.array([2.0, 3.0, 4.0]), "tensor"],
    ids=["python number", "array", "tensor without grad"],
)
def test_overwriting_an_input_that_backward_does_not_read_is_accepted(factor):
    x = ad.tensor(np.ones((3, 3)), requires_grad=True)
    tx = torch.ones(3, 3, dtype=torch.float64, requires_grad=True)
    as_tensor = isinstance(factor, str)
    ours = ad.tensor([2.0, 3.0, 4.0], dtype=ad.float64) if as_tensor else factor
    theirs = torch.tensor([2.0, 3.0, 4.0], dtype=torch.float64) if as_tensor else factor
    if isinstance(theirs, np.ndarray):
        theirs = torch.from_numpy(theirs)
    _program_writing_a_row_scaled_by(ad, x, ours).backward()  # raised "Mul: ... modified"
    _program_writing_a_row_scaled_by(torch, tx, theirs).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_overwriting_an_input_that_backward_reads_is_still_refused():
    for lib in (torch, ad):
        x = lib.tensor(np.ones((3, 3)), requires_grad=True)
        y = x * 1.0
        y[0] = y[0] * y[1]  # y[0]'s gradient needs y[1] and the other way round
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()


def test_mul_saves_only_the_operands_its_backward_reads():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    assert (x * c).grad_fn.saved[0] is None  # x is read only for c's gradient
    assert (c * x).grad_fn.saved[1] is None
    assert len([a for a in (x * x).grad_fn.saved if a is not None]) == 2
