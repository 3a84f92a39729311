"""erf and erfc kernels against Python's math.erf/math.erfc applied element by element."""

import math

import numpy as np
import pytest

from autodiff.kernels.special import erf, erfc

REFERENCES = [(erf, math.erf), (erfc, math.erfc)]


def _naive(fn, x):
    return np.array([fn(float(v)) for v in x.ravel()]).reshape(x.shape)


@pytest.mark.parametrize(("kernel", "reference"), REFERENCES)
def test_float64_matches_math_to_the_last_bits(kernel, reference):
    x = np.concatenate([np.linspace(-7, 7, 1001), [0.0, -0.0, 1e-300, 30.0, -30.0]])
    y = kernel(x)
    assert y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_allclose(y, _naive(reference, x), rtol=1e-15, atol=0)


@pytest.mark.parametrize(("kernel", "reference"), REFERENCES)
def test_float32_is_computed_in_float32_to_float32_accuracy(kernel, reference):
    x = np.linspace(-4, 4, 801, dtype=np.float32)
    y = kernel(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _naive(reference, x), rtol=4e-7, atol=1e-30)


@pytest.mark.parametrize(("kernel", "reference"), REFERENCES)
def test_nan_and_infinities(kernel, reference):
    x = np.array([np.nan, np.inf, -np.inf])
    y = kernel(x)
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:], [reference(np.inf), reference(-np.inf)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_shape_and_layout(dtype):
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(dtype)
    view = x.transpose(2, 0, 1)[::2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(erf(view), erf(np.ascontiguousarray(view)))
    scalar = erf(np.array(0.5, dtype))
    assert scalar.shape == () and scalar == erf(np.array([0.5], dtype))[0]
    assert erfc(np.zeros((0, 3), dtype)).shape == (0, 3)


def test_non_float_input_is_a_type_error():
    with pytest.raises(TypeError, match="erf: expected a float32 or float64 array"):
        erf(np.arange(3))
    with pytest.raises(TypeError, match="erfc"):
        erfc([0.5])
