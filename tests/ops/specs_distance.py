"""Op-table entries for autodiff/ops/{distance,embedding,pixel_shuffle}.py and the channel and
alpha dropouts of autodiff/ops/dropout.py (see tests/ops/specs.py)."""

import numpy as np

from autodiff.linalg import VectorNorm
from autodiff.ops.distance import cosine_similarity, normalize, pairwise_distance
from autodiff.ops.dropout import Dropout, alpha_dropout, dropout1d, dropout2d, dropout3d
from autodiff.ops.embedding import Embedding, embedding
from autodiff.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from autodiff.ops.shape import Permute
from tests.ops.harness import OpSpec, sample, torch


def _f(name):
    """torch.nn.functional.<name>, looked up on use (the table loads without torch)."""
    return getattr(torch.nn.functional, name)


# ---- numpy references ----------------------------------------------------------------------------


def _norm(x, p, axis):
    a = np.abs(x)
    if p == np.inf:
        return a.max(axis=axis, keepdims=True)
    return (a**p).sum(axis=axis, keepdims=True) ** (1 / p)


def _normalize(x, p=2.0, dim=1, eps=1e-12):
    return x / np.maximum(_norm(x, p, dim), eps)


def _cosine_similarity(x1, x2, dim=1, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    unit1 = x1 / np.maximum(_norm(x1, 2, dim), eps)
    unit2 = x2 / np.maximum(_norm(x2, 2, dim), eps)
    return (unit1 * unit2).sum(axis=dim)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = _norm(x1 - x2 + eps, p, -1)
    return d if keepdim or d.ndim == 0 else d[..., 0]


def _pixel_shuffle(x, upscale_factor):
    r = upscale_factor
    *batch, c, h, w = x.shape
    out = np.empty((*batch, c // (r * r), h * r, w * r))
    for i in range(r):
        for j in range(r):
            out[..., i::r, j::r] = x[..., (i * r + j) :: r * r, :, :]
    return out


def _pixel_unshuffle(x, downscale_factor):
    r = downscale_factor
    *batch, c, h, w = x.shape
    out = np.empty((*batch, c * r * r, h // r, w // r))
    for i in range(r):
        for j in range(r):
            out[..., (i * r + j) :: r * r, :, :] = x[..., i::r, j::r]
    return out


def _channel_mask(shape, p, seed, unbatched):
    kept = 1 if unbatched else 2
    mask_shape = shape[:kept] + (1,) * (len(shape) - kept)
    return (np.random.default_rng(seed).random(mask_shape) >= p) / (1 - p)


def _alpha_dropout(x, p, seed):
    keep = np.random.default_rng(seed).random(x.shape) >= p
    s = 1.7580993408473766
    a = 1 / np.sqrt((s * s * p + 1) * (1 - p))
    return x * keep * a + (keep - 1.0) * s * a + s * a * p


def _torch_embedding(w, indices, **kw):
    return torch.nn.functional.embedding(torch.from_numpy(indices), w, **kw)


INDICES = np.array([[0, 3, 3], [4, 1, 3]])
ONE_INPUT = {"broadcast": "takes one tensor"}

SPECS = [
    OpSpec(
        name="normalize",
        fn=normalize,
        ref=_normalize,
        torch_fn=lambda x, **kw: _f("normalize")(x, **kw),
        covers=(VectorNorm,),
        samples=(
            sample((), dim=0),
            sample((1, 3)),
            sample((4, 3), t=(0,), dim=0),
            sample((2, 3, 4), p=1.0, dim=-1),
            sample((3, 5), p=3.0),
            sample((3, 5), p=np.inf),
        ),
        exempt=ONE_INPUT,
    ),
    OpSpec(
        name="cosine_similarity",
        fn=cosine_similarity,
        ref=_cosine_similarity,
        torch_fn=lambda x1, x2, **kw: _f("cosine_similarity")(x1, x2, **kw),
        covers=(VectorNorm,),
        samples=(
            sample((), (), dim=0),
            sample((1, 3), (1, 3)),
            sample((4, 3), (4, 3), t=(0, 1), dim=0),
            sample((3,), (2, 3), dim=1),
            sample((3,), (2, 3), dim=0),
            sample((2, 3, 4), (3, 1), dim=-1),
        ),
    ),
    OpSpec(
        name="pairwise_distance",
        fn=pairwise_distance,
        ref=_pairwise_distance,
        torch_fn=lambda x1, x2, **kw: _f("pairwise_distance")(x1, x2, **kw),
        covers=(VectorNorm,),
        samples=(
            sample((), ()),
            sample((1, 3), (1, 3), keepdim=True),
            sample((4, 3), (4, 3), t=(0,)),
            sample((3,), (4, 3)),
            sample((4, 3), (4, 3), p=1.0),
            sample((4, 3), (3,), p=3.0, eps=0.0),
        ),
    ),
    OpSpec(
        name="embedding",
        fn=lambda w, indices, **kw: embedding(indices, w, **kw),
        ref=lambda w, indices, **kw: w[indices],
        torch_fn=_torch_embedding,
        covers=(Embedding,),
        samples=(
            sample((5, 3), indices=INDICES),
            sample((1, 4), indices=np.zeros(3, np.int64)),
            sample((5, 3), t=(0,), indices=INDICES),
            sample((6, 2), indices=np.array(4)),
        ),
        # padding_idx and scale_grad_by_freq change the gradient on purpose (it is no longer the
        # derivative, so gradcheck cannot pass): tests/nn/test_embedding.py compares with torch
        exempt={**ONE_INPUT, "scalar": "the weight is 2-d (a 0-d index is sampled instead)"},
    ),
    OpSpec(
        name="pixel_shuffle",
        fn=pixel_shuffle,
        ref=_pixel_shuffle,
        torch_fn=lambda x, **kw: _f("pixel_shuffle")(x, **kw),
        covers=(Permute,),
        samples=(
            sample((2, 8, 2, 3), upscale_factor=2),
            sample((1, 4, 1, 1), upscale_factor=2),
            sample((3, 9, 2, 2), t=(0,), upscale_factor=3),
            sample((2, 3, 4, 2, 2), upscale_factor=2),
            sample((4, 3, 2), upscale_factor=1),
        ),
        exempt={**ONE_INPUT, "scalar": "needs (*, C, H, W)"},
    ),
    OpSpec(
        name="pixel_unshuffle",
        fn=pixel_unshuffle,
        ref=_pixel_unshuffle,
        torch_fn=lambda x, **kw: _f("pixel_unshuffle")(x, **kw),
        covers=(Permute,),
        samples=(
            sample((2, 2, 4, 6), downscale_factor=2),
            sample((1, 1, 2, 2), downscale_factor=2),
            sample((3, 2, 3, 6), t=(0,), downscale_factor=3),
            sample((2, 3, 1, 4, 2), downscale_factor=2),
        ),
        exempt={**ONE_INPUT, "scalar": "needs (*, C, H, W)"},
    ),
    OpSpec(
        name="dropout1d",
        fn=lambda x, p: dropout1d(x, p, generator=5),
        ref=lambda x, p: x * _channel_mask(x.shape, p, 5, unbatched=x.ndim == 2),
        torch_fn=None,  # torch draws its own mask; tests/nn compares the statistics instead
        covers=(Dropout,),
        samples=(sample((2, 3, 4), p=0.5), sample((1, 5), p=0.3), sample((6, 3, 2), t=(0,), p=0.4)),
        exempt={**ONE_INPUT, "scalar": "needs (N, C, L) or (C, L)"},
    ),
    OpSpec(
        name="dropout2d",
        fn=lambda x, p: dropout2d(x, p, generator=6),
        ref=lambda x, p: x * _channel_mask(x.shape, p, 6, unbatched=False),
        torch_fn=None,
        covers=(Dropout,),
        samples=(
            sample((3, 4, 2, 2), p=0.5),
            sample((1, 1, 3, 2), p=0.2),
            sample((4, 3, 2, 2), t=(0,), p=0.3),
        ),
        exempt={**ONE_INPUT, "scalar": "needs (N, C, H, W)"},
    ),
    OpSpec(
        name="dropout3d",
        fn=lambda x, p: dropout3d(x, p, generator=7),
        ref=lambda x, p: x * _channel_mask(x.shape, p, 7, unbatched=x.ndim == 4),
        torch_fn=None,
        covers=(Dropout,),
        samples=(
            sample((2, 3, 2, 2, 2), p=0.5),
            sample((3, 1, 2, 2), p=0.5),
            sample((2, 2, 2, 2, 3), t=(0,), p=0.3),
        ),  # fmt: skip
        exempt={**ONE_INPUT, "scalar": "needs (N, C, D, H, W) or (C, D, H, W)"},
    ),
    OpSpec(
        name="alpha_dropout",
        fn=lambda x, p: alpha_dropout(x, p, True, generator=8),
        ref=lambda x, p: _alpha_dropout(x, p, 8),
        torch_fn=None,
        covers=(),
        samples=(sample((), p=0.3), sample((1, 7), p=0.5), sample((5, 4), t=(0,), p=0.2)),
        exempt=ONE_INPUT,
    ),
]
