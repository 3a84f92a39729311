"""Op-table entries for layer, group and instance norm and scaled dot-product attention (see
tests/ops/specs.py). Masks and running statistics are constants in the sample's kwargs; a float
attention mask is also given as a differentiable input."""

import numpy as np

import autodiff as ad
from autodiff.ops.attention import scaled_dot_product_attention
from autodiff.ops.normalization import (
    BatchNorm,
    LayerNorm,
    group_norm,
    instance_norm,
    layer_norm,
)
from tests.ops.harness import OpSpec, mask, positive, sample, torch

# ---- references (float64 numpy, PyTorch's definitions) ----------------------------------------


def _normalise(x, axes, eps):
    mean = x.mean(axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axes, keepdims=True) + eps)


def _channel(a, ndim):
    return a.reshape((-1,) + (1,) * (ndim - 2))


def _ref_layer_norm(x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = _normalise(x, axes, eps)
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def _ref_group_norm(x, weight, bias, num_groups=1, eps=1e-5):
    grouped = x.reshape(x.shape[0], num_groups, -1)
    y = _normalise(grouped, (2,), eps).reshape(x.shape)
    return y * _channel(weight, x.ndim) + _channel(bias, x.ndim)


def _ref_instance_norm(x, weight=None, bias=None, eps=1e-5):
    y = _normalise(x, tuple(range(2, x.ndim)), eps)
    if weight is not None:
        y = y * _channel(weight, x.ndim) + _channel(bias, x.ndim)
    return y


def _ref_instance_norm_eval(x, weight, bias, running_mean, running_var, eps=1e-5):
    y = (x - _channel(running_mean, x.ndim)) / np.sqrt(_channel(running_var, x.ndim) + eps)
    return y * _channel(weight, x.ndim) + _channel(bias, x.ndim)


def _ref_attention(q, k, v, float_mask=None, attn_mask=None, is_causal=False, scale=None,
                   enable_gqa=False):  # fmt: skip
    if enable_gqa:
        repeats = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, repeats, axis=-3), np.repeat(v, repeats, axis=-3)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    allowed = np.ones(scores.shape, bool)
    if is_causal:
        allowed = np.tril(np.ones(scores.shape[-2:], bool))
    if attn_mask is not None:
        allowed = np.broadcast_to(attn_mask, scores.shape)
    if float_mask is not None:
        scores = scores + float_mask
        allowed = allowed & ~np.isneginf(np.broadcast_to(float_mask, scores.shape))
    scores = np.where(allowed, scores, -np.inf)
    live = allowed.any(-1, keepdims=True)
    scores = np.where(live, scores, 0)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    weights = np.where(live, e / e.sum(-1, keepdims=True), 0)
    return weights @ v


# ---- torch adapters ------------------------------------------------------------------------------


def _torch_instance_norm_eval(x, w, b, running_mean, running_var):
    stats = [torch.from_numpy(a).to(x.dtype) for a in (running_mean, running_var)]
    return torch.nn.functional.instance_norm(x, *stats, w, b, use_input_stats=False)


def _torch_attention(q, k, v, float_mask=None, attn_mask=None, **kw):
    if attn_mask is not None:
        attn_mask = torch.from_numpy(attn_mask)
    if float_mask is not None:
        attn_mask = float_mask
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask, **kw)


def _attention(q, k, v, float_mask=None, **kw):
    mask = kw.pop("attn_mask", float_mask)
    return scaled_dot_product_attention(q, k, v, mask, **kw)


def _float_mask(rng, shape):
    """An additive mask: some entries -inf (masked out), the rest small numbers."""
    return np.where(rng.random(shape) < 0.3, -np.inf, rng.standard_normal(shape) * 0.5)


def _dead_rows(shape):
    """A bool mask with one query row (row 1) allowed no key at all."""
    m = mask(shape, seed=3)
    m[..., 0] = True
    m[..., 1, :] = False
    return m


def _stats(n, seed):
    rng = np.random.default_rng(seed)
    return {"running_mean": rng.standard_normal(n) * 0.3, "running_var": rng.uniform(0.5, 2, n)}


# ---- the entries ---------------------------------------------------------------------------------

_NEEDS_BATCH = {"scalar": "needs (N, C, ...) input"}
_ONE_TENSOR = {"broadcast": "weight and bias have one fixed shape; no broadcasting pair"}

SPECS = [
    OpSpec(
        name="layer_norm",
        fn=lambda x, w, b, normalized_shape, **kw: layer_norm(x, normalized_shape, w, b, **kw),
        ref=_ref_layer_norm,
        torch_fn=lambda x, w, b, normalized_shape, **kw: torch.nn.functional.layer_norm(
            x, normalized_shape, w, b, **kw
        ),
        covers=(LayerNorm,),
        samples=(
            sample((4, 3), (3,), (3,), normalized_shape=(3,)),
            sample((1, 4), (4,), (4,), normalized_shape=(4,), eps=1e-3),
            sample((4, 3), (3,), (3,), t=(0,), normalized_shape=(3,)),
            sample((2, 3, 4), (3, 4), (3, 4), normalized_shape=(3, 4)),
            sample((2, 5, 3), (5, 3), (5, 3), t=(1, 2), normalized_shape=(5, 3)),
        ),
        domain=(lambda rng, s: rng.standard_normal(s) * 2 + 1, positive, positive),
        exempt={"scalar": "normalises over at least one dim", **_ONE_TENSOR},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="layer_norm_no_affine",
        fn=lambda x, normalized_shape: layer_norm(x, normalized_shape),
        ref=lambda x, normalized_shape: _ref_layer_norm(x, normalized_shape=normalized_shape),
        torch_fn=lambda x, normalized_shape: torch.nn.functional.layer_norm(x, normalized_shape),
        covers=(LayerNorm,),
        samples=(
            sample((3, 5), normalized_shape=(5,)),
            sample((2, 1, 4), normalized_shape=(1, 4)),
            sample((4, 6), t=(0,), normalized_shape=(4, 6)),
        ),
        exempt={"scalar": "normalises over at least one dim", **_ONE_TENSOR},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="group_norm",
        fn=lambda x, w, b, num_groups, **kw: group_norm(x, num_groups, w, b, **kw),
        ref=_ref_group_norm,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.group_norm(x, weight=w, bias=b, **kw),
        covers=(LayerNorm,),
        samples=(
            sample((2, 4, 3), (4,), (4,), num_groups=2),
            sample((3, 6), (6,), (6,), num_groups=3),
            sample((1, 4, 2, 3), (4,), (4,), num_groups=1, eps=1e-3),
            sample((2, 6, 5), (6,), (6,), t=(0,), num_groups=6),
        ),
        domain=(lambda rng, s: rng.standard_normal(s) * 2 + 1, positive, positive),
        exempt={**_NEEDS_BATCH, **_ONE_TENSOR},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="instance_norm",
        fn=lambda x, w, b, **kw: instance_norm(x, None, None, w, b, **kw),
        ref=_ref_instance_norm,
        torch_fn=lambda x, w, b, **kw: torch.nn.functional.instance_norm(x, weight=w, bias=b, **kw),
        covers=(LayerNorm,),
        samples=(
            sample((2, 3, 4), (3,), (3,)),
            sample((1, 2, 5, 3), (2,), (2,), eps=1e-3),
            sample((2, 3, 4), (3,), (3,), t=(0,)),
        ),
        domain=(lambda rng, s: rng.standard_normal(s) * 2 + 1, positive, positive),
        exempt={**_NEEDS_BATCH, **_ONE_TENSOR},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="instance_norm_no_affine",
        fn=instance_norm,
        ref=_ref_instance_norm,
        torch_fn=lambda x, **kw: torch.nn.functional.instance_norm(x, **kw),
        covers=(LayerNorm,),
        samples=(
            sample((2, 1, 6)),
            sample((3, 2, 3, 2), t=(0,)),
        ),
        exempt={**_NEEDS_BATCH, **_ONE_TENSOR},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="instance_norm_eval",
        fn=lambda x, w, b, running_mean, running_var: instance_norm(
            x,
            ad.tensor(running_mean, dtype=x.dtype),
            ad.tensor(running_var, dtype=x.dtype),
            w,
            b,
            use_input_stats=False,
        ),
        ref=_ref_instance_norm_eval,
        torch_fn=_torch_instance_norm_eval,
        covers=(BatchNorm,),
        samples=(
            sample((2, 3, 4), (3,), (3,), **_stats(3, 0)),
            sample((1, 2, 3, 2), (2,), (2,), t=(0,), **_stats(2, 1)),
        ),
        exempt={**_NEEDS_BATCH, **_ONE_TENSOR},
    ),
    OpSpec(
        name="scaled_dot_product_attention",
        fn=_attention,
        ref=_ref_attention,
        torch_fn=_torch_attention,
        covers=(),
        samples=(
            sample((2, 3, 4), (2, 5, 4), (2, 5, 6)),
            sample((1, 3, 4), (5, 4), (5, 2), scale=0.3),  # key and value broadcast over batch
            sample((2, 4, 3), (2, 4, 3), (2, 4, 3), t=(0, 2), is_causal=True),
            sample((3, 2), (4, 2), (4, 1), attn_mask=mask((3, 4), seed=1)),
            sample((2, 3, 3), (2, 3, 3), (2, 3, 3), attn_mask=_dead_rows((2, 3, 3))),
            sample((1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2), enable_gqa=True, is_causal=True),
        ),
        exempt={"scalar": "query, key and value need (L, E) at least"},
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        name="scaled_dot_product_attention_float_mask",
        fn=_attention,
        ref=_ref_attention,
        torch_fn=_torch_attention,
        covers=(),
        samples=(
            sample((2, 3, 4), (2, 5, 4), (2, 5, 4), (3, 5)),
            sample((1, 3, 2), (1, 3, 2), (1, 3, 2), (1, 1, 3)),
            sample((2, 3, 4), (2, 3, 4), (2, 3, 4), (2, 3, 3), t=(0, 3)),
        ),
        domain=(lambda rng, s: rng.standard_normal(s),) * 3 + (_float_mask,),
        exempt={"scalar": "query, key and value need (L, E) at least"},
        rtol=1e-4,
        atol=1e-5,
    ),
]
