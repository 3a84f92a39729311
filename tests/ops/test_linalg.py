"""Products, einsum and norms where the op table's samples do not go: kinks, ties, dtypes and
errors, against PyTorch."""

import math

import numpy as np
import pytest

import autodiff as ad
from autodiff.errors import ShapeError

INF = math.inf
ZERO_ROW = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]])
TIES = np.array([[2.0, -2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 1.0]])


def _compare_with_torch(fn, arrays):
    """fn on autodiff and on torch tensors (float64): values and gradients agree."""
    torch = pytest.importorskip("torch")
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(ad, ours), fn(torch, theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    gy = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(gy)
    expected.backward(torch.from_numpy(gy))
    for x, t in zip(ours, theirs, strict=True):
        assert not np.isnan(x.grad.data).any()
        expected_grad = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.data, expected_grad, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, 1.5, INF, -INF, 0, -1])
def test_vector_norm_gradient_at_a_zero_vector_matches_torch(p):
    _compare_with_torch(lambda lib, ts: lib.linalg.vector_norm(ts[0], p, dim=1), [ZERO_ROW])


@pytest.mark.parametrize("p", [INF, -INF])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_inf_norm_ties_share_the_gradient_as_torch(p, dim):
    _compare_with_torch(lambda lib, ts: lib.linalg.vector_norm(ts[0], p, dim=dim), [TIES])


@pytest.mark.parametrize("p", ["fro", 2])
def test_torch_norm_of_zeros_has_zero_gradient(p):
    _compare_with_torch(lambda lib, ts: lib.norm(ts[0], p), [np.zeros((2, 3))])


@pytest.mark.parametrize("ord", [1, -1, INF, -INF])
def test_matrix_norm_ties_match_torch(ord):
    a = np.array([[1.0, -1.0], [-1.0, 1.0]])
    _compare_with_torch(lambda lib, ts: lib.linalg.matrix_norm(ts[0], ord), [a])


def test_det_of_a_singular_matrix_has_the_cofactor_gradient():
    # torch 2.x gives 0 here (its rule divides by the determinant); d det / dA is the cofactor
    # matrix for every A
    a = ad.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]], dtype=ad.float64)
    a.requires_grad = True
    ad.linalg.det(a).backward()
    cofactors = [
        [
            (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a.data, i, 0), j, 1))
            for j in range(3)
        ]
        for i in range(3)
    ]
    np.testing.assert_allclose(a.grad.data, cofactors, atol=1e-12)


def test_einsum_of_one_tensor_twice_accumulates_both_gradients():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    _compare_with_torch(lambda lib, ts: lib.einsum("ij,jk->ik", ts[0], ts[0]), [x])


def test_einsum_accepts_a_list_and_spaces():
    a, b = ad.randn(2, 3), ad.randn(3, 4)
    expected = (a @ b).data
    np.testing.assert_allclose(ad.einsum("i j , j k -> i k", [a, b]).data, expected, rtol=1e-6)


def test_integer_products_stay_integer_as_in_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    cases = [
        (lambda lib, x, y: x @ y, a, b),
        (lambda lib, x, y: lib.einsum("ij,jk->ik", x, y), a, b),
        (lambda lib, x, y: lib.tensordot(x, y, dims=1), a, b),
        (lambda lib, x, y: lib.outer(x[0], y[0].double()), a, b),
        (lambda lib, x, y: lib.kron(x, y), a, b),
    ]
    for fn, x, y in cases:
        out = fn(ad, ad.tensor(x), ad.tensor(y))
        expected = fn(torch, torch.tensor(x), torch.tensor(y))
        assert str(out.dtype) == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(out.data, expected.numpy())


def test_tensor_methods_are_the_ops():
    x, m, v = ad.randn(3, 4), ad.randn(4, 2), ad.randn(4)
    np.testing.assert_allclose(x.mm(m).data, (x @ m).data)
    np.testing.assert_allclose(x.mv(v).data, (x @ v).data)
    np.testing.assert_allclose(v.dot(v).data, (v * v).sum().data, rtol=1e-6)
    np.testing.assert_allclose(v.outer(v).data, np.outer(v.data, v.data))
    assert x.norm(p=1, dim=1).shape == (3,)
    assert ad.ones(2, 3, 4).bmm(ad.ones(2, 4, 5)).shape == (2, 3, 5)
    assert ad.ger is not None and ad.linalg.matmul is ad.matmul


def test_linalg_is_a_module_of_autodiff():
    import autodiff.linalg

    assert ad.linalg is autodiff.linalg
    assert {"norm", "vector_norm", "matrix_norm"} <= set(ad.linalg.__all__)


def test_addmm_with_beta_zero_ignores_nan_in_input():
    out = ad.addmm(ad.full((2, 2), math.nan), ad.eye(2), ad.eye(2), beta=0, alpha=2.0)
    np.testing.assert_array_equal(out.data, 2 * np.eye(2))


def test_norm_dtype_argument_computes_in_that_dtype():
    x = ad.randn(3, 4, requires_grad=True)
    out = ad.norm(x, dtype=ad.float64)
    assert out.dtype == np.float64
    out.backward()
    assert x.grad.dtype == np.float32


# ---- errors -------------------------------------------------------------------------------------


def test_products_refuse_mixed_dtypes_naming_shapes_and_dtypes():
    a, b = ad.ones(2, 3), ad.ones(3, 2, dtype=ad.float64)
    for fn in (ad.matmul, ad.mm, lambda x, y: x @ y):
        with pytest.raises(TypeError, match=r"\(2, 3\) \(float32\) and \(3, 2\) \(float64\)"):
            fn(a, b)
    with pytest.raises(TypeError, match="same dtype"):
        ad.addmm(ad.ones(2, 2, dtype=ad.float64), a, a.T)
    with pytest.raises(TypeError, match="one dtype"):
        ad.einsum("ij,jk", a, b)
    with pytest.raises(TypeError, match="bool"):
        ad.matmul(ad.ones(2, 2) > 0, ad.ones(2, 2) > 0)


@pytest.mark.parametrize(
    ("fn", "shapes", "match"),
    [
        (ad.matmul, [(3,), ()], "at least one dim"),
        (ad.matmul, [(2, 3), (2, 3)], "3 != 2"),
        (ad.matmul, [(2, 2, 3), (3, 3, 1)], "batch dims"),
        (ad.mm, [(3,), (3, 2)], "2-D and 2-D"),
        (ad.bmm, [(2, 2, 3), (1, 3, 2)], "batch sizes"),
        (ad.mv, [(2, 3), (2, 3)], "2-D and 1-D"),
        (ad.dot, [(2, 3), (2, 3)], "1-D and 1-D"),
        (ad.dot, [(2,), (3,)], "2 != 3"),
        (ad.outer, [(2, 1), (3,)], "1-D and 1-D"),
        (ad.addmm, [(3, 3), (2, 3), (3, 3)], "broadcast"),
        (lambda a, b: ad.tensordot(a, b, dims=([0], [0])), [(2, 3), (3, 2)], "differ in size"),
        (lambda a, b: ad.tensordot(a, b, dims=3), [(2, 3), (3, 2)], "dims=3"),
    ],
)
def test_product_shape_errors(fn, shapes, match):
    with pytest.raises(ShapeError, match=match) as info:
        fn(*(ad.ones(*s) for s in shapes))
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("equation", "shapes", "match"),
    [
        ("ij,jk", [(2, 3)], "has 2 operand"),
        ("ij", [(2,)], "name 2 dims but the operand has 1"),
        ("i", [()], "name 1 dims but the operand has 0"),
        ("ii", [(2, 3)], "repeated"),
        ("i,i->ii", [(2,), (2,)], "appears twice"),
        ("ij->k", [(2, 3)], "in no operand"),
        ("ij,jk", [(2, 3), (2, 4)], "sizes 3 and 2"),
        ("i1->i", [(2, 3)], "invalid subscripts"),
    ],
)
def test_einsum_errors_match_torch_refusals(equation, shapes, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match):
        ad.einsum(equation, *(ad.ones(*s) for s in shapes))
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *(torch.ones(s) for s in shapes))


def test_norm_errors():
    with pytest.raises(TypeError, match="int64"):
        ad.norm(ad.ones(3, dtype=ad.int64))
    with pytest.raises(TypeError, match="int64"):
        ad.linalg.vector_norm(ad.ones(3, dtype=ad.int64))
    with pytest.raises(TypeError, match="ord must be a number"):
        ad.linalg.vector_norm(ad.ones(3), "fro")
    with pytest.raises(ShapeError, match="empty"):
        ad.linalg.vector_norm(ad.ones(0, 3), INF)
    assert ad.linalg.vector_norm(ad.ones(0, 3)).item() == 0.0
    with pytest.raises(ValueError, match="order 3"):
        ad.linalg.matrix_norm(ad.ones(3, 3), 3)
    with pytest.raises(ShapeError, match="at least 2 dims"):
        ad.linalg.matrix_norm(ad.ones(3))
    with pytest.raises(ShapeError, match="1-D or 2-D"):
        ad.linalg.norm(ad.ones(2, 3, 4), ord=2)
    with pytest.raises(ShapeError, match="pair of dims"):
        ad.norm(ad.ones(2, 3, 4), "fro", dim=(0, 1, 2))
    with pytest.raises(IndexError):
        ad.norm(ad.ones(2, 3), 2, dim=2)
    with pytest.raises(ShapeError, match="square"):
        ad.linalg.inv(ad.ones(2, 3))
