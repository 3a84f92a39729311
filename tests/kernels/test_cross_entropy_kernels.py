"""The cross-entropy kernels against float64 numpy references."""

import numpy as np
import pytest

from autodiff.kernels import cross_entropy as ce


def _reference(x, target, valid):
    """float64 loss, softmax and the gradient of sum(coef * loss)."""
    x = x.astype(np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = (np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(x)), target]) * valid
    return loss, p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 10), (7, 3), (64, 1000), (5, 1)])
def test_forward_and_backward_match_float64(shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 30).astype(dtype)  # large logits: needs the max shift
    target = rng.integers(0, shape[1], shape[0])
    valid = rng.random(shape[0]) > 0.3
    loss, total, p = ce.forward(x, np.where(valid, target, 0), valid)
    ref_loss, ref_p = _reference(x, np.where(valid, target, 0), valid)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss.dtype == dtype and p.dtype == dtype and isinstance(total, float)
    np.testing.assert_allclose(loss, ref_loss, rtol=tol, atol=tol * 30)
    np.testing.assert_allclose(total, ref_loss.sum(), rtol=tol, atol=tol * 30 * shape[0])
    np.testing.assert_allclose(p, ref_p, rtol=tol, atol=tol)
    coef = (rng.standard_normal(shape[0]) * valid).astype(dtype)
    gx = ce.backward(p, np.where(valid, target, 0), coef)
    onehot = np.eye(shape[1])[np.where(valid, target, 0)]
    np.testing.assert_allclose(gx, coef[:, None] * (ref_p - onehot), rtol=tol, atol=tol)
    assert gx.dtype == dtype


def test_a_nan_logit_poisons_its_row_only_as_numpy_does():
    x = np.array([[1.0, np.nan, 2.0], [0.5, 1.5, -1.0]], np.float32)
    target, valid = np.array([0, 1]), np.array([True, True])
    loss, _, p = ce.forward(x, target, valid)
    numpy_loss, _, numpy_p = ce.forward(x.astype(np.float64), target, valid)  # numpy's path
    assert np.isnan(loss[0]) and np.isnan(p[0]).all()
    np.testing.assert_allclose(loss[1], numpy_loss[1], rtol=1e-6)
    np.testing.assert_allclose(p[1], numpy_p[1], rtol=1e-6)


def test_class_targets_masks_ignored_and_finds_the_first_bad_index():
    t = np.array([[2, -100], [0, 7]], np.int32)
    safe, valid, count, bad = ce.class_targets(t, -100, 5)
    np.testing.assert_array_equal(safe, [[2, 0], [0, 7]])
    np.testing.assert_array_equal(valid, [[True, False], [True, True]])
    assert safe.dtype == np.int64 and count == 3 and bad == 3  # 7 >= 5, at flat position 3
    _, _, count, bad = ce.class_targets(np.array([-1, 4, -100]), -100, 5)
    assert (count, bad) == (2, 0)
    _, _, count, bad = ce.class_targets(np.array([], np.int64), -100, 5)
    assert (count, bad) == (0, -1)
