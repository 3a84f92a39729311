"""im2col / col2im against naive loops, over strides, paddings, dilations and kernel shapes."""

import importlib
import itertools

import numpy as np
import pytest

from autodiff.kernels import _config, batch_chunk, col2im, conv_output_size, im2col

from . import reference as ref

im2col_module = importlib.import_module(
    "autodiff.kernels.im2col"
)  # the package exports the function

SHAPES = [(1, 1, 5, 6), (2, 3, 7, 9)]  # batch 1 / channel 1, and non-square
KERNELS = [(3, 3), (2, 2), (1, 3), (4, 2)]  # odd, even, and mixed
STRIDES = [(1, 1), (2, 2), (3, 3), (1, 2)]
PADDINGS = [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2), (0, 1, 2, 0)]  # last one asymmetric
DILATIONS = [(1, 1), (2, 2), (2, 1)]
CASES = list(itertools.product(SHAPES, KERNELS, STRIDES, PADDINGS, DILATIONS))


def fits(shape, kernel, padding, dilation):
    """True when the dilated kernel fits in the padded input along both axes."""
    h, w = shape[2:]
    (kh, kw), (pt, pb, pl, pr), (dh, dw) = kernel, padding, dilation
    return dh * (kh - 1) < h + pt + pb and dw * (kw - 1) < w + pl + pr


@pytest.mark.parametrize("taps_max_pixels", [10**9, 0], ids=["taps", "rows"])
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation", CASES)
def test_im2col_and_col2im_match_loops(shape, kernel, stride, padding, dilation, taps_max_pixels,
                                       monkeypatch):  # fmt: skip
    # both pairs of kernels: by the table of taps (small outputs) and row by row (large ones)
    monkeypatch.setattr(im2col_module, "TAPS_MAX_PIXELS", taps_max_pixels)
    x = np.random.default_rng(0).standard_normal(shape)
    if not fits(shape, kernel, padding, dilation):
        with pytest.raises(ValueError, match="larger than the padded input"):
            im2col(x, kernel, stride, padding, dilation)
        return
    cols = im2col(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(cols, ref.im2col(x, *kernel, *stride, padding, *dilation))
    g = np.random.default_rng(1).standard_normal(cols.shape)
    gx = col2im(g, shape, kernel, stride, padding, dilation)
    expected = ref.col2im(g, shape, *kernel, *stride, padding, *dilation)
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-12)
    # col2im is the adjoint of im2col: <im2col(x), g> == <x, col2im(g)>.
    assert np.isclose(np.vdot(cols, g), np.vdot(x, gx))


def test_output_size_formula():
    oh, ow = conv_output_size((1, 1, 10, 11), (3, 2), (2, 3), (1, 0, 2, 1), (2, 1))
    assert oh == (10 + 1 + 0 - 2 * 2 - 1) // 2 + 1
    assert ow == (11 + 2 + 1 - 1 * 1 - 1) // 3 + 1


def test_batch_chunk_fits_the_budget(monkeypatch):
    per_sample = 3 * 3 * 3 * 6 * 6 * 4  # C * kh * kw * oh * ow * itemsize
    assert batch_chunk((10, 3, 8, 8), 3, (6, 6), 4, budget=3 * per_sample + 1) == 3
    assert batch_chunk((10, 3, 8, 8), 3, (6, 6), 4, budget=per_sample - 1) == 1
    assert batch_chunk((10, 3, 8, 8), 3, (6, 6), 4, budget=10**9) == 10
    monkeypatch.setattr(_config, "COLS_BUDGET_BYTES", 2 * per_sample)
    assert batch_chunk((10, 3, 8, 8), (3, 3), (6, 6), 4) == 2


def test_int_and_pair_padding_mean_symmetric():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 6))
    full = im2col(x, 3, 1, (1, 1, 2, 2))
    np.testing.assert_array_equal(im2col(x, 3, 1, (1, 2)), full)
    np.testing.assert_array_equal(im2col(x, 3, 1, 1), im2col(x, 3, 1, (1, 1, 1, 1)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5)).astype(dtype)
    cols = im2col(x, 3, 2, 1)
    assert cols.dtype == dtype
    assert col2im(cols, x.shape, 3, 2, 1).dtype == dtype
    np.testing.assert_array_equal(cols, ref.im2col(x, 3, 3, 2, 2, (1, 1, 1, 1), 1, 1))


def test_non_contiguous_input_and_out_buffer():
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 3)).transpose(0, 3, 2, 1)
    out = np.full((3 * 4, 2 * 4 * 5), np.nan)
    cols = im2col(x, 2, 1, 0, out=out)
    assert cols is out
    np.testing.assert_array_equal(cols, ref.im2col(x, 2, 2, 1, 1, (0, 0, 0, 0), 1, 1))
    gx_out = np.full(x.shape, np.nan)
    assert col2im(cols, x.shape, 2, out=gx_out) is gx_out
    np.testing.assert_allclose(gx_out, ref.col2im(cols, x.shape, 2, 2, 1, 1, (0,) * 4, 1, 1))


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda x: im2col(x[0], 3), ValueError, r"im2col: x must be 4-D, got shape \(2, 5, 5\)"),
        (lambda x: im2col(x.astype(np.int64), 3), TypeError, "im2col: x must be float32 or"),
        (lambda x: im2col(x.tolist(), 3), TypeError, "im2col: x must be a numpy array"),
        (lambda x: im2col(x, 7), ValueError, r"im2col: kernel 7 .* padded input 5"),
        (lambda x: im2col(x, 3, dilation=3), ValueError, "im2col: kernel 3 .dilation 3, span 7"),
        (lambda x: im2col(x, 3, stride=0), ValueError, r"im2col: stride must be >= 1, got 0"),
        (lambda x: im2col(x, (3, 0)), ValueError, r"kernel_size must be >= 1, got \(3, 0\)"),
        (lambda x: im2col(x, 3, padding=-1), ValueError, "im2col: padding must be >= 0"),
        (lambda x: im2col(x, 3, padding=(1, 2, 3)), ValueError, "padding must be an int or 4"),
        (lambda x: im2col(x, 3, out=np.empty((1, 1))), ValueError, r"im2col: out must be"),
        (
            lambda x: col2im(np.zeros((5, 5)), x.shape, 3),
            ValueError,
            r"col2im: cols has shape \(5, 5\) but x_shape \(1, 2, 5, 5\)",
        ),
        (lambda x: col2im(np.zeros((18, 9)), (2, 5, 5), 3), ValueError, "col2im: x_shape must"),
    ],
)
def test_errors_name_op_and_values(call, error, message):
    x = np.zeros((1, 2, 5, 5))
    with pytest.raises(error, match=message):
        call(x)
