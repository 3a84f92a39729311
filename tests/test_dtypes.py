"""Dtype discipline: float32 by default, float64 kept, scalars never up-cast, no grad for ints."""

import numpy as np
import pytest

import autodiff as ad
from tests.ops import harness
from tests.ops.specs import SPECS

# ---- defaults ------------------------------------------------------------------------------------


def test_float32_is_the_default():
    for t in (
        ad.tensor(1.5),
        ad.tensor([1.0, 2.0]),
        ad.tensor([[1, 2.5]]),
        ad.zeros(2),
        ad.ones(2),
        ad.full((2,), 3.0),
        ad.rand(2),
        ad.randn(2),
        ad.eye(2),
        ad.arange(0.0, 2.0),
    ):
        assert t.dtype == ad.float32, t


def test_arrays_keep_their_dtype_and_dtype_converts():
    assert ad.tensor(np.zeros(2)).dtype == ad.float64
    assert ad.tensor(np.float64(1.0)).dtype == ad.float64
    assert ad.tensor(np.zeros(2, np.float32)).dtype == ad.float32
    assert ad.tensor([1.0], dtype=ad.float64).dtype == ad.float64
    assert ad.tensor(np.zeros(2), dtype=ad.float32).dtype == ad.float32
    assert ad.zeros(2, dtype=ad.float64).dtype == ad.float64
    assert ad.randn(2, dtype=ad.float64).dtype == ad.float64
    assert ad.full((2,), 3).dtype == ad.int64  # the fill value's kind decides, as in PyTorch
    assert ad.tensor(np.zeros(2, np.float16)).dtype == ad.float16  # storage only: no grad
    with pytest.raises(TypeError, match="complex128"):
        ad.tensor(np.zeros(2, np.complex128))


# ---- every op keeps the dtype (the op table) -----------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize(("spec", "s"), harness.cases(SPECS))
def test_every_op_keeps_the_dtype(spec, s, dtype):
    tensors = harness.make_tensors(spec, harness.make_arrays(spec, s, dtype))
    out = spec.fn(*tensors, **s.kwargs)
    assert out.dtype == dtype, f"{spec.name}: {np.dtype(dtype)} in, {out.dtype} out"
    if out.requires_grad:
        out.backward(np.ones(out.shape, dtype))
    for i, t in enumerate(tensors):
        if spec.needs_grad(i):
            assert t.grad is not None and t.grad.dtype == dtype and t.grad.shape == t.shape


# ---- Python scalars ------------------------------------------------------------------------------

SCALAR_EXPRESSIONS = {
    "x * 2.5": lambda x: x * 2.5,
    "2.5 * x": lambda x: 2.5 * x,
    "x + 1": lambda x: x + 1,
    "1 + x": lambda x: 1 + x,
    "x - 0.1": lambda x: x - 0.1,
    "1 - x": lambda x: 1 - x,
    "x / 3": lambda x: x / 3,
    "3 / x": lambda x: 3 / x,
    "x / 0": lambda x: x / 0,
    "x ** 2": lambda x: x**2,
    "x ** 0.5": lambda x: x**0.5,
    "2 ** x": lambda x: 2**x,
    "2.5 ** x": lambda x: 2.5**x,
    "maximum(x, 0.5)": lambda x: ad.maximum(x, 0.5),
    "minimum(1e-3, x)": lambda x: ad.minimum(1e-3, x),
    "where(c, x, 0.0)": lambda x: ad.where(x > 1, x, 0.0),
    "clamp(x, 0.1, 1.5)": lambda x: x.clamp(0.1, 1.5),
    "leaky_relu(x, 0.2)": lambda x: ad.ops.leaky_relu(x, 0.2),
    "pad(x, value=1.5)": lambda x: ad.ops.pad(x, (1, 1), value=1.5),
    "mean": lambda x: x.mean(),
    "var": lambda x: x.var(),
    "std": lambda x: x.std(correction=0),
    "copy_(float32)": lambda x: x.copy_(ad.tensor([1.5, 2.5])),
}


@pytest.mark.parametrize("expr", SCALAR_EXPRESSIONS.values(), ids=SCALAR_EXPRESSIONS.keys())
def test_python_scalars_never_upcast_float32(expr):
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = expr(x * 1)
    assert y.dtype == ad.float32
    with np.errstate(divide="ignore", invalid="ignore"):
        y.sum().backward()
    assert x.grad.dtype == ad.float32


def test_python_scalars_keep_float64():
    x = ad.tensor([1.0, 2.0], dtype=ad.float64)
    assert (x * 2.5).dtype == (2**x).dtype == (x / 3).dtype == ad.float64


# ---- integer and bool tensors --------------------------------------------------------------------


def test_int_and_bool_tensors_exist_but_cannot_require_grad():
    i = ad.tensor([1, 2, 3])
    b = ad.tensor([True, False])
    assert i.dtype == ad.int64 and b.dtype == ad.bool_
    assert ad.tensor([1, 2], dtype=ad.int32).dtype == ad.int32
    assert ad.tensor(np.array([1], np.uint8)).dtype == ad.uint8
    assert (i + i).dtype == ad.int64 and (i * 2).tolist() == [2, 4, 6]
    assert i.sum().dtype == ad.int64 and b.sum().item() == 1
    assert (i > 1).dtype == ad.bool_
    assert (i + 0.5).dtype == ad.float32  # PyTorch's rule: a Python float gives the default
    for make in (
        lambda: ad.tensor([1, 2], requires_grad=True),
        lambda: ad.tensor([True], requires_grad=True),
        lambda: ad.zeros(2, dtype=ad.int64, requires_grad=True),
        lambda: i.requires_grad_(),
    ):
        with pytest.raises(TypeError, match="only float32 and float64"):
            make()
    with pytest.raises(TypeError, match="int64"):
        i.requires_grad = True
    assert not i.requires_grad


# ---- mixed float dtypes --------------------------------------------------------------------------


def test_float32_and_float64_promote_and_grads_keep_each_leafs_dtype():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    b = ad.tensor([3.0, 4.0], dtype=ad.float64, requires_grad=True)
    for y in (a + b, b * a, ad.cat([a, b]), ad.where(np.array([True, False]), a, b)):
        assert y.dtype == ad.float64
    with pytest.raises(TypeError, match="float32.*float64"):  # products refuse, as torch's do
        a @ b
    y = (a * b + a).sum()
    assert y.dtype == ad.float64
    y.backward()
    assert a.grad.dtype == ad.float32 and b.grad.dtype == ad.float64
    np.testing.assert_allclose(a.grad.data, [4.0, 5.0])
    np.testing.assert_allclose(b.grad.data, [1.0, 2.0])


def test_explicit_casts_are_ops_whose_gradient_comes_back_in_the_input_dtype():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    d = a.double()
    assert d.dtype == ad.float64 and d.grad_fn is not None
    assert a.float() is a and a.to(ad.float32) is a
    (d * d).sum().backward()
    assert a.grad.dtype == ad.float32
    np.testing.assert_allclose(a.grad.data, [2.0, 4.0])


def test_backward_gradient_is_cast_to_the_output_dtype():
    a = ad.tensor([1.0, 2.0], requires_grad=True)
    (a * 2).backward(np.array([1.0, 1.0], dtype=np.float64))
    assert a.grad.dtype == ad.float32


def test_inplace_keeps_the_dtype_of_the_tensor():
    x = ad.tensor([1.0, 2.0])
    x += ad.tensor([0.5, 0.5], dtype=ad.float64)
    x *= 2.5
    assert x.dtype == ad.float32
    np.testing.assert_allclose(x.data, [3.75, 6.25])
    i = ad.tensor([1, 2])
    i += 3
    i *= 2
    assert i.dtype == ad.int64 and i.tolist() == [8, 10]
