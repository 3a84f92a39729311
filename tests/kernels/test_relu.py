"""ReLU kernels against numpy, on the serial and the parallel path."""

import numpy as np
import pytest

from autodiff.kernels import elementwise, relu_backward, relu_forward

SIZES = [(3, 5), (2, elementwise.PARALLEL_MIN // 2 + 3)]  # under and over the parallel threshold


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SIZES)
def test_forward_and_backward_match_numpy(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:3] = 0.0, -0.0, np.nan
    g = rng.standard_normal(shape).astype(dtype)
    y = relu_forward(x)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_array_equal(y, np.maximum(x, 0))  # NaN stays NaN
    gx = relu_backward(g, y)
    assert gx.dtype == dtype
    np.testing.assert_array_equal(gx, np.where(y <= 0, 0, g))  # a NaN output passes g, as torch


def test_backward_gives_zero_not_nan_where_the_output_is_zero():
    y = np.array([0.0, 2.0, 0.0], np.float32)
    g = np.array([np.inf, np.inf, np.nan], np.float32)
    np.testing.assert_array_equal(relu_backward(g, y), [0, np.inf, 0])  # as torch's


def test_arrays_the_kernels_do_not_take_go_through_numpy():
    x = np.arange(-3.0, 3.0, dtype=np.float16).reshape(2, 3)
    np.testing.assert_array_equal(relu_forward(x), np.maximum(x, 0))
    strided = np.linspace(-1, 1, 12).reshape(3, 4).T  # float64, not C-contiguous
    y = relu_forward(strided)
    np.testing.assert_array_equal(y, np.maximum(strided, 0))
    g = np.ones((4, 3))
    np.testing.assert_array_equal(relu_backward(g, y), (y > 0).astype(float))
    nan = np.array([np.nan, 1.0, -1.0], np.float16)  # numpy's path agrees with the kernels on NaN
    np.testing.assert_array_equal(relu_backward(np.ones(3, np.float16), nan), [1, 1, 0])
