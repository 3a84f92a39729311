"""Batch-norm kernels against float64 numpy formulas, in both dtypes and every gradient mode."""

import numpy as np
import pytest

from autodiff.kernels.batchnorm import batch_norm_backward, batch_norm_forward, batch_norm_stats

SHAPES = [(4, 3, 5), (7, 2, 1), (1, 4, 33)]  # (N, C, L); L = 1 is BatchNorm1d on (N, C)


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    return x, g, w, b


def _reference(x, g, w, b, batch_stats, mean=None, var=None, eps=1e-5):
    """y, gx, gw, gb in float64, straight from the formulas."""
    x, g, w, b = (a.astype(np.float64) for a in (x, g, w, b))
    if mean is None:
        mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    inv = 1 / np.sqrt(var + eps)
    xhat = (x - mean[:, None]) * inv[:, None]
    y = xhat * w[:, None] + b[:, None]
    gw, gb = (g * xhat).sum(axis=(0, 2)), g.sum(axis=(0, 2))
    m = x.shape[0] * x.shape[2]
    if batch_stats:
        gx = (g - gb[:, None] / m - xhat * gw[:, None] / m) * (inv * w)[:, None]
    else:
        gx = g * (inv * w)[:, None]
    return y, gx, gw, gb


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("batch_stats", [True, False])
def test_matches_the_formulas(shape, dtype, tol, batch_stats):
    x, g, w, b = _data(shape, dtype)
    if batch_stats:
        mean, var = batch_norm_stats(x)
        assert mean.dtype == var.dtype == dtype
        np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=(0, 2)), rtol=tol)
        np.testing.assert_allclose(var, x.astype(np.float64).var(axis=(0, 2)), rtol=tol)
        ref = _reference(x, g, w, b, True)
    else:  # running estimates, unrelated to this batch
        mean = np.array([0.5, -1.0, 2.0, 0.0][: shape[1]], dtype)
        var = np.full(shape[1], 2.0, dtype)
        ref = _reference(x, g, w, b, False, mean.astype(np.float64), var.astype(np.float64))
    inv = (1 / np.sqrt(var + 1e-5)).astype(dtype)
    y = batch_norm_forward(x, mean, inv, w, b)
    gx, gw, gb = batch_norm_backward(g, x, mean, inv, w, batch_stats, need_x=True)
    for got, want in zip((y, gx, gw, gb), ref, strict=True):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_without_affine_or_input_gradient():
    x, g, _, _ = _data((3, 2, 4), np.float64)
    mean, var = batch_norm_stats(x)
    inv = 1 / np.sqrt(var + 1e-5)
    ones, zeros = np.ones(2), np.zeros(2)
    np.testing.assert_array_equal(
        batch_norm_forward(x, mean, inv, None, None), batch_norm_forward(x, mean, inv, ones, zeros)
    )
    gx, gw, gb = batch_norm_backward(g, x, mean, inv, None, True, need_x=False)
    assert gx is None
    _, _, want_gw, want_gb = _reference(x, g, ones, zeros, True)
    np.testing.assert_allclose(gw, want_gw, rtol=1e-12)
    np.testing.assert_allclose(gb, want_gb, rtol=1e-12)


def test_float32_statistics_keep_their_digits_with_a_large_offset():
    # 2^20 values of 1000 + N(0, 1): a float32 running sum would drift by ~1e-3 of the mean
    x = (1000 + np.random.default_rng(1).standard_normal((64, 1, 2**14))).astype(np.float32)
    mean, var = batch_norm_stats(x)
    x64 = x.astype(np.float64)
    assert abs(mean[0] - x64.mean()) < 1e-4
    assert abs(var[0] - x64.var()) < 1e-4 * x64.var()
