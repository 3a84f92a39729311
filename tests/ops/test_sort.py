"""Reductions, sorting and scans against PyTorch where the op table's domains do not go: ties,
NaN, zeros, integer dtypes, the indices and named tuples, the non-differentiable ops (argsort,
unique, any, all, count_nonzero) and errors. The regression tests of issue 12 (defects 1 and 6)
are at the end."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.errors import DimError, ShapeError

torch = pytest.importorskip("torch")

NAN = np.nan
TIES = np.array([[3.0, 1.0, 3.0, 2.0], [2.0, 2.0, 5.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
WITH_NAN = np.array([[1.0, NAN, 3.0, NAN], [2.0, 2.0, 1.0, 0.0], [NAN, 4.0, 4.0, -1.0]])
ZEROS = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0], [1.0, 2.0, 3.0, 4.0]])


def _outputs(result):
    """The tensors an op returned, as a list (a named tuple gives its fields in order)."""
    return list(result) if isinstance(result, tuple) else [result]


def _module(t):
    """autodiff or torch, whichever t belongs to."""
    return ad if isinstance(t, ad.Tensor) else torch


def _compare(fn, array, grad=True):
    """fn on an autodiff and a torch tensor of `array`: the same outputs (dtypes, shapes, values
    to rounding, NaN in the same places) and, with `grad`, the same gradient for the upstream
    gradient 1, 2, 3... on the first output."""
    ours_x = ad.tensor(array, requires_grad=grad)
    theirs_x = torch.tensor(array, requires_grad=grad)
    with np.errstate(all="ignore"):
        ours, theirs = _outputs(fn(ours_x)), _outputs(fn(theirs_x))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs, strict=True):
        expected = t.detach().numpy()
        assert o.shape == expected.shape and o.dtype == expected.dtype, (o, t)
        np.testing.assert_allclose(o.data, expected, rtol=1e-12, atol=0)
    if grad:
        gy = np.arange(1.0, ours[0].data.size + 1).reshape(ours[0].shape)
        with np.errstate(all="ignore"):
            ours[0].backward(gy)
        theirs[0].backward(torch.from_numpy(gy))
        np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-12, atol=0)


# ---- (values, indices) named tuples --------------------------------------------------------------


def test_max_with_dim_returns_a_named_tuple_as_torch():
    x = ad.tensor(TIES)
    result = x.max(dim=1)
    assert type(result) is ad.return_types.max and isinstance(result, tuple)
    values, indices = result
    assert values is result.values and indices is result.indices and result[0] is values
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(values.data, [3.0, 5.0, 0.0])
    assert type(ad.sort(x)).__name__ == "sort" and type(x.cummax(0)) is ad.return_types.cummax
    assert ad.aminmax(x)._fields == ("min", "max")


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.max(1),
        lambda x: x.min(0, keepdim=True),
        lambda x: x.max(-1, True),
        lambda x: x.max(),
        lambda x: x.min(),
        lambda x: x.amax(1),
        lambda x: x.amin((0, 1)),
        lambda x: x.sort(1),
        lambda x: x.sort(0, descending=True),
        lambda x: x.sort(dim=1, descending=True, stable=True),
        lambda x: x.median(),
        lambda x: x.nanmedian(),
        lambda x: x.mode(1),
        lambda x: x.mode(0, keepdim=True),
        lambda x: x.cummax(1),
        lambda x: x.cummin(0),
        lambda x: x.cumsum(1),
        lambda x: x.cumprod(0),
        lambda x: x.prod(1),
        lambda x: x.prod(),
        lambda x: x.std(1),
    ],
)
@pytest.mark.parametrize("array", [TIES, ZEROS], ids=["ties", "zeros"])
def test_ties_and_zeros_match_torch(fn, array):
    _compare(fn, array)


# torch picks an unspecified one of tied elements for topk, kthvalue and median(dim), and
# orders tied values in topk as it happens to: values only
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.topk(2)[0],
        lambda x: x.topk(3, 0, largest=False)[0],
        lambda x: x.kthvalue(4, 1)[0],
        lambda x: x.kthvalue(2, 1)[0],
        lambda x: x.median(1)[0],
    ],
)
@pytest.mark.parametrize("array", [TIES, WITH_NAN], ids=["ties", "nan"])
def test_order_statistics_of_ties_match_torch_in_value(fn, array):
    _compare(fn, array, grad=False)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.max(1),
        lambda x: x.min(1, keepdim=True),
        lambda x: x.max(),
        lambda x: x.min(),
        lambda x: x.amax(1),
        lambda x: x.amin(0),
        lambda x: x.sort(1),
        lambda x: x.sort(1, descending=True),
        lambda x: x.kthvalue(4),
        lambda x: x.median(1),
        lambda x: x.median(),
        lambda x: x.nanmedian(1),
        lambda x: x.nanmedian(),
        lambda x: x.cummax(1),
        lambda x: x.cummin(1),
        lambda x: x.cumsum(1),
        lambda x: x.logcumsumexp(1),
        lambda x: x.nansum(1),
        lambda x: x.nanmean(0),
    ],
)
def test_nan_matches_torch(fn):
    _compare(fn, WITH_NAN)


@pytest.mark.parametrize(
    "fn", [lambda x: x.topk(2), lambda x: x.topk(3), lambda x: x.topk(2, largest=False)]
)
def test_topk_counts_nan_as_largest_as_torch(fn):
    _compare(fn, np.array([3.0, NAN, 1.0, NAN, 2.0]))


def test_nanmedian_of_all_nan_is_the_first_nan_as_torch():
    _compare(lambda x: x.nanmedian(1), np.array([[NAN, NAN], [1.0, NAN]]))
    _compare(lambda x: x.nanmedian(), np.array([NAN, NAN]))


def test_mode_is_the_smallest_most_frequent_value_at_its_last_index():
    _compare(lambda x: x.mode(), np.array([1.0, 2.0, 2.0, 1.0, 3.0]))
    _compare(lambda x: x.mode(0), np.array([[1.0, 2.0], [1.0, 3.0], [0.0, 3.0]]))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.max(0),
        lambda x: x.min(-1, keepdim=True),
        lambda x: x.sort(0),
        lambda x: x.topk(1),
        lambda x: x.kthvalue(1),
        lambda x: x.median(0),
        lambda x: x.mode(),
        lambda x: x.cummax(0),
        lambda x: x.cumsum(0),
        lambda x: x.cumprod(-1),
        lambda x: x.logcumsumexp(0),
    ],
)
def test_a_0d_tensor_takes_dim_0_as_torch(fn):
    _compare(fn, np.array(2.5))


def test_logcumsumexp_is_stable_and_keeps_minus_inf_as_torch():
    _compare(lambda x: x.logcumsumexp(0), np.array([-1000.0, 0.0, 1000.0, -1000.0]))
    _compare(lambda x: x.logcumsumexp(0), np.array([-np.inf, -np.inf, 0.0]))


def test_max_with_a_tensor_is_maximum():
    x, y = ad.tensor([1.0, 5.0]), ad.tensor([3.0, 2.0])
    np.testing.assert_array_equal(ad.max(x, y).data, [3.0, 5.0])
    np.testing.assert_array_equal(x.min(other=y).data, [1.0, 2.0])


# ---- dtypes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.sum(),
        lambda x: x.sum(0, dtype=_module(x).int32),
        lambda x: x.prod(1),
        lambda x: x.nansum(),
        lambda x: x.cumsum(1),
        lambda x: x.cumprod(0),
        lambda x: x.max(1),
        lambda x: x.amax(),
        lambda x: x.sort(1, descending=True),
        lambda x: x.any(1),
        lambda x: x.all(),
        lambda x: x.count_nonzero(0),
    ],
)
def test_integer_and_bool_tensors_match_torch(fn, dtype):
    array = np.array([[3, 0, 2], [1, 1, 0]]).astype(dtype)
    _compare(fn, array, grad=False)


@pytest.mark.parametrize(
    "fn", [lambda x: x.mean(), lambda x: x.var(), lambda x: x.std(1), lambda x: x.nanmean()]
)
def test_mean_and_variance_of_integers_raise_as_torch(fn):
    with pytest.raises(TypeError, match="float"):
        fn(ad.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError):
        fn(torch.tensor([1, 2, 3]))


def test_sum_and_mean_with_dtype_convert_first():
    x = ad.tensor([[1.5, 2.5]], requires_grad=True)
    out = x.sum(1, dtype=ad.float64) + ad.mean(x, dtype=ad.float64)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [[1.5, 1.5]])
    assert ad.tensor([1, 2]).mean(dtype=ad.float32).item() == 1.5
    assert ad.tensor([1.7, 2.7]).sum(dtype=ad.int64).item() == 3


# ---- var and std: PyTorch's signatures -----------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.var(x, True),
        lambda m, x: m.var(x, False),
        lambda m, x: m.var(x, 1, False, True),
        lambda m, x: m.var(x, 1, correction=0, keepdim=True),
        lambda m, x: m.std(x, (0, 1), unbiased=False),
        lambda m, x: m.std(x, dim=0, correction=2),
        lambda m, x: m.var_mean(x, 1),
        lambda m, x: m.var_mean(x, 1, False),
        lambda m, x: m.std_mean(x, unbiased=False),
        lambda m, x: m.std_mean(x, 0, keepdim=True, correction=0),
    ],
)
def test_var_and_std_take_torchs_arguments(call):
    array = np.array([[3.0, 1.0, 3.0, 2.0], [2.0, 2.0, 5.0, 2.0], [0.5, 0.0, 1.0, 9.0]])
    ours, theirs = call(ad, ad.tensor(array)), call(torch, torch.tensor(array))
    assert type(ours) is tuple or not isinstance(theirs, tuple)
    for o, t in zip(_outputs(ours), _outputs(theirs), strict=True):
        np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-12)


def test_var_refuses_unbiased_with_correction():
    with pytest.raises(TypeError, match="var: give `unbiased` or `correction`"):
        ad.var(ad.tensor([1.0, 2.0]), 0, unbiased=False, correction=0)


# ---- ops without gradients -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"sorted": False},
        {"return_inverse": True},
        {"return_counts": True},
        {"return_inverse": True, "return_counts": True},
        {"dim": 1, "return_inverse": True, "return_counts": True},
        {"dim": 0, "return_counts": True},
    ],
)
@pytest.mark.parametrize("array", [TIES, np.array([[2, 0, 2], [2, 0, 2]])])
def test_unique_matches_torch(kwargs, array):
    _compare(lambda x: x.unique(**kwargs), array, grad=False)


def test_unique_keeps_each_nan_as_torch():
    # (with dim=, torch orders slices holding NaN arbitrarily: its comparison is not an order)
    _compare(lambda x: x.unique(return_inverse=True, return_counts=True), WITH_NAN, grad=False)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.argsort(),
        lambda x: x.argsort(0, descending=True),
        lambda x: x.argsort(dim=1, descending=True, stable=True),
        lambda x: x.argmax(),
        lambda x: x.argmax(1, keepdim=True),
        lambda x: x.argmin(0),
        lambda x: x.any(),
        lambda x: x.any((0, 1)),
        lambda x: x.all(1, keepdim=True),
        lambda x: x.count_nonzero(),
        lambda x: x.count_nonzero((0, 1)),
    ],
)
@pytest.mark.parametrize("array", [TIES, WITH_NAN, ZEROS], ids=["ties", "nan", "zeros"])
def test_index_and_logical_reductions_match_torch(fn, array):
    _compare(fn, array, grad=False)


def test_any_and_all_of_uint8_are_uint8_as_torch():
    _compare(lambda x: x.any(0), np.array([[0, 3], [0, 0]], np.uint8), grad=False)


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "error", "message"),
    [
        (lambda x: x.max(2), IndexError, "max: dim 2 is out of range"),
        (lambda x: x.sort(-3), IndexError, "sort: dim -3"),
        (lambda x: x.cumsum(5), IndexError, "cumsum: dim 5"),
        (lambda x: x.topk(5), RuntimeError, r"topk: k=5 is out of range for dim 1 of size 4"),
        (lambda x: x.kthvalue(0), RuntimeError, "kthvalue: k=0 .* counts from 1"),
        (lambda x: x[:, :0].max(1), IndexError, r"max: cannot reduce over an empty dimension"),
        (lambda x: x[:0].amax(), IndexError, "amax: cannot reduce"),
        (lambda x: x[:0].median(), IndexError, "median: cannot reduce"),
        (
            lambda x: x.to(ad.int64).logcumsumexp(0),
            TypeError,
            "logcumsumexp: expected a float tensor",
        ),
    ],
)
def test_bad_arguments_raise_errors_naming_the_op(fn, error, message):
    with pytest.raises(error, match=message):
        fn(ad.tensor(TIES))
    assert issubclass(DimError, IndexError) and issubclass(ShapeError, RuntimeError)


def test_max_of_an_empty_dim_other_than_the_reduced_one_is_empty_as_torch():
    _compare(lambda x: x.max(1), np.zeros((0, 3)), grad=False)


# ---- issue 12, defects 1 and 6 -------------------------------------------------------------------


def test_std_of_equal_values_has_gradient_zero():
    x = ad.tensor(np.ones(4), requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))
    _compare(lambda t: t.std(1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))
    _compare(lambda t: _module(t).std_mean(t, 0)[0], np.array([[2.0, 1.0], [2.0, 3.0]]))
    _compare(lambda t: t.var(), np.ones(3))


def test_max_over_nan_sends_the_gradient_to_the_nan_as_torch():
    x = ad.tensor([[1.0, NAN, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    values, indices = x.max(1)
    assert np.isnan(values.data[0]) and indices.tolist() == [1, 0]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # max() with no dim shares it among the NaNs; amax gives its slice nan, both as torch
    _compare(lambda t: t.max(), np.array([2.0, NAN, 1.0, NAN]))
    _compare(lambda t: t.amax(1), WITH_NAN)
