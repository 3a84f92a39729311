"""The packed batched products against float64 matmul, and Winograd with and without them.

The tile is written for AVX-512 but is plain LLVM IR: on other CPUs it runs too (slower), so
these tests run everywhere.
"""

import numpy as np
import pytest

from autodiff.kernels import _config, conv, gemm, im2col_gemm, winograd


@pytest.mark.parametrize(
    "positions,f,c,t,used",
    [
        (16, 64, 64, 289, 272),  # F(2x2) on 32x32: whole tiles, a last partial panel
        (16, 60, 30, 77, 77),  # F past the last whole block of MR rows
        (36, 17, 5, 40, 3),  # fewer columns than one panel, fewer rows than two blocks
        (4, 8, 1, 64, 64),  # one channel; whole tiles only
        (2, 3, 7, 31, 0),  # nothing used: out untouched
    ],
)
def test_products_match_float64_and_leave_unused_columns(positions, f, c, t, used):
    rng = np.random.default_rng(0)
    u = rng.standard_normal((positions, f, c)).astype(np.float32)
    v = rng.standard_normal((positions, c + 3, t)).astype(np.float32)  # rows past K: not read
    out = np.full((positions, f, t), 7.0, np.float32)
    gemm.products(gemm.pack(u), v, out, used)
    expected = np.matmul(u.astype(np.float64), v[:, :c, :used].astype(np.float64))
    np.testing.assert_allclose(out[..., :used], expected, rtol=1e-5, atol=1e-5 * np.sqrt(c))
    assert (out[..., used:] == 7.0).all()


def test_pack_lays_out_blocks_of_rows_column_after_column():
    u = np.arange(2 * 10 * 3, dtype=np.float32).reshape(2, 10, 3)
    packed = gemm.pack(u)
    assert packed.shape == (2, 2, 3, gemm.MR) and packed.flags.c_contiguous
    np.testing.assert_array_equal(packed[1, 0, 2], u[1, : gemm.MR, 2])
    np.testing.assert_array_equal(packed[1, 1, 0, :2], u[1, gemm.MR :, 0])
    assert (packed[:, 1, :, 2:] == 0).all()  # rows past F


@pytest.mark.parametrize("shape,filters", [((3, 16, 9, 11), 24), ((2, 32, 16, 16), 32)])
def test_winograd_gives_the_same_convolution_with_blas(monkeypatch, shape, filters):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((filters, shape[1], 3, 3)).astype(np.float32)
    results = []
    for available in (True, False):
        monkeypatch.setattr(gemm, "AVAILABLE", available)
        y, saved = conv.conv2d_forward(x, w, None, 1, 1)
        assert saved.algorithm is winograd.F2
        gy = np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)  # both times
        gx, gw, _ = conv.conv2d_backward(gy, saved, need_b=False)
        results.append((y, gx, gw))
    for tiled, blas in zip(*results, strict=True):
        np.testing.assert_allclose(tiled, blas, rtol=1e-5, atol=1e-4 * np.abs(blas).max())


def test_parallel_products_and_left_match_blas(monkeypatch):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 20, 37)).astype(np.float32)  # 2 groups, rows past a block
    b = rng.standard_normal((2, 37, 100)).astype(np.float32)  # a last partial panel
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    out = np.empty((2, 20, 100), np.float32)
    gemm.products_parallel(gemm.pack(a), b, out)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    transposed = np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)  # a view
    for available in (True, False):
        monkeypatch.setattr(gemm, "AVAILABLE", available)
        product = gemm.left(transposed)
        out = np.empty((2, 20, 100), np.float32)
        assert product(b, out) is out
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
        strided = np.asfortranarray(b)  # not C-contiguous: BLAS takes it
        np.testing.assert_allclose(
            product(strided, np.empty_like(out)), expected, rtol=1e-5, atol=1e-4
        )


@pytest.mark.parametrize("stride,groups", [(2, 1), (1, 2)])
def test_im2col_gives_the_same_convolution_with_blas(monkeypatch, stride, groups):
    monkeypatch.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", 0)  # im2col, not the direct loops
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 10, 10)).astype(np.float32)
    w = rng.standard_normal((12, 8 // groups, 3, 3)).astype(np.float32)
    results = []
    for available in (True, False):
        monkeypatch.setattr(gemm, "AVAILABLE", available)
        y, saved = conv.conv2d_forward(x, w, None, stride, 1, 1, groups)
        assert saved.algorithm is im2col_gemm
        gx, _, _ = conv.conv2d_backward(np.ones_like(y), saved, need_w=False, need_b=False)
        results.append((y, gx))
    (y, gx), (y_blas, gx_blas) = results
    np.testing.assert_allclose(y, y_blas, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(gx, gx_blas, rtol=1e-5, atol=1e-4)


def test_operands_that_do_not_fit_are_refused_before_the_tile_runs():
    packed = gemm.pack(np.ones((2, 10, 4), np.float32))
    v, out = np.ones((2, 4, 40), np.float32), np.zeros((2, 10, 40), np.float32)
    bad = [
        (packed, np.ones((2, 3, 40), np.float32), out, 40),  # fewer rows of v than K
        (packed, v, np.zeros((2, 7, 40), np.float32), 40),  # M does not fit the packed blocks
        (packed, v, np.zeros((2, 10, 20), np.float32), 20),  # N differs
        (packed, v, out[..., :20], 20),  # not C-contiguous
        (packed, v.astype(np.float64), out, 40),
        (packed, v, out, 41),  # used past N
    ]
    for args in bad:
        with pytest.raises(ValueError, match="gemm.products"):
            gemm.products(*args)
    with pytest.raises(ValueError, match="gemm.products"):
        gemm.products_parallel(packed, np.asfortranarray(v), out)
    assert (out == 0).all()
