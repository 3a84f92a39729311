"""scaled_dot_product_attention beyond the op table: dropout, masks that remove every key,
bool and float masks agreeing, dtypes, and the errors it raises."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F


def _rng(seed=0):
    return np.random.default_rng(seed)


def _qkv(shape_q=(2, 3, 4), shape_kv=(2, 5, 4), dtype=np.float32, seed=0):
    rng = _rng(seed)
    return [
        ad.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
        for s in (shape_q, shape_kv, shape_kv)
    ]


def test_dropout_zeroes_or_rescales_each_attention_weight():
    q, k, _ = _qkv((1, 4, 3), (1, 6, 3))
    eye = ad.tensor(np.eye(6, dtype=np.float32)[None])  # value = I: the output is the weights
    weights = F.scaled_dot_product_attention(q, k, eye).data
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5).data
    kept = dropped != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(dropped[kept], 2 * weights[kept], rtol=1e-6)


def test_bool_mask_equals_the_float_mask_with_minus_infinity():
    q, k, v = _qkv()
    allowed = _rng(1).random((3, 5)) < 0.6
    allowed[:, 0] = True
    as_float = np.where(allowed, 0, -np.inf).astype(np.float32)
    a = F.scaled_dot_product_attention(q, k, v, allowed)
    b = F.scaled_dot_product_attention(q, k, v, ad.tensor(as_float))
    np.testing.assert_array_equal(a.data, b.data)


def test_a_row_with_every_key_masked_gives_zero_output_and_gradient():
    q, k, v = _qkv()
    allowed = np.ones((3, 5), bool)
    allowed[1] = False
    out = F.scaled_dot_product_attention(q, k, v, allowed)
    np.testing.assert_array_equal(out.data[:, 1], 0)
    assert np.isfinite(out.data).all()
    out.sum().backward()
    np.testing.assert_array_equal(q.grad.data[:, 1], 0)
    assert all(np.isfinite(t.grad.data).all() for t in (q, k, v))


def test_causal_is_the_lower_triangle_mask():
    q, k, v = _qkv((2, 4, 3), (2, 4, 3))
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    masked = F.scaled_dot_product_attention(q, k, v, np.tril(np.ones((4, 4), bool)))
    np.testing.assert_array_equal(causal.data, masked.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_keeps_the_dtype(dtype):
    q, k, v = _qkv(dtype=dtype)
    out = F.scaled_dot_product_attention(q, k, v, np.ones((3, 5), bool), scale=0.5)
    assert out.dtype == dtype
    out.sum().backward()
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == dtype


def test_errors_name_the_op_shapes_and_dtypes():
    q, k, v = _qkv()
    op = "scaled_dot_product_attention"
    with pytest.raises(ValueError, match=f"{op}: attn_mask must be None when is_causal"):
        F.scaled_dot_product_attention(q, k, v, np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(TypeError, match=f"{op}: query, key and value must share one float"):
        F.scaled_dot_product_attention(q, k.double(), v)
    with pytest.raises(RuntimeError, match=rf"{op}: need query \(\*, L, E\)"):
        F.scaled_dot_product_attention(q, v, ad.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=f"{op}: query, key and value need at least 2 dims"):
        F.scaled_dot_product_attention(ad.zeros(4), k, v)
    with pytest.raises(TypeError, match=f"{op}: attn_mask must be bool or of query's dtype"):
        F.scaled_dot_product_attention(q, k, v, np.zeros((3, 5), np.int64))
    with pytest.raises(ValueError, match=rf"{op}: attn_mask of shape \(4, 5\) bool does not"):
        F.scaled_dot_product_attention(q, k, v, np.ones((4, 5), bool))
    with pytest.raises(ValueError, match=f"{op}: enable_gqa needs query"):
        F.scaled_dot_product_attention(
            ad.zeros(1, 3, 2, 4), ad.zeros(1, 2, 2, 4), ad.zeros(1, 2, 2, 4), enable_gqa=True
        )
