"""Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution: forward, input and weight gradients against
the im2col path, a direct loop and torch, over shapes with partial tiles, every padding, batch
chunking and the split of the batch over worker threads."""

import multiprocessing
import os

import numpy as np
import pytest

from autodiff.kernels import _config, conv, conv2d_backward, conv2d_forward, workers
from autodiff.kernels import winograd as winograd_module
from autodiff.kernels._checks import conv_geometry

from . import reference as ref

TILES = {"F2": winograd_module.F2, "F4": winograd_module.F4}

# (x shape (N, C, H, W), filters F, padding (top, bottom, left, right))
CASES = [
    ((2, 3, 8, 8), 4, (1, 1, 1, 1)),  # whole tiles
    ((2, 3, 7, 9), 4, (1, 1, 1, 1)),  # partial last tiles (3 rows, 1 column)
    ((1, 2, 6, 11), 3, (0, 0, 0, 0)),  # batch 1, no padding, non-square
    ((2, 3, 13, 14), 5, (1, 1, 1, 1)),  # several tiles each way, partial by 1 and 2
    ((2, 2, 5, 4), 5, (2, 2, 2, 2)),  # padding 2: the input gradient pads by 0
    ((2, 3, 6, 7), 2, (0, 2, 1, 0)),  # asymmetric
    ((1, 1, 5, 6), 2, (1, 0, 2, 1)),  # C = 1 (conv2d itself sends this to depthwise)
    ((3, 4, 4, 5), 1, (1, 1, 0, 2)),  # F = 1
    ((1, 2, 3, 3), 3, (0, 0, 0, 0)),  # a single 1x1 output
    ((2, 2, 4, 4), 2, (3, 1, 0, 4)),  # padding > 2: the input gradient crops
]
IDS = [f"{x}x{f}-pad{p}".replace(" ", "") for x, f, p in CASES]


def make(case, dtype=np.float64, seed=0):
    """Random x, w (F, C, 3, 3), b and gy for a case."""
    x_shape, f, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((f, x_shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    gy = rng.standard_normal((x_shape[0], f, *out_hw(case))).astype(dtype)
    return x, w, b, gy


def out_hw(case):
    """(oh, ow) of a 3x3 stride-1 correlation."""
    (_, _, h, w), _, (top, bottom, left, right) = case
    return h + top + bottom - 2, w + left + right - 2


def geometry(case, dtype=np.float64):
    """The case's geometry, as conv2d_forward gives it to the algorithms."""
    x_shape, f, padding = case
    return conv_geometry("test", x_shape, (f, x_shape[1], 3, 3), dtype, 1, padding, 1, 1)


@pytest.fixture(autouse=True)
def float64_through_winograd(monkeypatch):
    """These tests check conv2d's dispatch in float64, which otherwise takes ``taps.py``."""
    monkeypatch.setattr(conv, "FLOAT64_ALGORITHMS", conv.ALGORITHMS)


@pytest.fixture(params=TILES)
def tile(request):
    """Each tile size's algorithm object."""
    return TILES[request.param]


def winograd(case, x, w, b, gy, tile=winograd_module.F4):
    """y, gx, gw from a Winograd algorithm directly."""
    g = geometry(case, x.dtype)
    return tile.forward(x, w, b, g), tile.backward_input(gy, w, g), tile.backward_weight(gy, x, g)


def conv2d(monkeypatch, case, x, w, b, gy, tile, min_channels):
    """y, gx, gw, gb from conv2d with ``tile``'s least channels ``min_channels``, any size (the
    other tile size off)."""
    f4 = tile == "F4"
    with monkeypatch.context() as m:
        m.setattr(winograd_module.F4, "enabled", f4)
        m.setattr(winograd_module.F2, "enabled", not f4)
        m.setattr(_config, f"WINOGRAD{'' if f4 else '2'}_MIN_CHANNELS", min_channels)
        m.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", 0)
        m.setattr(_config, "WINOGRAD_MIN_PIXELS_PER_CHANNEL", 0)
        m.setattr(_config, "WINOGRAD2_MIN_PIXELS_PER_CHANNEL", 0)
        y, saved = conv2d_forward(x, w, b, 1, case[2])
        return (y, *conv2d_backward(gy, saved))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_direct_loop(case, tile):
    x, w, b, gy = make(case)
    y, gx, gw = winograd(case, x, w, b, gy, tile)
    expected = ref.conv2d(x, w, b, (1, 1), case[2], (1, 1), 1)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    # The gradients of a correlation, as sums of products over the padded input.
    xp = ref.pad(x, *case[2])
    (oh, ow), (top, _, left, _) = out_hw(case), case[2]
    gw_ref = np.zeros_like(w)
    gxp = np.zeros_like(xp)
    for i in range(3):
        for j in range(3):
            gw_ref[:, :, i, j] = np.einsum("nfhw,nchw->fc", gy, xp[:, :, i : i + oh, j : j + ow])
            gxp[:, :, i : i + oh, j : j + ow] += np.einsum("nfhw,fc->nchw", gy, w[:, :, i, j])
    gx_ref = gxp[:, :, top : top + x.shape[2], left : left + x.shape[3]]
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile_name", TILES)
@pytest.mark.parametrize("case", [c for c in CASES if c[0][1] > 1], ids=lambda c: str(c[0]))
def test_conv2d_dispatches_and_matches_im2col(monkeypatch, case, tile_name):
    x, w, b, gy = make(case)
    calls = []
    owner = TILES[tile_name]
    for name in ("forward", "backward_input", "backward_weight"):
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, real=real: calls.append(a) or real(*a))
    got = conv2d(monkeypatch, case, x, w, b, gy, tile_name, min_channels=1)
    assert len(calls) == 3
    expected = conv2d(monkeypatch, case, x, w, b, gy, tile_name, min_channels=2**62)
    assert len(calls) == 3
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "w_shape,stride,dilation,groups",
    [
        ((4, 4, 3, 3), 2, 1, 1),
        ((4, 4, 3, 3), 1, 2, 1),
        ((4, 2, 3, 3), 1, 1, 2),
        ((4, 4, 3, 2), 1, 1, 1),
        ((4, 4, 5, 5), 1, 1, 1),
    ],
)
def test_other_geometries_keep_im2col(monkeypatch, w_shape, stride, dilation, groups):
    def fail(*args):
        raise AssertionError("Winograd called outside 3x3, stride 1, dilation 1, groups 1")

    for owner in (winograd_module.F4, winograd_module.F2):
        for name in ("forward", "backward_input", "backward_weight"):
            monkeypatch.setattr(owner, name, fail)
    monkeypatch.setattr(winograd_module.F4, "enabled", True)
    for name in ("WINOGRAD", "WINOGRAD2"):
        monkeypatch.setattr(_config, f"{name}_MIN_CHANNELS", 1)
        monkeypatch.setattr(_config, f"{name}_MIN_PIXELS_PER_CHANNEL", 0)
    x = np.ones((2, 4, 9, 9))
    y, saved = conv2d_forward(x, np.ones(w_shape), None, stride, 1, dilation, groups)
    conv2d_backward(np.ones_like(y), saved)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dtype_is_preserved(case, dtype, tile):
    x, w, b, gy = make(case, dtype)
    for out in winograd(case, x, w, None, gy, tile):
        assert out.dtype == dtype
    assert tile.filter_transform(w).dtype == dtype


# Largest float32 error against float64 on a realistic layer, relative to the largest magnitude.
# F(4x4)'s points +-2 scale tile entries by up to 100 (B^T d B) and 64 (A^T m A) before they
# cancel, which costs about 4 bits over im2col; F(2x2)'s transforms only add and subtract
# (python -m benchmarks.conv_tuning accuracy).
FLOAT32_ERROR = {"F2": 2e-6, "F4": 2e-5}


@pytest.mark.parametrize("tile_name", TILES)
@pytest.mark.parametrize("channels", [64, 256])
def test_float32_error_stays_near_float32_rounding(channels, tile_name):
    case = ((4, channels, 14, 13), 32, (1, 1, 1, 1))
    x, w, b, gy = make(case)
    tile = TILES[tile_name]
    exact = winograd(case, x, w, b, gy, tile)
    single = winograd(case, *(a.astype(np.float32) for a in (x, w, b, gy)), tile)
    for got, want in zip(single, exact, strict=True):
        scale = np.abs(want).max()
        assert np.abs(got - want).max() / scale < FLOAT32_ERROR[tile_name]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # in Python; in ranges on the tile
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_batch_chunks_plane_blocks_and_threads_give_the_same_result(
    monkeypatch, threads, dtype, tile
):
    case = ((7, 3, 11, 10), 4, (1, 2, 0, 1))
    x, w, b, gy = make(case, dtype)
    with monkeypatch.context() as m:
        m.setattr(workers.numba, "get_num_threads", lambda: 1)
        whole = winograd(case, x, w, b, gy, tile)
    # Output (12, 9) and input (11, 10) give the same tiles each way, plus one spare band and
    # column: 4 x 4 = 16 slots per plane for F(4x4), 7 x 6 = 42 for F(2x2). One sample's
    # transformed tiles take positions * max(C, F) * slots * itemsize bytes; this budget gives
    # chunks of 2 samples (on the tile, the threads take 7 samples as 3 + 4 or 2 + 2 + 3, so
    # some end on a short chunk), and the kernels work on blocks of 3 planes (4 to 8 planes per
    # chunk).
    slots = 16 if tile.m == 4 else 42
    size = np.dtype(dtype).itemsize
    monkeypatch.setattr(_config, "COLS_BUDGET_BYTES", 2 * tile.positions * 4 * slots * size + 100)
    monkeypatch.setattr(winograd_module, "_SCRATCH_ELEMENTS", 3 * tile.positions * slots)
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: threads)
    assert winograd_module._block(tile.positions * slots) == 3
    assert winograd_module._chunk(7, 4, slots, tile.positions, size) == 2
    # float32: sums over other chunks round apart, relative to the largest entry
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for got, want in zip(winograd(case, x, w, b, gy, tile), whole, strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_backward_is_the_adjoint_of_forward(tile):
    case = ((2, 3, 7, 5), 4, (0, 1, 2, 1))
    x, w, _, gy = make(case)
    dx, dw, _, _ = make(case, seed=1)
    _, gx, gw = winograd(case, x, w, None, gy, tile)
    fwd = lambda a, f: tile.forward(a, f, None, geometry(case))  # noqa: E731
    assert np.isclose(np.vdot(gy, fwd(dx, w)), np.vdot(gx, dx))
    assert np.isclose(np.vdot(gy, fwd(x, dw)), np.vdot(gw, dw))


def test_nan_propagates(tile):
    case = CASES[1]
    x, w, b, gy = make(case)
    x[0, 0, 3, 4] = np.nan
    y, _, gw = winograd(case, x, w, b, gy, tile)
    assert np.isnan(y[0, :, 2:5, 3:6]).all() and not np.isnan(y[1]).any()
    assert np.isnan(gw[:, 0]).all()


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("sample", [0, 1])
def test_a_non_finite_input_stays_in_its_channel(value, sample, tile):
    # The spare tiles of a plane are filled from the next rows and planes; they must not carry
    # an inf or NaN of channel 1 into the weight gradient of channel 0 or 2.
    case = CASES[1]
    x, w, b, gy = make(case)
    x[sample, 1, 0, 0] = value
    with np.errstate(invalid="ignore"):
        y, gx, gw = winograd(case, x, w, b, gy, tile)
    assert np.isfinite(gw[:, [0, 2]]).all() and not np.isfinite(gw[:, 1]).all()
    assert np.isfinite(y[1 - sample]).all() and np.isfinite(gx).all()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_torch(case, tile):
    torch = pytest.importorskip("torch")
    x, w, b, gy = make(case, np.float32)
    y, gx, gw = winograd(case, x, w, b, gy, tile)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    top, bottom, left, right = case[2]
    x_in = torch.nn.functional.pad(xt, (left, right, top, bottom))
    yt = torch.nn.functional.conv2d(x_in, wt, torch.from_numpy(b))
    yt.backward(torch.from_numpy(gy))
    # 1e-4, as test_conv.py: F(4x4, 3x3) rounds about 10x more than a GEMM (see above), so
    # entries of magnitude ~5 miss torch's by up to 5e-5.
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-4, atol=1e-4)


def _forward_in_child(queue):
    case = CASES[3]
    x, w, b, _ = make(case)
    queue.put(winograd_module.F4.forward(x, w, b, geometry(case)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_python_threads(monkeypatch):
    # In float64 the pipeline runs on Python threads (workers.split_in_python). The parent's
    # pool is started (two threads, one sample per chunk); a child forked afterwards must not
    # wait on those threads, which it does not have (it hung before).
    monkeypatch.setattr(workers.numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(winograd_module, "_TILE_BUFFER_BYTES", 1)
    monkeypatch.setattr(workers, "_POOL", None)
    monkeypatch.setattr(workers, "_POOL_SIZE", 0)
    case = CASES[3]
    x, w, b, _ = make(case)
    expected = winograd_module.F4.forward(x, w, b, geometry(case))
    assert workers._POOL is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_forward_in_child, args=(queue,))
    child.start()
    np.testing.assert_array_equal(queue.get(timeout=60), expected)
    child.join(timeout=60)
    assert child.exitcode == 0
