"""The register tile's products against float64 matmul; convolutions with it and with BLAS.

The tile is plain LLVM IR sized for AVX-512 or AVX2: on other CPUs it runs too (slower), so
these tests run everywhere. On an AVX-512 machine they run a second time, in a process where
numba compiles for Haswell, so the AVX2 tile is tested too.
"""

import os
import subprocess
import sys

import llvmlite.binding as llvm
import numpy as np
import pytest

from autodiff.kernels import _config, conv, gemm, im2col_gemm, winograd

#: numba compiles for an AVX2 CPU without AVX-512 (its cache keeps that code apart).
HASWELL = {
    "NUMBA_CPU_NAME": "haswell",
    "NUMBA_CPU_FEATURES": "+64bit,+avx,+avx2,+bmi,+bmi2,+cmov,+cx16,+cx8,+f16c,+fma,+fsgsbase,"
    "+fxsr,+lzcnt,+mmx,+movbe,+pclmul,+popcnt,+rdrnd,+sahf,+sse,+sse2,+sse3,+sse4.1,+sse4.2,"
    "+ssse3,+xsave,+xsaveopt",
}


def _float64_product(u, v):
    return np.matmul(u.astype(np.float64), v.astype(np.float64))


def _serial(u, v, out, accumulate=False):
    """``gemm.product``, as Winograd's numba pipeline calls it: on this thread, through the
    address of the serial tile."""
    gemm.product(gemm.serial_kernel().address, u, v, out, accumulate)
    return out


PRODUCTS = {"threads": gemm.matmul, "serial": _serial}


def _transposed(a):
    """``a``'s values in a view whose last two axes are swapped in memory: columns contiguous."""
    return np.ascontiguousarray(a.transpose(0, 2, 1)).transpose(0, 2, 1)


@pytest.mark.parametrize(
    "p,m,k,n",
    [
        (16, 64, 64, 289),  # F(2x2) on 32x32: whole blocks of rows, a last partial panel
        (2, 20, 2 * gemm.KC + 52, 100),  # rows past the last whole block; k over three panel copies
        (36, 17, 5, 40),  # fewer columns than one panel, fewer rows than two blocks
        (4, 8, 1, 64),  # one k; whole tiles only
        (1, 3, 7, 1),  # one column, fewer rows than a block
        (2, 16, 0, 40),  # an empty sum: zeros
        (2, 0, 5, 3),  # no rows
    ],
)
@pytest.mark.parametrize("product", PRODUCTS)
def test_products_match_float64_with_any_strides(p, m, k, n, product):
    rng = np.random.default_rng(0)
    u = rng.standard_normal((p, m, k)).astype(np.float32)
    v = rng.standard_normal((p, k, n)).astype(np.float32)
    expected = _float64_product(u, v)
    tolerance = dict(rtol=1e-5, atol=1e-5 * np.sqrt(max(k, 1)))
    views = [(u, v, expected), (_transposed(u), v, expected), (u, _transposed(v), expected)]
    views.append((u[:, ::-1], v, expected[:, ::-1]))  # a negative stride
    for u_in, v_in, want in views:
        out = np.full((p, m, n), 7.0, np.float32)
        assert PRODUCTS[product](u_in, v_in, out) is out
        np.testing.assert_allclose(out, want, **tolerance)
    out = _transposed(np.zeros((p, m, n), np.float32))  # rows of out not contiguous
    PRODUCTS[product](u, v, out)
    np.testing.assert_allclose(out, expected, **tolerance)


@pytest.mark.parametrize("product", PRODUCTS)
def test_accumulate_adds_to_out_and_a_view_of_out_leaves_the_rest(product):
    rng = np.random.default_rng(1)
    u = rng.standard_normal((3, 19, 300)).astype(np.float32)
    v = rng.standard_normal((3, 300, 70)).astype(np.float32)
    start = rng.standard_normal((3, 19, 80)).astype(np.float32)
    out = start.copy()
    PRODUCTS[product](u, v, out[..., :70], accumulate=True)
    np.testing.assert_allclose(out[..., :70], start[..., :70] + _float64_product(u, v), atol=1e-3)
    assert (out[..., 70:] == start[..., 70:]).all()


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


@pytest.mark.parametrize("stride,groups,budget", [(2, 1, None), (1, 2, None), (1, 1, 3000)])
def test_im2col_gives_the_same_convolution_with_blas(monkeypatch, stride, groups, budget):
    monkeypatch.setattr(_config, "DIRECT_MAX_GROUP_WEIGHTS", 0)  # im2col, not the direct loops
    monkeypatch.setattr(_config, "DIRECT_WEIGHT_GRADIENT_MAX_GROUP_WEIGHTS", 0)
    if budget:  # chunks of a sample or two: the weight gradient sums over them
        monkeypatch.setattr(_config, "COLS_BUDGET_BYTES", budget)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 10, 10)).astype(np.float32)
    w = rng.standard_normal((12, 8 // groups, 3, 3)).astype(np.float32)
    gy = None
    results = []
    for available in (True, False):
        monkeypatch.setattr(gemm, "AVAILABLE", available)
        y, saved = conv.conv2d_forward(x, w, None, stride, 1, 1, groups)
        assert saved.algorithm is im2col_gemm
        assert conv.choose_weight_gradient(saved.geometry, saved.algorithm) is im2col_gemm
        gy = rng.standard_normal(y.shape).astype(np.float32) if gy is None else gy
        results.append((y, *conv.conv2d_backward(gy, saved, need_b=False)[:2]))
    for tiled, blas in zip(*results, strict=True):
        np.testing.assert_allclose(tiled, blas, rtol=1e-5, atol=1e-4 * np.abs(blas).max())


def test_operands_that_do_not_fit_are_refused_before_the_tile_runs():
    u, v = np.ones((2, 10, 4), np.float32), np.ones((2, 4, 40), np.float32)
    out = np.zeros((2, 10, 40), np.float32)
    locked = np.zeros_like(out)
    locked.flags.writeable = False
    bad = [
        (u, np.ones((2, 3, 40), np.float32), out),  # K differs
        (u, v, np.zeros((2, 7, 40), np.float32)),  # M differs
        (u, v, np.zeros((2, 10, 20), np.float32)),  # N differs
        (u[:1], v, out),  # P differs
        (u, v.astype(np.float64), out),
        (u, v, locked),
        (u[0], v[0], out[0]),  # not batched
        (u.tolist(), v, out),
    ]
    for args in bad:
        with pytest.raises(ValueError, match="gemm.matmul"):
            gemm.matmul(*args)
    assert (out == 0).all()


def test_the_tile_fits_the_vector_registers_numba_compiles_for():
    if "+avx512f" in gemm._FEATURES:
        assert (gemm.MR, gemm.NR, gemm.W) == (8, 32, 16) and gemm.AVAILABLE
    elif {"+avx2", "+fma"} <= gemm._FEATURES:
        assert (gemm.MR, gemm.NR, gemm.W) == (6, 16, 8) and gemm.AVAILABLE
    else:
        assert not gemm.AVAILABLE


@pytest.mark.skipif(
    os.environ.get("NUMBA_CPU_NAME") == "haswell"
    or "+avx512f" not in llvm.get_host_cpu_features().flatten().split(","),
    reason="tests the AVX2 tile on an AVX-512 machine, where the tests above used the other",
)
def test_this_module_with_the_avx2_tile():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        env={**os.environ, **HASWELL},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
