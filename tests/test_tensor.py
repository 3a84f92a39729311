"""Tensor: construction, attributes, operators, indexing and in-place ops."""

import numpy as np
import pytest

import autodiff as ad


def _leaf(values, dtype=np.float64):
    return ad.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- construction and attributes -----------------------------------------------------------------


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = ad.tensor(a)
    a[0] = 99
    assert t.data[0] == 1.0
    assert ad.tensor(t).data is not t.data


def test_attributes():
    t = ad.tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3
    assert t.numel() == 6 and len(t) == 2 and t.T.shape == (3, 2)
    assert t.numpy() is t.data
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t[1, 2].item() == 5.0 and isinstance(t[1, 2].item(), float)
    assert np.asarray(t) is t.data
    assert ad.tensor(3).item() == 3
    with pytest.raises(ValueError, match="item: tensor has 6 elements"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(ad.tensor(1.0))


def test_bool_and_iteration():
    assert bool(ad.tensor([1.0])) and not bool(ad.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ad.tensor([1.0, 2.0]))
    rows = list(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


def test_repr():
    assert repr(ad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(ad.tensor([1.0], requires_grad=True))
    assert "dtype=float64" in repr(ad.tensor([1.0], dtype=ad.float64))
    assert "grad_fn=<MulBackward>" in repr(ad.tensor([1.0], requires_grad=True) * 2)


def test_tensors_hash_by_identity():
    a, b = ad.tensor([1.0]), ad.tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


def test_creation_functions():
    assert ad.zeros(2, 3).shape == (2, 3) and ad.zeros((2, 3)).dtype == ad.float32
    assert ad.ones(2, dtype=ad.float64).dtype == ad.float64
    assert ad.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert ad.arange(3).dtype == ad.int64 and ad.arange(0.0, 1.0, 0.5).dtype == ad.float32
    assert ad.eye(3).data.trace() == 3
    x = ad.randn(4, 5)
    assert ad.zeros_like(x).shape == (4, 5) and ad.ones_like(x).dtype == ad.float32
    assert ad.rand(3, requires_grad=True).requires_grad
    ad.manual_seed(5)
    first = ad.randn(3).data
    ad.manual_seed(5)
    np.testing.assert_array_equal(ad.randn(3).data, first)
    np.testing.assert_array_equal(ad.rand(3, generator=1).data, ad.rand(3, generator=1).data)


# ---- operators -----------------------------------------------------------------------------------


def test_operators_with_scalars_and_reflected_forms():
    x = ad.tensor([1.0, 2.0, 4.0])
    cases = {
        "x + 1": (x + 1, [2, 3, 5]),
        "1 + x": (1 + x, [2, 3, 5]),
        "x - 1": (x - 1, [0, 1, 3]),
        "1 - x": (1 - x, [0, -1, -3]),
        "2 * x": (2 * x, [2, 4, 8]),
        "x / 2": (x / 2, [0.5, 1, 2]),
        "2 / x": (2 / x, [2, 1, 0.5]),
        "x ** 2": (x**2, [1, 4, 16]),
        "2 ** x": (2**x, [2, 4, 16]),
        "-x": (-x, [-1, -2, -4]),
        "+x": (+x, [1, 2, 4]),
        "abs(-x)": (abs(-x), [1, 2, 4]),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, ad.Tensor), name
        np.testing.assert_allclose(got.data, expected, err_msg=name)


def test_numpy_operands_on_either_side_give_tensors():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0], dtype=np.float32)
    for got, expected in [
        (a + x, [4, 6]),
        (x + a, [4, 6]),
        (a - x, [2, 2]),
        (a * x, [3, 8]),
        (a / x, [3, 2]),
        (x / a, [1 / 3, 0.5]),
        (np.float32(2) * x, [2, 4]),
    ]:
        assert isinstance(got, ad.Tensor) and got.requires_grad
        np.testing.assert_allclose(got.data, expected, rtol=1e-6)
    (x / a).sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 / a, rtol=1e-6)


def test_matmul_operator():
    a = ad.tensor(np.arange(6.0).reshape(2, 3))
    b = np.ones((3, 2))
    np.testing.assert_array_equal((a @ b).data, a.data @ b)
    np.testing.assert_array_equal((np.ones((1, 2)) @ a).data, np.ones((1, 2)) @ a.data)


def test_comparisons_give_bool_tensors_without_grad():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ad.tensor([3.0, 2.0, 1.0])
    for got, expected in [
        (x < y, [True, False, False]),
        (x <= y, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == y, [False, True, False]),
        (x != y, [True, False, True]),
    ]:
        assert got.dtype == ad.bool_ and not got.requires_grad
        assert got.tolist() == expected


def test_methods_call_the_ops():
    x = ad.tensor([[1.0, -2.0], [3.0, 0.5]])
    np.testing.assert_allclose(x.exp().data, np.exp(x.data))
    np.testing.assert_allclose(x.abs().sqrt().log().data, np.log(np.sqrt(np.abs(x.data))))
    np.testing.assert_allclose(x.clamp(min=0).data, np.clip(x.data, 0, None))
    np.testing.assert_allclose(x.relu().data, np.maximum(x.data, 0))
    np.testing.assert_allclose(x.sigmoid().data, 1 / (1 + np.exp(-x.data)), rtol=1e-6)
    np.testing.assert_allclose(x.tanh().data, np.tanh(x.data), rtol=1e-6)
    np.testing.assert_allclose(x.softmax(0).data.sum(0), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).exp().data.sum(1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(x.pow(2).data, x.data**2)
    assert x.sum().item() == 2.5 and x.mean(1).tolist() == [-0.5, 1.75]
    assert x.max().item() == 3.0 and x.min(0).values.tolist() == [1.0, -2.0]
    assert x.argmax().item() == 2 and x.argmin(1).tolist() == [1, 1]
    assert x.argmax(0, keepdim=True).shape == (1, 2) and x.argmax().dtype == ad.int64
    np.testing.assert_allclose(x.var().item(), np.var(x.data, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.std(0, correction=0).data, np.std(x.data, 0), rtol=1e-6)
    np.testing.assert_allclose(x.logsumexp(1).data, np.log(np.exp(x.data).sum(1)), rtol=1e-6)
    assert x.maximum(ad.zeros(2)).tolist() == [[1.0, 0.0], [3.0, 0.5]]
    assert x.minimum(ad.zeros(2)).tolist() == [[0.0, -2.0], [0.0, 0.0]]
    assert x.reshape(4).shape == (4,) and x.view(1, 4).shape == (1, 4)
    assert x.flatten().shape == (4,) and x.unsqueeze(0).shape == (1, 2, 2)
    assert x.unsqueeze(0).squeeze().shape == (2, 2) and x.transpose(0, 1).tolist()[0] == [1, 3]
    assert x.permute(1, 0).shape == (2, 2) and x[None].expand(3, 2, 2).shape == (3, 2, 2)
    assert x.matmul(x).shape == (2, 2) and x.float() is x and x.double().dtype == ad.float64
    assert x.to(ad.float64).dtype == ad.float64 and x.astype(np.float64).dtype == ad.float64


# ---- indexing ------------------------------------------------------------------------------------


def test_indexing_reads_and_backprops():
    a = np.arange(12.0).reshape(3, 4)
    x = ad.tensor(a, requires_grad=True)
    idx = ad.tensor(np.array([0, 2, 2]))
    parts = [x[1], x[:, 1:3], x[..., None, -1], x[idx], x[x > 5], x[[0, 1], [3, 3]]]
    expected = [a[1], a[:, 1:3], a[..., None, -1], a[[0, 2, 2]], a[a > 5], a[[0, 1], [3, 3]]]
    for got, want in zip(parts, expected, strict=True):
        np.testing.assert_array_equal(got.data, want)
    sum(p.sum() for p in parts).backward()
    grad = np.zeros_like(a)
    grad[1] += 1
    grad[:, 1:3] += 1
    grad[:, -1] += 1
    np.add.at(grad, [0, 2, 2], 1)
    grad[a > 5] += 1
    np.add.at(grad, ([0, 1], [3, 3]), 1)
    np.testing.assert_array_equal(x.grad.data, grad)


def test_basic_indexing_is_a_view_and_advanced_a_copy():
    x = ad.tensor(np.arange(6.0))
    assert np.shares_memory(x[1:3].data, x.data)
    assert not np.shares_memory(x[np.array([1, 2])].data, x.data)


# ---- in-place ops: numerics ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "apply", "expected"),
    [
        ("+=", lambda x: x.__iadd__(2), [3, 4, 5]),
        ("-=", lambda x: x.__isub__(2), [-1, 0, 1]),
        ("*=", lambda x: x.__imul__(2), [2, 4, 6]),
        ("/=", lambda x: x.__itruediv__(2), [0.5, 1, 1.5]),
        ("+= tensor", lambda x: x.__iadd__(ad.tensor([1.0, 1.0, 1.0])), [2, 3, 4]),
        ("add_", lambda x: x.add_(ad.tensor(1.0)), [2, 3, 4]),
        ("sub_", lambda x: x.sub_(1), [0, 1, 2]),
        ("mul_", lambda x: x.mul_(ad.tensor([1.0, 0.0, -1.0])), [1, 0, -3]),
        ("div_", lambda x: x.div_(ad.tensor([1.0, 2.0, 3.0])), [1, 1, 1]),
        ("zero_", lambda x: x.zero_(), [0, 0, 0]),
        ("fill_", lambda x: x.fill_(7), [7, 7, 7]),
        ("copy_", lambda x: x.copy_(ad.tensor([9.0, 8.0, 7.0])), [9, 8, 7]),
        ("copy_ broadcast", lambda x: x.copy_(ad.tensor(5.0)), [5, 5, 5]),
        ("clamp_", lambda x: x.clamp_(1.5, 2.5), [1.5, 2, 2.5]),
        ("setitem", lambda x: x.__setitem__(1, 0.0), [1, 0, 3]),
        ("setitem mask", lambda x: x.__setitem__(x > 1.5, ad.tensor(-1.0)), [1, -1, -1]),
        ("setitem slice", lambda x: x.__setitem__(slice(0, 2), ad.tensor([4.0, 5.0])), [4, 5, 3]),
    ],
)
def test_inplace_numerics(name, apply, expected):
    x = ad.tensor([1.0, 2.0, 3.0])
    buffer = x.data
    result = apply(x)
    assert result is x or result is None
    assert x.data is buffer, f"{name}: replaced the buffer instead of writing it"
    assert x.dtype == ad.float32 and x._version == 1
    np.testing.assert_allclose(x.data, expected)


def test_inplace_python_operators_keep_identity():
    x = ad.tensor([1.0, 2.0])
    y = x
    y += 1
    y *= 3
    y -= 1
    y /= 2
    assert y is x and x._version == 4
    np.testing.assert_allclose(x.data, [2.5, 4.0])


def test_inplace_through_a_view_writes_the_base():
    base = ad.tensor(np.zeros((2, 3)))
    row = base[1]
    row += 5
    base.reshape(6)[0] = 1.0
    base.T.mul_(2)
    np.testing.assert_array_equal(base.data, [[2, 0, 0], [10, 10, 10]])
    assert base._version == row._version == 3  # views share the version counter


def test_grad_zero_():
    x = _leaf([1.0, 2.0])
    (x * x).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


# ---- in-place ops in the graph -------------------------------------------------------------------


def _inplace_program(lib, a, b):
    """A graph with every in-place form, written once for autodiff and once for torch."""
    y = a * 2
    y += b
    y -= a
    y *= b
    y /= a + 3
    y.add_(a)
    y.mul_(b)
    z = y * 1
    z[1] = b[0] * 4  # setitem with a value that requires grad
    z[2:] = 0.5
    w = b * 0
    w.copy_(z)  # copy_ from a tensor that requires grad
    v = a * 1
    v.zero_()
    v.add_(w)
    u = v * 1
    u.fill_(2.0)
    return (v * v).sum() + (u * a).sum() + lib.exp(y).sum()


def test_inplace_ops_in_the_graph_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.5, 1.5, 5) for _ in range(2)]
    ours = [_leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _inplace_program(ad, *ours)
    expected = _inplace_program(torch, *theirs)
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-12)
    out.backward()
    expected.backward()
    for x, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_inplace_on_a_tensor_without_grad_with_a_value_that_requires_grad():
    v = _leaf(2.0)
    x = ad.zeros(3, dtype=ad.float64)
    x[0] = v
    x[2] = v * 3
    assert x.requires_grad and not x.is_leaf
    (x * x).sum().backward()
    assert v.grad.item() == 2 * 2 + 2 * 6 * 3


@pytest.mark.parametrize(
    ("modify", "op"),
    [
        (lambda t: t.__iadd__(1), "Mul"),
        (lambda t: t.mul_(2), "Mul"),
        (lambda t: t.zero_(), "Mul"),
        (lambda t: t.copy_(ad.tensor([5.0, 6.0], dtype=ad.float64)), "Mul"),
        (lambda t: t.__setitem__(0, 1.0), "Mul"),
    ],
)
def test_modifying_a_saved_tensor_fails_at_backward_naming_the_op(modify, op):
    a = _leaf([1.0, 2.0])
    b = a * 1
    y = b * b  # saves b
    modify(b)
    with pytest.raises(RuntimeError, match=f"{op}: a tensor saved for backward was modified"):
        y.sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a.exp(),
        lambda a: a.sigmoid(),
        lambda a: a.amax(0),
        lambda a: a.amax(0, keepdim=True),
        lambda a: a.logsumexp(0),
        lambda a: a.softmax(0),
        lambda a: a.sqrt(),
    ],
    ids=["exp", "sigmoid", "amax", "amax-keepdim", "logsumexp", "softmax", "sqrt"],
)
def test_modifying_a_saved_output_fails_at_backward(make):
    a = _leaf([1.0, 2.0])
    y = make(a)  # saves its own output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_modifying_a_leaf_saved_for_backward_under_no_grad_fails_at_backward():
    a = _leaf([1.0, 2.0])
    y = (a * a).sum()
    with ad.no_grad():
        a += 1
    with pytest.raises(RuntimeError, match="Mul: a tensor saved"):
        y.backward()


def test_modifying_an_unsaved_input_is_fine():
    a = _leaf([1.0, 2.0])
    b = a * 1
    y = b + 1  # add saves nothing
    b.mul_(5)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


def test_inplace_on_a_leaf_that_requires_grad():
    a = _leaf([1.0, 2.0])
    for modify in (
        lambda: a.__iadd__(1),
        lambda: a.mul_(2),
        lambda: a.zero_(),
        lambda: a.__setitem__(0, 5.0),
    ):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*no_grad"):
            modify()
    np.testing.assert_array_equal(a.data, [1.0, 2.0])
    assert a._version == 0 and a.is_leaf
    with ad.no_grad():
        a -= 0.5
        a[1] = 4.0
    np.testing.assert_array_equal(a.data, [0.5, 4.0])
    assert a.is_leaf and a.requires_grad and a.grad_fn is None and a._version == 2


def test_inplace_on_a_view_that_is_recorded_is_refused():
    a = _leaf([[1.0, 2.0], [3.0, 4.0]])
    row = (a * 1)[0]
    with pytest.raises(RuntimeError, match="view"):
        row.mul_(2)
