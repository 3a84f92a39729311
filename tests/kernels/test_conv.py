"""Array-level conv2d forward/backward against a direct loop, adjoint identities, and torch.

Every test runs five times: with the direct stride-1 and Winograd kernels off (im2col + GEMM,
or the depthwise kernels), with the direct kernels taken wherever the geometry allows, with
Winograd F(4x4, 3x3) or F(2x2, 3x3) taken for every 3x3 stride-1 convolution of one group (these
four in float64 too, which otherwise takes the numpy tap products), and with the default float64
algorithm (``taps``).
"""

import numpy as np
import pytest

from autodiff.kernels import _config, conv, conv2d_backward, conv2d_forward, direct, gemm, winograd

from . import reference as ref

# (x shape, w shape, stride, padding, dilation, groups, bias)
CASES = [
    ((2, 3, 7, 9), (4, 3, 3, 3), 1, 1, 1, 1, True),
    ((1, 1, 5, 6), (2, 1, 2, 2), 2, 0, 1, 1, False),
    ((2, 4, 8, 7), (6, 2, 3, 2), (2, 1), (0, 1, 2, 0), (1, 2), 2, True),
    ((2, 4, 6, 6), (4, 1, 3, 3), 1, 1, 1, 4, True),  # depthwise
    ((2, 3, 6, 5), (6, 1, 3, 3), 2, 2, 2, 3, False),  # depthwise, channel multiplier 2
    ((2, 3, 7, 8), (3, 1, 2, 3), (1, 2), (0, 1, 2, 0), (2, 1), 3, True),  # depthwise, asymmetric
    ((1, 2, 6, 7), (3, 2, 4, 2), 1, "same", (1, 2), 1, True),  # even kernel: asymmetric "same"
    ((2, 2, 5, 5), (3, 2, 3, 3), 1, "valid", 1, 1, True),
    ((3, 5, 7, 4), (2, 5, 1, 1), 3, 0, 1, 1, True),  # 1x1
    ((2, 4, 7, 6), (6, 2, 3, 3), 1, (2, 0, 1, 2), (2, 1), 2, True),  # grouped, stride 1
    ((2, 1, 9, 8), (3, 1, 5, 5), 1, 2, 1, 1, False),  # one input channel (LeNet's first layer)
    ((1, 2, 5, 5), (2, 2, 1, 1), 1, 1, 1, 1, True),  # padding beyond the kernel's reach
    # wide filter rows: the direct kernels' groups of five taps span rows and end in zero taps
    ((2, 3, 5, 9), (4, 3, 3, 4), 1, 1, 1, 1, False),
    ((1, 2, 6, 12), (2, 2, 2, 8), 1, (0, 1, 3, 4), 1, 1, True),
    ((1, 2, 7, 16), (3, 2, 2, 6), 1, (1, 0, 2, 5), (1, 2), 1, True),
    ((2, 5, 11, 10), (6, 5, 3, 3), 1, (2, 0, 1, 3), 1, 1, True),  # 3x3: partial Winograd tiles
]
IDS = [f"case{i}" for i in range(len(CASES))]
DEFAULT_DIRECT_LIMIT = _config.DIRECT_MAX_GROUP_WEIGHTS
DEFAULT_WINOGRAD_MIN = _config.WINOGRAD_MIN_CHANNELS
DEFAULT_WINOGRAD_PIXELS = _config.WINOGRAD_MIN_PIXELS_PER_CHANNEL
DEFAULT_WINOGRAD2_MIN = _config.WINOGRAD2_MIN_CHANNELS
DEFAULT_WINOGRAD2_PIXELS = _config.WINOGRAD2_MIN_PIXELS_PER_CHANNEL
DEFAULT_FLOAT64 = conv.FLOAT64_ALGORITHMS


@pytest.fixture(autouse=True, params=["im2col", "direct", "winograd", "F2", "taps"])
def kernels_path(request, monkeypatch):
    """Direct and Winograd kernels off, then each on for any size (Winograd enabled), float64
    through them too; then float64's own algorithm."""
    if request.param != "taps":
        monkeypatch.setattr(conv, "FLOAT64_ALGORITHMS", conv.ALGORITHMS)
    direct = 2**62 if request.param == "direct" else 0
    for name, tile in (("WINOGRAD", "winograd"), ("WINOGRAD2", "F2")):
        monkeypatch.setattr(_config, f"{name}_MIN_CHANNELS", 1 if request.param == tile else 2**62)
        monkeypatch.setattr(_config, f"{name}_MIN_PIXELS_PER_CHANNEL", 0)
    monkeypatch.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", direct)
    monkeypatch.setattr(winograd.F4, "enabled", request.param == "winograd")
    return request.param


def test_weight_gradient_goes_direct_after_im2col_without_the_tile(monkeypatch):
    monkeypatch.setattr(_config, "WINOGRAD2_MIN_CHANNELS", DEFAULT_WINOGRAD2_MIN)
    monkeypatch.setattr(_config, "WINOGRAD2_MIN_PIXELS_PER_CHANNEL", DEFAULT_WINOGRAD2_PIXELS)
    monkeypatch.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", DEFAULT_DIRECT_LIMIT)
    monkeypatch.setattr(winograd.F4, "enabled", False)
    monkeypatch.setattr(conv, "FLOAT64_ALGORITHMS", DEFAULT_FLOAT64)

    def chosen(x_shape, w_shape, dtype=np.float32):
        saved = conv2d_forward(np.zeros(x_shape, dtype), np.zeros(w_shape, dtype), None, 1, 1)[1]
        pair = saved.algorithm, conv.choose_weight_gradient(saved.geometry, saved.algorithm)
        return tuple(a.__name__.rpartition(".")[2] for a in pair)

    direct.numba.get_num_threads()  # starts numba's pool, which the stand-in below would not
    monkeypatch.setattr(direct.numba, "get_num_threads", lambda: 2)  # the direct chunks

    assert chosen((2, 64, 16, 16), (64, 64, 3, 3)) == ("F2", "F2")
    # runs of 8 output columns times 16 samples per chunk, where BLAS would run im2col's product
    monkeypatch.setattr(gemm, "AVAILABLE", False)
    assert chosen((32, 128, 8, 8), (128, 128, 3, 3)) == ("im2col_gemm", "direct")
    monkeypatch.setattr(gemm, "AVAILABLE", True)  # the register tile runs it faster
    assert chosen((32, 128, 8, 8), (128, 128, 3, 3)) == ("im2col_gemm", "im2col_gemm")
    monkeypatch.setattr(gemm, "AVAILABLE", False)
    # runs of 8 columns times 1 sample: below DIRECT_WEIGHT_GRADIENT_MIN_RUN
    assert chosen((2, 128, 8, 8), (128, 128, 3, 3)) == ("im2col_gemm", "im2col_gemm")
    assert chosen((32, 512, 4, 4), (512, 512, 3, 3)) == ("im2col_gemm", "im2col_gemm")  # big
    assert chosen((2, 128, 8, 8), (128, 128, 3, 3), np.float64) == ("taps", "taps")


def test_path_is_chosen_by_geometry(monkeypatch):
    monkeypatch.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", DEFAULT_DIRECT_LIMIT)
    monkeypatch.setattr(_config, "WINOGRAD_MIN_CHANNELS", DEFAULT_WINOGRAD_MIN)
    monkeypatch.setattr(_config, "WINOGRAD_MIN_PIXELS_PER_CHANNEL", DEFAULT_WINOGRAD_PIXELS)
    monkeypatch.setattr(_config, "WINOGRAD2_MIN_CHANNELS", DEFAULT_WINOGRAD2_MIN)
    monkeypatch.setattr(_config, "WINOGRAD2_MIN_PIXELS_PER_CHANNEL", DEFAULT_WINOGRAD2_PIXELS)
    monkeypatch.setattr(winograd.F4, "enabled", True)
    monkeypatch.setattr(conv, "FLOAT64_ALGORITHMS", DEFAULT_FLOAT64)

    def path(x_shape, w_shape, stride=1, padding=0, groups=1, dtype=np.float32):
        x, w = np.zeros(x_shape, dtype), np.zeros(w_shape, dtype)
        algorithm = conv2d_forward(x, w, None, stride, padding, 1, groups)[1].algorithm
        return algorithm.__name__.rpartition(".")[2]

    assert path((2, 1, 28, 28), (6, 1, 5, 5), padding=2) == "direct"  # LeNet-5
    assert path((2, 1, 28, 28), (6, 1, 5, 5), padding=2, dtype=np.float64) == "taps"
    assert path((2, 6, 14, 14), (16, 6, 5, 5)) == "direct"
    assert path((2, 64, 8, 8), (64, 64, 3, 3), padding=1) == "winograd"
    assert path((2, 128, 8, 8), (128, 128, 3, 3), padding=1) == "im2col_gemm"  # 64 pixels < 128
    assert path((2, 16, 32, 32), (16, 16, 3, 3), padding=1) == "winograd"  # before direct
    assert path((2, 8, 8, 8), (64, 8, 3, 3), padding=1) == "direct"  # too few channels
    assert path((2, 8, 8, 8), (256, 8, 3, 3), padding=1) == "im2col_gemm"  # too many weights
    assert path((2, 64, 8, 8), (64, 64, 3, 3), stride=2) == "im2col_gemm"
    assert path((2, 128, 8, 8), (128, 64, 3, 3), groups=2) == "im2col_gemm"
    assert path((2, 64, 8, 8), (64, 64, 5, 5)) == "im2col_gemm"
    assert path((2, 8, 8, 8), (8, 1, 3, 3), padding=1, groups=8) == "depthwise"
    assert path((2, 1, 28, 28), (6, 1, 5, 5), stride=2) == "depthwise"
    assert path((1, 2, 5, 5), (2, 2, 1, 1), padding=1) == "im2col_gemm"
    # F(4x4) is off by default (its float32 error, test_conv_accuracy.py): F(2x2) is next in line
    monkeypatch.setattr(winograd.F4, "enabled", False)
    assert path((2, 64, 8, 8), (64, 64, 3, 3), padding=1) == "F2"
    assert path((2, 16, 32, 32), (16, 16, 3, 3), padding=1) == "F2"
    assert path((2, 128, 8, 8), (128, 128, 3, 3), padding=1) == "im2col_gemm"
    assert path((2, 8, 8, 8), (64, 8, 3, 3), padding=1) == "direct"
    monkeypatch.setattr(winograd.F2, "enabled", False)
    assert path((2, 64, 8, 8), (64, 64, 3, 3), padding=1) == "im2col_gemm"
    assert path((2, 16, 32, 32), (16, 16, 3, 3), padding=1) == "direct"


def make(case, dtype=np.float64, seed=0):
    """Random x, w, b for a case."""
    x_shape, w_shape, *_, bias = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    return x, w, b


def run(case, x, w, b):
    """conv2d_forward with the case's geometry."""
    _, _, stride, padding, dilation, groups, _ = case
    return conv2d_forward(x, w, b, stride, padding, dilation, groups)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_direct_loop(case):
    x, w, b = make(case)
    y, saved = run(case, x, w, b)
    assert y.base is None and y.flags.c_contiguous  # ConvAlgorithm's promise
    g, win = saved.geometry, saved.geometry.window
    expected = ref.conv2d(x, w, b, win.stride, win.padding, win.dilation, g.groups)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_is_the_adjoint_of_forward(case):
    # y is linear in x and in w, so <gy, conv(dx, w)> = <gx, dx> and <gy, conv(x, dw)> = <gw, dw>.
    x, w, b = make(case)
    dx, dw, _ = make(case, seed=1)
    y, saved = run(case, x, w, b)
    gy = np.random.default_rng(2).standard_normal(y.shape)
    gx, gw, gb = conv2d_backward(gy, saved)
    # arrays of their own, which the engine hands out as .grad without a copy
    assert gx.base is None and gw.base is None
    assert np.isclose(np.vdot(gy, run(case, dx, w, None)[0]), np.vdot(gx, dx))
    assert np.isclose(np.vdot(gy, run(case, x, dw, None)[0]), np.vdot(gw, dw))
    if b is None:
        assert gb is None
    else:
        np.testing.assert_allclose(gb, gy.sum(axis=(0, 2, 3)))


def test_only_requested_grads_are_computed():
    case = CASES[0]
    x, w, b = make(case)
    y, saved = run(case, x, w, b)
    gx, gw, gb = conv2d_backward(np.ones_like(y), saved)
    assert conv2d_backward(np.ones_like(y), saved, True, False, False)[1:] == (None, None)
    only_w = conv2d_backward(np.ones_like(y), saved, need_x=False, need_b=False)
    assert only_w[0] is None and only_w[2] is None
    np.testing.assert_array_equal(only_w[1], gw)
    assert conv2d_backward(np.ones_like(y), saved, False, False, True)[:2] == (None, None)


def test_batch_chunks_give_the_same_result(monkeypatch):
    case = ((5, 3, 6, 6), (4, 3, 3, 3), 1, 1, 1, 1, True)
    x, w, b = make(case)
    y, saved = run(case, x, w, b)
    gy = np.random.default_rng(2).standard_normal(y.shape)
    grads = conv2d_backward(gy, saved)
    # One sample's cols is 27 * 36 doubles; this budget gives chunks of 2, 2, 1.
    monkeypatch.setattr(_config, "COLS_BUDGET_BYTES", 2 * 27 * 36 * 8 + 100)
    # One padded sample is 3 * 8 * 8 doubles: three or four direct-kernel chunks of 1 or 2.
    monkeypatch.setattr(_config, "DIRECT_CHUNK_BYTES", 2 * 3 * 8 * 8 * 8)
    y_chunked, saved = run(case, x, w, b)
    np.testing.assert_allclose(y_chunked, y, rtol=1e-12, atol=1e-12)
    for got, want in zip(conv2d_backward(gy, saved), grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    x, w, b = make(CASES[2], dtype)
    y, saved = run(CASES[2], x, w, b)
    assert y.dtype == dtype
    assert all(g.dtype == dtype for g in conv2d_backward(y, saved))


@pytest.mark.parametrize(
    "args,kwargs,error,message",
    [
        (((1, 3, 5, 5), (2, 2, 3, 3)), {}, ValueError, "conv2d: input has 3 channels but weight"),
        (((1, 4, 5, 5), (3, 2, 3, 3)), {"groups": 2}, ValueError, "conv2d: groups=2 must"),
        (((1, 2, 5, 5), (2, 2, 3, 3)), {"stride": 0}, ValueError, "conv2d: stride must be >= 1"),
        (((1, 2, 5, 5), (2, 2, 7, 7)), {}, ValueError, r"conv2d: kernel 7 .* input 5"),
        (((1, 2, 5, 5), (2, 2, 3, 3)), {"padding": "full"}, ValueError, "padding must be 'vali"),
        (
            ((1, 2, 5, 5), (2, 2, 3, 3)),
            {"padding": "same", "stride": 2},
            ValueError,
            r"padding='same' needs stride 1, got stride \(2, 2\)",
        ),
        (((2, 5, 5), (2, 2, 3, 3)), {}, ValueError, r"conv2d: x must be 4-D"),
    ],
)
def test_errors_name_op_and_values(args, kwargs, error, message):
    x, w = (np.zeros(s) for s in args)
    with pytest.raises(error, match=message):
        conv2d_forward(x, w, **kwargs)


def test_dtype_and_shape_mismatch_errors():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3, 3))
    with pytest.raises(TypeError, match=r"conv2d: dtypes differ \(input \(1, 2, 5, 5\) float64, "):
        conv2d_forward(x, w.astype(np.float32))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(2,\), got \(3,\)"):
        conv2d_forward(x, w, np.zeros(3))
    _, saved = conv2d_forward(x, w)
    with pytest.raises(ValueError, match=r"conv2d_backward: gy has shape \(1, 2, 2, 2\)"):
        conv2d_backward(np.zeros((1, 2, 2, 2)), saved)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b = make(case, np.float32)
    y, saved = run(case, x, w, b)
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    gx, gw, gb = conv2d_backward(gy, saved)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    _, _, stride, padding, dilation, groups, _ = case
    x_in = xt
    if isinstance(padding, tuple):  # torch takes asymmetric padding only through F.pad
        top, bottom, left, right = padding
        x_in, padding = torch.nn.functional.pad(xt, (left, right, top, bottom)), 0
    yt = torch.nn.functional.conv2d(x_in, wt, bt, stride, padding, dilation, groups)
    yt.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    if b is not None:
        np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_batch_gives_empty_outputs(dtype):
    x, w, b = np.zeros((0, 2, 5, 5), dtype), np.ones((3, 2, 3, 3), dtype), np.ones(3, dtype)
    y, saved = conv2d_forward(x, w, b, 1, 1)
    assert y.shape == (0, 3, 5, 5) and y.dtype == dtype
    gx, gw, gb = conv2d_backward(y, saved)
    assert gx.shape == x.shape and gx.dtype == dtype
    np.testing.assert_array_equal(gw, np.zeros_like(w))
    np.testing.assert_array_equal(gb, np.zeros_like(b))
