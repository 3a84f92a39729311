"""The one-pass elementwise kernels against numpy, on the serial and the parallel path."""

import numpy as np
import pytest

from autodiff.kernels import elementwise

# under and over the parallel threshold, and empty
SIZES = [(3, 5), (2, elementwise.PARALLEL_MIN // 2 + 3), (0, 4)]
DTYPES = [np.float32, np.float64]

# kernel, formula (what the ops computed in numpy before the kernels), domain of the second array
BACKWARDS = [
    (elementwise.tanh_backward, lambda g, y: g * (1 - y * y), (-1, 1)),
    (elementwise.sigmoid_backward, lambda g, y: g * y * (1 - y), (0, 1)),
    (elementwise.square_backward, lambda g, x: g * 2 * x, (-3, 3)),
]


def _specials(a, dtype):
    """a with NaN, +-inf and +-0 in its first elements (where it has them)."""
    a.flat[:5] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype)[: a.size]
    return a


def _exact(formula, *arrays):
    """formula evaluated in long double, then rounded to the arrays' dtype."""
    with np.errstate(invalid="ignore"):
        return formula(*(a.astype(np.longdouble) for a in arrays)).astype(arrays[0].dtype)


def _close(actual, expected, dtype):
    """Equal dtype and shape, values within a few ulp of values of order 1 (1 - y * y loses
    digits near |y| = 1 in numpy's formula, less in the kernels'), inf and NaN where
    expected."""
    assert actual.dtype == dtype and actual.shape == expected.shape
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(actual, expected, rtol=8 * eps, atol=32 * eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize(("kernel", "reference", "domain"), BACKWARDS)
def test_backward_kernels_match_numpy(kernel, reference, domain, shape, dtype):
    rng = np.random.default_rng(0)
    g = _specials(rng.standard_normal(shape).astype(dtype), dtype)
    y = rng.uniform(*domain, shape).astype(dtype)
    y.flat[5:8] = np.array([np.nan, np.inf, -np.inf], dtype)[: max(0, y.size - 5)]
    _close(kernel(g, y), _exact(reference, g, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize(("kernel", "reference", "domain"), BACKWARDS)
def test_a_gradient_broadcast_from_one_value_is_read_in_place(
    kernel, reference, domain, shape, dtype
):
    """The gradient of a sum or mean reaches the op below as a stride-0 view."""
    y = np.random.default_rng(1).uniform(*domain, shape).astype(dtype)
    g = np.broadcast_to(np.array(0.25, dtype), shape)
    _close(kernel(g, y), _exact(reference, g, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SIZES)
def test_sigmoid_forward_is_exact_on_both_sides_and_keeps_nan(shape, dtype):
    x = _specials(np.random.default_rng(2).normal(0, 20, shape).astype(dtype), dtype)
    expected = _exact(lambda x: 1 / (1 + np.exp(-x)), x)
    _close(elementwise.sigmoid_forward(x), expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_forward_takes_0d_arrays(dtype):
    y = elementwise.sigmoid_forward(np.array(-2.0, dtype))
    assert isinstance(y, np.ndarray) and y.shape == () and y.dtype == dtype
    np.testing.assert_allclose(y, 1 / (1 + np.exp(2.0)), rtol=1e-6)


def test_arrays_the_kernels_do_not_take_go_through_numpy():
    rng = np.random.default_rng(3)
    g = rng.standard_normal((4, 6))
    y = rng.uniform(-1, 1, (6, 4)).T  # float64, not C-contiguous
    np.testing.assert_array_equal(elementwise.tanh_backward(g, y), g * (1 - y * y))
    row = np.broadcast_to(rng.standard_normal(6), (4, 6))  # broadcast, but not from one value
    np.testing.assert_array_equal(elementwise.square_backward(row, g), row * 2 * g)
    half = y.astype(np.float16)
    out = elementwise.sigmoid_backward(np.ones_like(half), half)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, half * (1 - half))
    mixed = elementwise.tanh_backward(g.astype(np.float32), np.ascontiguousarray(y))
    np.testing.assert_array_equal(mixed, g.astype(np.float32) * (1 - y * y))  # numpy promotes
    x16 = np.linspace(-30, 30, 7, dtype=np.float16)
    expected = _exact(lambda x: 1 / (1 + np.exp(-x)), x16)
    np.testing.assert_allclose(elementwise.sigmoid_forward(x16), expected, rtol=1e-3)


def test_float64_goes_through_numpy_and_a_broadcast_gradient_compiles_nothing_more():
    # float64 serves gradient checks: numpy runs it, so checking compiles no float64 kernels
    g = np.full((3, 4), 0.5)
    assert elementwise._map(elementwise._TANH_GRAD, g, g) is None
    # a gradient broadcast from one value is read-only: the kernels get a writable copy of the
    # value, so they run the writable build instead of compiling a read-only one
    y = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    elementwise.tanh_backward(np.ones_like(y), y)
    builds = len(elementwise._map_impl.signatures)
    one = np.broadcast_to(np.float32(1), y.shape)
    np.testing.assert_allclose(elementwise.tanh_backward(one, y), 1 - y * y, rtol=1e-6)
    assert len(elementwise._map_impl.signatures) == builds


@pytest.mark.parametrize("m,n", [(256, 784), (1, 1), (1024, 512), (0, 5)])  # 1024 x 512: threads
def test_outer_products_equal_numpys_broadcast_multiply(m, n):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(m).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    if m:
        a[0], b[-1] = np.nan, np.inf  # propagated as numpy's product does
    out = elementwise.outer(a, b)
    assert out.shape == (m, n) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.multiply(a[:, None], b))  # one product per element


def test_outer_leaves_other_vectors_to_numpy():
    a = np.ones(6, np.float32)
    assert elementwise.outer(a.astype(np.float64), a) is None
    assert elementwise.outer(a[::2], a) is None  # strided
    assert elementwise.outer(a.reshape(2, 3), a) is None
    assert elementwise.outer(list(a), a) is None
