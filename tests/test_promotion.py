"""Type promotion as PyTorch's: every pair of operand kinds, through +, *, / and where."""

import itertools

import numpy as np
import pytest

import autodiff as ad

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]
SCALARS = [True, 3, 2.5, np.float64(2.5), np.int32(3), np.float32(0.5)]


def _operands():
    """(name, make) pairs: tensors with dims and 0-d tensors of every dtype, and scalars."""
    out = []
    for dtype in DTYPES:
        out.append((f"{dtype}[3]", lambda lib, d=dtype: _tensor(lib, [1, 2, 3], d)))
        out.append((f"{dtype}[]", lambda lib, d=dtype: _tensor(lib, 2, d)))
    for v in SCALARS:
        out.append((f"{type(v).__name__}({v})", lambda lib, v=v: v))
    return out


def _tensor(lib, values, dtype):
    if lib == "torch":
        import torch

        return torch.tensor(values, dtype=getattr(torch, dtype))
    return ad.tensor(np.array(values).astype(dtype))


OPERANDS = _operands()


def _is_tensor_operand(operand):
    return isinstance(operand[1]("ad"), ad.Tensor)


PAIRS = [
    (a, b)
    for a, b in itertools.product(OPERANDS, OPERANDS)
    if _is_tensor_operand(a) or _is_tensor_operand(b)
]
CASES = [
    pytest.param(op, a, b, id=f"{a[0]}-{op}-{b[0]}")
    for op in ("add", "mul", "div", "maximum")
    for a, b in PAIRS
    # torch.maximum takes two tensors
    if op != "maximum" or (_is_tensor_operand(a) and _is_tensor_operand(b))
]


def _torch_dtype_name(t):
    return str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize(("op", "a", "b"), CASES)
def test_result_dtype_matches_torch(op, a, b):
    torch = pytest.importorskip("torch")
    fns = {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "maximum": None,
    }
    x, y = a[1]("ad"), b[1]("ad")
    tx, ty = a[1]("torch"), b[1]("torch")
    if op == "maximum":
        fn, tfn = ad.maximum, torch.maximum
    else:
        fn = tfn = fns[op]
    try:
        expected = tfn(tx, ty)
    except (RuntimeError, TypeError):  # torch refuses it (e.g. bool - bool): so do we
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            fn(x, y)
        return
    with np.errstate(all="ignore"):
        got = fn(x, y)
    assert str(got.dtype) == _torch_dtype_name(expected), (
        f"{a[0]} {op} {b[0]}: {got.dtype}, torch {expected.dtype}"
    )
    np.testing.assert_allclose(got.data.astype(np.float64), expected.double().numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["exp", "log", "sqrt", "abs", "neg"])
def test_unary_dtype_matches_torch(fn, dtype):
    torch = pytest.importorskip("torch")
    x = _tensor("ad", [1, 2, 3], dtype)
    tx = _tensor("torch", [1, 2, 3], dtype)
    try:
        expected = getattr(torch, fn)(tx)
    except RuntimeError:
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            getattr(ad, fn)(x)
        return
    got = getattr(ad, fn)(x)
    assert str(got.dtype) == _torch_dtype_name(expected)


def test_scalars_never_widen_a_float32_tensor():
    x = ad.ones(3)
    for v in (2.5, np.float64(2.5), 3, True, np.int64(7)):
        assert (x * v).dtype == ad.float32
        assert (v - x).dtype == ad.float32


def test_where_of_two_scalars_is_float32():
    out = ad.where(ad.tensor([True, False]), 1.0, 0.0)
    assert out.dtype == ad.float32
    np.testing.assert_array_equal(out.data, [1.0, 0.0])


def test_int_cast_of_a_grad_tensor_does_not_require_grad():
    x = ad.tensor([1.5, 2.5], requires_grad=True)
    for dtype in (ad.int64, ad.int32, ad.bool_):
        y = x.to(dtype)
        assert not y.requires_grad and y.grad_fn is None
    assert x.double().requires_grad


def test_a_python_number_keeps_xlogy_in_the_tensors_dtype():
    assert ad.xlogy(ad.tensor([1, 2]), 2).dtype == ad.float32  # np.log(2) alone is float64
    assert ad.xlogy(3, ad.tensor([1.0, 2.0])).dtype == ad.float32
