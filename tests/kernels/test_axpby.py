"""axpby: y <- a * y + b * x in place, against numpy."""

import numpy as np
import pytest

from autodiff.kernels import axpby


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_numpy_in_place_and_keeps_dtype(dtype):
    rng = np.random.default_rng(0)
    y = rng.standard_normal((7, 5)).astype(dtype)
    x = rng.standard_normal((7, 5)).astype(dtype)
    expected = dtype(0.9) * y + dtype(-0.1) * x
    out = axpby(y, 0.9, x, -0.1)
    assert out is y and y.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14  # a fused multiply-add may round differently
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


def test_non_contiguous_operands():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((6, 4)).T  # a Fortran-ordered view: updated through numpy
    x = rng.standard_normal((12, 4))[::2].T  # strided
    expected = 2 * y + 3 * x
    axpby(y, 2, x, 3)
    np.testing.assert_allclose(y, expected, rtol=1e-14)
    y = np.ones(4)
    axpby(y, 1, np.arange(8.0)[::2], 1)
    np.testing.assert_array_equal(y, [1, 3, 5, 7])


def test_float16_is_updated_through_numpy():
    y = np.ones(5, np.float16)
    axpby(y, 0.5, np.full(5, 2, np.float16), -1)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, np.full(5, -1.5, np.float16))


@pytest.mark.parametrize(
    "y,x",
    [
        (np.ones(3, np.float32), np.ones(4, np.float32)),
        (np.ones(3, np.float32), np.ones(3, np.float64)),
        (np.ones(3, np.int64), np.ones(3, np.int64)),
    ],
)
def test_mismatch_is_refused_before_writing(y, x):
    before = y.copy()
    with pytest.raises(ValueError, match=r"axpby: y \(3,\) .* must be float arrays of one shape"):
        axpby(y, 1, x, 1)
    np.testing.assert_array_equal(y, before)
