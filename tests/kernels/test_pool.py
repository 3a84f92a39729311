"""Pooling kernels against naive loops (and torch when installed)."""

import itertools

import numpy as np
import pytest

from autodiff.kernels import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    adaptive_max_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

from . import reference as ref

SHAPES = [(1, 1, 5, 6), (2, 3, 7, 8)]  # batch 1 / channel 1, and non-square
# (kernel, stride, padding); padding is at most half the kernel. (2, 2), (2, 2), 0 is the fused
# kernel, met here with even and odd sizes (odd leaves a row/column no window covers).
WINDOWS = [
    ((2, 2), (2, 2), (0, 0)),
    ((2, 2), (1, 1), (1, 1)),
    ((3, 3), (1, 1), (1, 1)),
    ((3, 3), (2, 2), (0, 0)),
    ((3, 2), (3, 1), (1, 0)),
    ((2, 3), (1, 3), (0, 1)),
    ((1, 1), (2, 2), (0, 0)),
]
CASES = list(itertools.product(SHAPES, WINDOWS))


@pytest.mark.parametrize("shape,win", CASES)
def test_max_pool_matches_loops(shape, win):
    (kh, kw), (sh, sw), (ph, pw) = win
    x = np.random.default_rng(0).standard_normal(shape)
    y, argmax = max_pool2d_forward(x, (kh, kw), (sh, sw), (ph, pw))
    y_ref, arg_ref = ref.max_pool2d(x, kh, kw, sh, sw, ph, pw)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, arg_ref)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = max_pool2d_backward(gy, argmax, x.shape)
    np.testing.assert_allclose(gx, ref.max_pool2d_backward(gy, arg_ref, x.shape), atol=1e-12)


@pytest.mark.parametrize("shape,win", CASES)
def test_avg_pool_matches_loops(shape, win):
    (kh, kw), (sh, sw), (ph, pw) = win
    x = np.random.default_rng(0).standard_normal(shape)
    y = avg_pool2d_forward(x, (kh, kw), (sh, sw), (ph, pw))
    np.testing.assert_allclose(y, ref.avg_pool2d(x, kh, kw, sh, sw, ph, pw), atol=1e-12)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = avg_pool2d_backward(gy, x.shape, (kh, kw), (sh, sw), (ph, pw))
    expected = ref.avg_pool2d_backward(gy, x.shape, kh, kw, sh, sw, ph, pw)
    np.testing.assert_allclose(gx, expected, atol=1e-12)


def test_stride_defaults_to_kernel():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    np.testing.assert_array_equal(max_pool2d_forward(x, 3)[0], max_pool2d_forward(x, 3, 3)[0])
    np.testing.assert_array_equal(avg_pool2d_forward(x, 2), avg_pool2d_forward(x, 2, 2))


@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 1)])
def test_max_pool_nan_propagates_and_padding_never_wins(kernel, stride):
    x = -np.ones((1, 1, 4, 4))  # all negative: a zero from padding would win if it counted
    x[0, 0, 1, 1] = np.nan
    y, argmax = max_pool2d_forward(x, kernel, stride, padding=1 if kernel == 3 else 0)
    assert np.isnan(y[0, 0, 0, 0])
    assert argmax[0, 0, 0, 0] == 1 * 4 + 1
    assert np.nanmax(y) == -1


def test_infinities_are_not_turned_into_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.inf
    x[0, 0, 3, 3] = -np.inf
    y = avg_pool2d_forward(x, 2)
    assert y[0, 0, 0, 0] == np.inf and y[0, 0, 1, 1] == -np.inf
    y, argmax = max_pool2d_forward(np.full((1, 1, 4, 4), -np.inf), 2)
    assert np.all(y == -np.inf)
    np.testing.assert_array_equal(argmax[0, 0], [[0, 2], [8, 10]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [2, 3])
def test_dtype_is_preserved(dtype, kernel):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(dtype)
    y, argmax = max_pool2d_forward(x, kernel)
    assert y.dtype == dtype and argmax.dtype == np.int32
    assert max_pool2d_backward(y, argmax, x.shape).dtype == dtype
    y = avg_pool2d_forward(x, kernel, 1, 1)
    assert y.dtype == dtype
    assert avg_pool2d_backward(y, x.shape, kernel, 1, 1).dtype == dtype
    expected = ref.avg_pool2d(x.astype(np.float64), kernel, kernel, 1, 1, 1, 1)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


def test_non_contiguous_input():
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 3)).transpose(0, 3, 2, 1)
    y, _ = max_pool2d_forward(x, 2, 1)
    np.testing.assert_array_equal(y, ref.max_pool2d(x, 2, 2, 1, 1, 0, 0)[0])


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda x: max_pool2d_forward(x[0], 2), ValueError, "max_pool2d: x must be 4-D"),
        (lambda x: avg_pool2d_forward(x.astype(np.int32), 2), TypeError, "avg_pool2d: x must be"),
        (lambda x: max_pool2d_forward(x, 2, 0), ValueError, "max_pool2d: stride must be >= 1"),
        (lambda x: avg_pool2d_forward(x, 7), ValueError, r"avg_pool2d: kernel 7 .* input 5"),
        (
            lambda x: max_pool2d_forward(x, 2, 1, 2),
            ValueError,
            r"max_pool2d: padding \(2, 2\) must be at most half of kernel_size \(2, 2\)",
        ),
        (
            lambda x: max_pool2d_backward(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 2)), x.shape),
            ValueError,
            "max_pool2d_backward: argmax must be int32",
        ),
        (
            lambda x: avg_pool2d_backward(np.zeros((1, 2, 3, 3)), x.shape, 2),
            ValueError,
            r"avg_pool2d_backward: gy has shape \(1, 2, 3, 3\) but input \(1, 2, 5, 5\)",
        ),
    ],
)
def test_errors_name_op_and_values(call, error, message):
    x = np.zeros((1, 2, 5, 5))
    with pytest.raises(error, match=message):
        call(x)


@pytest.mark.parametrize("win", WINDOWS)
def test_against_torch(win):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    kernel, stride, padding = win
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(np.float32)
    y, argmax = max_pool2d_forward(x, kernel, stride, padding)
    xt = torch.tensor(x, requires_grad=True)
    yt = functional.max_pool2d(xt, kernel, stride, padding)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_allclose(max_pool2d_backward(gy, argmax, x.shape), xt.grad.numpy())
    xt.grad = None
    yt = functional.avg_pool2d(xt, kernel, stride, padding)
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(avg_pool2d_forward(x, kernel, stride, padding), yt.detach(), 1e-6)
    gx = avg_pool2d_backward(gy, x.shape, kernel, stride, padding)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-6, atol=1e-7)


# ---- dilation, ceil_mode, divisors and adaptive bins: against loops written from the definitions


def _loop_windows(n, k, s, p, d, ceil_mode):
    """Per output position along one axis: its real taps and its extent in the padded input."""
    span = d * (k - 1) + 1
    count = -(-(n + 2 * p - span) // s) + 1 if ceil_mode else (n + 2 * p - span) // s + 1
    if ceil_mode and (count - 1) * s >= n + p:
        count -= 1
    out = []
    for o in range(count):
        begin = o * s - p
        taps = [begin + i * d for i in range(k) if 0 <= begin + i * d < n]
        out.append((taps, min(begin + (k - 1) * d + 1, n + p) - begin))
    return out


def _loop_pool(x, windows_h, windows_w, reduce):
    n, c = x.shape[:2]
    y = np.empty((n, c, len(windows_h), len(windows_w)))
    arg = np.empty(y.shape, np.int64)
    for b in range(n):
        for ci in range(c):
            for i, (rows, eh) in enumerate(windows_h):
                for j, (cols, ew) in enumerate(windows_w):
                    taps = [(r, q) for r in rows for q in cols]
                    y[b, ci, i, j], arg[b, ci, i, j] = reduce(x[b, ci], taps, eh * ew)
    return y, arg


def _first_max(plane, taps, _):
    values = [plane[t] for t in taps]
    k = int(np.argmax(values))
    return values[k], taps[k][0] * plane.shape[1] + taps[k][1]


GENERAL = [  # (kernel, stride, padding, dilation, ceil_mode)
    (3, 2, 1, 1, True),
    (2, 2, 1, 1, True),
    (3, 1, 1, 2, False),
    ((3, 2), (2, 3), (1, 0), (2, 1), True),
    (2, 3, 0, 3, True),
]


@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (1, 2, 5, 5)])
@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", GENERAL)
def test_max_pool_dilation_and_ceil_mode_match_loops(
    shape, kernel, stride, padding, dilation, ceil_mode
):
    x = np.random.default_rng(0).standard_normal(shape)
    y, argmax = max_pool2d_forward(x, kernel, stride, padding, dilation, ceil_mode)
    geometry = zip(shape[2:], *(np.broadcast_to(v, 2) for v in (kernel, stride, padding, dilation)))
    wh, ww = (_loop_windows(*g, ceil_mode) for g in geometry)
    y_ref, arg_ref = _loop_pool(x, wh, ww, _first_max)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, arg_ref)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = max_pool2d_backward(gy, argmax, x.shape)
    np.testing.assert_allclose(gx, ref.max_pool2d_backward(gy, arg_ref, x.shape), atol=1e-12)


@pytest.mark.parametrize(
    "kernel,stride,padding,ceil_mode",
    [(3, 2, 1, True), (2, 2, 1, True), ((3, 2), (2, 1), (1, 0), False)],
)
@pytest.mark.parametrize(
    "count_include_pad,divisor_override", [(True, None), (False, None), (True, 5)]
)
def test_avg_pool_divisors_match_loops(
    kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    y = avg_pool2d_forward(x, *args)
    geometry = zip(x.shape[2:], *(np.broadcast_to(v, 2) for v in (kernel, stride, padding)))
    wh, ww = (_loop_windows(*g, 1, ceil_mode) for g in geometry)

    def mean(plane, taps, extent):
        divisor = divisor_override or (extent if count_include_pad else len(taps))
        return sum(plane[t] for t in taps) / divisor, 0

    np.testing.assert_allclose(y, _loop_pool(x, wh, ww, mean)[0], atol=1e-12)
    # backward is the adjoint of forward: <gy, A x> = <A^T gy, x>
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = avg_pool2d_backward(gy, x.shape, *args)
    np.testing.assert_allclose(np.vdot(gy, y), np.vdot(gx, x), rtol=1e-12)


@pytest.mark.parametrize("out", [(1, 1), (2, 3), (3, 5), (7, 4), (5, 6)])
def test_adaptive_pools_match_loops(out):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    wh, ww = (
        [(list(range(i * n // o, -(-(i + 1) * n // o))), 0) for i in range(o)]
        for n, o in zip(x.shape[2:], out)
    )
    y, argmax = adaptive_max_pool2d_forward(x, out)
    y_ref, arg_ref = _loop_pool(x, wh, ww, _first_max)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, arg_ref)
    y = adaptive_avg_pool2d_forward(x, out)
    mean = _loop_pool(x, wh, ww, lambda p, taps, _: (sum(p[t] for t in taps) / len(taps), 0))
    np.testing.assert_allclose(y, mean[0], atol=1e-12)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    gx = adaptive_avg_pool2d_backward(gy, x.shape)
    np.testing.assert_allclose(np.vdot(gy, y), np.vdot(gx, x), rtol=1e-12)


def test_a_dilated_window_of_padding_only_gives_minus_inf_and_no_gradient():
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    y, argmax = max_pool2d_forward(x, (1, 2), 1, (0, 1), (1, 6))  # taps at -1 and 5
    assert y[0, 0, 0, 0] == -np.inf and argmax[0, 0, 0, 0] == -1
    np.testing.assert_array_equal(max_pool2d_backward(np.ones_like(y), argmax, x.shape), 0 * x)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda x: max_pool2d_forward(x, 2, dilation=0), "max_pool2d: dilation must be >= 1"),
        (lambda x: avg_pool2d_forward(x, 2, divisor_override=0), "divisor_override must be"),
        (lambda x: adaptive_max_pool2d_forward(x, (2, -1)), "output_size must be >= 0"),
        (lambda x: adaptive_avg_pool2d_forward(x[:, :0], 2), "non-zero C, H and W"),
        (lambda x: max_pool2d_forward(x, 3, 1, 0, 3), r"kernel 3 \(dilation 3, span 7\)"),
    ],
)
def test_new_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.zeros((1, 2, 5, 5)))


FLOATS = (np.float32, np.float64)


@pytest.mark.parametrize("dilation,ceil_mode", [(1, False), (2, False), (1, True)])
@pytest.mark.parametrize("shape,win", CASES)
def test_float32_kernels_and_float64_numpy_twins_agree(shape, win, dilation, ceil_mode):
    """The float64 paths (numpy) are what the loop references above check; the float32 numba
    kernels must give the same maxima, argmax (ties and NaN included) and sums."""
    kernel, stride, padding = win
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 3, shape).astype(np.float32)  # ties
    x[0, 0, 0, 0] = x[-1, -1, 1, 1] = x[-1, -1, 1, 2] = np.nan
    args = (kernel, stride, padding, dilation, ceil_mode)
    (y32, arg32), (y64, arg64) = (max_pool2d_forward(x.astype(d), *args) for d in FLOATS)
    np.testing.assert_array_equal(y32, y64.astype(np.float32))
    np.testing.assert_array_equal(arg32, arg64)
    gy = rng.standard_normal(y32.shape)
    gx32 = max_pool2d_backward(gy.astype(np.float32), arg32, x.shape)
    np.testing.assert_allclose(gx32, max_pool2d_backward(gy, arg64, x.shape), rtol=1e-5, atol=1e-6)
    if dilation == 1:  # average pooling has no dilation
        x = np.nan_to_num(x)
        avg_args = (kernel, stride, padding, ceil_mode)
        y32 = avg_pool2d_forward(x, *avg_args)
        np.testing.assert_allclose(
            y32, avg_pool2d_forward(x.astype(np.float64), *avg_args), rtol=1e-6
        )
        gx32 = avg_pool2d_backward(gy.astype(np.float32), x.shape, *avg_args)
        gx64 = avg_pool2d_backward(gy, x.shape, *avg_args)
        np.testing.assert_allclose(gx32, gx64, rtol=1e-5, atol=1e-6)
