"""Creation functions as PyTorch's: signatures, dtypes, shapes, memory sharing, generators."""

import numpy as np
import pytest

import autodiff as ad


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize(
    "call",
    [
        "zeros(2, 3)",
        "zeros((2, 3))",
        "ones([4])",
        "empty(2, 2)",
        "full((2, 2), 4)",
        "full((2,), 4.0)",
        "full((2,), True)",
        "arange(5)",
        "arange(0, 1, 0.25)",
        "arange(1, 10, 3)",
        "linspace(0, 1, 5)",
        "linspace(-1, 1, 1)",
        "logspace(0, 2, 3)",
        "logspace(0, 3, 4, base=2)",
        "eye(3)",
        "eye(2, 3)",
        "zeros(2, dtype=float)",
        "tensor([1, 2.5])",
        "tensor([True, 2])",
        "tensor(3)",
        "tensor([[1, 2], [3, 4]], dtype=float64)",
    ],
)
def test_dtype_shape_and_values_match_torch(call):
    torch = _torch()
    ours = eval(call, {**vars(ad), "float": float})
    theirs = eval(call, {**vars(torch), "float": float})
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), call
    assert ours.shape == tuple(theirs.shape)
    if not call.startswith("empty"):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_like_functions_keep_shape_and_dtype():
    x = ad.ones(2, 3, dtype=ad.float64)
    for fn in (ad.zeros_like, ad.ones_like, ad.empty_like, ad.rand_like, ad.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == ad.float64
    assert ad.full_like(x, 7).data.tolist() == [[7] * 3] * 2
    assert ad.zeros_like(x, dtype=ad.int64).dtype == ad.int64
    assert ad.ones_like(x, requires_grad=True).requires_grad


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.arange(4.0)
    t = ad.from_numpy(a)
    assert t.dtype == ad.float64
    a[0] = 100
    assert t.data[0] == 100
    t.data[1] = -1
    assert a[1] == -1
    with pytest.raises(TypeError):
        ad.from_numpy([1, 2])


def test_as_tensor_shares_when_it_can():
    a = np.ones(3, np.float32)
    assert np.shares_memory(ad.as_tensor(a).data, a)
    assert not np.shares_memory(ad.as_tensor(a, dtype=ad.float64).data, a)
    t = ad.ones(2)
    assert ad.as_tensor(t) is t
    assert ad.as_tensor([1.0, 2.0]).dtype == ad.float32


def test_tensor_of_zero_dim_tensors():
    x = ad.tensor([ad.tensor(1.0), ad.tensor(2.0)])
    assert x.dtype == ad.float32 and x.data.tolist() == [1.0, 2.0]
    y = ad.tensor([ad.tensor(1, dtype=ad.int64), ad.tensor(2, dtype=ad.int64)])
    assert y.dtype == ad.int64


def test_random_functions():
    assert ad.randint(10, (3, 4)).dtype == ad.int64
    r = ad.randint(3, 7, (1000,))
    assert r.data.min() >= 3 and r.data.max() <= 6 and r.shape == (1000,)
    p = ad.randperm(10)
    assert p.dtype == ad.int64 and sorted(p.data.tolist()) == list(range(10))
    n = ad.normal(2.0, 0.5, (20000,))
    assert n.dtype == ad.float32 and abs(float(n.mean()) - 2) < 0.02
    assert abs(float(n.std()) - 0.5) < 0.02
    m = ad.normal(ad.zeros(3, dtype=ad.float64), 1.0)
    assert m.shape == (3,) and m.dtype == ad.float64 and not m.requires_grad
    assert ad.normal(ad.zeros(2), ad.ones(2)).shape == (2,)
    with pytest.raises(ValueError):
        ad.randint(5, 5, (2,))
    with pytest.raises(TypeError):
        ad.normal(0.0, 1.0)


def test_generators_make_runs_repeatable():
    a = ad.rand(5, generator=ad.Generator().manual_seed(3))
    b = ad.rand(5, generator=ad.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.data, b.data)
    g = ad.Generator().manual_seed(1)
    assert g.initial_seed() == 1
    assert not np.array_equal(ad.randn(4, generator=g).data, ad.randn(4, generator=g).data)


def test_float_only_random_functions_refuse_integer_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        ad.rand(2, dtype=ad.int64)
