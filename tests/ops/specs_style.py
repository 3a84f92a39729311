"""Op-table entries for the costs of neural style transfer (see tests/ops/specs.py): gram_matrix,
content_cost and style_cost, one layer and several.

The references follow the course's own computation in its NHWC layout: unroll a `(n_H, n_W,
n_C)` activation into `(n_C, n_H * n_W)`, G = A A^T, and the costs with its normalisations,
image by image. PyTorch has none of these ops, so the torch column writes them in torch on
NCHW tensors (a check of the gradients, not of the course's formulas).
"""

import numpy as np

from autodiff.ops.style_transfer import content_cost, gram_matrix, style_cost
from tests.ops.harness import OpSpec, sample


def _images(a):
    """The images of an NCHW or CHW activation, each in the course's layout (n_H, n_W, n_C)."""
    batch = a if a.ndim == 4 else a[None]
    return [image.transpose(1, 2, 0) for image in batch]


def _course_gram(image):
    n_h, n_w, n_c = image.shape
    unrolled = image.reshape(n_h * n_w, n_c).T
    return unrolled @ unrolled.T


def _ref_gram(x):
    grams = np.array([_course_gram(image) for image in _images(x)])
    return grams if x.ndim == 4 else grams[0]


def _ref_content(a_c, a_g):
    costs = [
        np.sum((c - g) ** 2) / (4 * c.shape[0] * c.shape[1] * c.shape[2])
        for c, g in zip(_images(a_c), _images(a_g), strict=True)
    ]
    return np.mean(costs)


def _ref_layer_style(a_s, a_g):
    costs = []
    for s, g in zip(_images(a_s), _images(a_g), strict=True):
        n_h, n_w, n_c = s.shape
        diff = _course_gram(s) - _course_gram(g)
        costs.append(np.sum(diff**2) / (4 * n_c**2 * (n_h * n_w) ** 2))
    return np.mean(costs)


def _ref_two_layers(s1, g1, s2, g2, weights=None):
    w1, w2 = (0.5, 0.5) if weights is None else weights
    return w1 * _ref_layer_style(s1, g1) + w2 * _ref_layer_style(s2, g2)


def _two_layers(s1, g1, s2, g2, weights=None):
    return style_cost([s1, s2], [g1, g2], weights)


def _torch_gram(x):
    a = x.flatten(-2)
    return a @ a.transpose(-1, -2)


def _torch_mean_over_images(costs, a):
    return costs.mean() if a.dim() == 4 else costs


def _torch_content(a_c, a_g):
    c, h, w = a_c.shape[-3:]
    costs = ((a_c - a_g) ** 2).sum((-3, -2, -1)) / (4 * c * h * w)
    return _torch_mean_over_images(costs, a_c)


def _torch_layer_style(a_s, a_g):
    c, h, w = a_s.shape[-3:]
    costs = ((_torch_gram(a_s) - _torch_gram(a_g)) ** 2).sum((-2, -1)) / (4 * c * c * (h * w) ** 2)
    return _torch_mean_over_images(costs, a_s)


def _torch_two_layers(s1, g1, s2, g2, weights=None):
    w1, w2 = (0.5, 0.5) if weights is None else weights
    return w1 * _torch_layer_style(s1, g1) + w2 * _torch_layer_style(s2, g2)


_NO_SCALAR = {"scalar": "activations are (N, C, H, W) or (C, H, W)"}
_PAIR = {**_NO_SCALAR, "broadcast": "the two activations must have one shape"}

SPECS = [
    OpSpec(
        name="gram_matrix",
        fn=gram_matrix,
        ref=_ref_gram,
        torch_fn=_torch_gram,
        covers=(),
        samples=(
            sample((2, 3, 4, 5)),
            sample((1, 3, 1, 4)),
            sample((3, 2, 2)),
            sample((2, 4, 3, 3), t=(0,)),
        ),
        exempt=_NO_SCALAR,
    ),
    OpSpec(
        name="content_cost",
        fn=content_cost,
        ref=_ref_content,
        torch_fn=_torch_content,
        covers=(),
        samples=(
            sample((2, 3, 4, 5), (2, 3, 4, 5)),
            sample((1, 2, 1, 3), (1, 2, 1, 3)),
            sample((3, 4, 2), (3, 4, 2)),
            sample((2, 3, 3, 2), (2, 3, 3, 2), t=(1,)),
        ),
        exempt=_PAIR,
    ),
    OpSpec(
        name="style_cost",
        fn=style_cost,
        ref=_ref_layer_style,
        torch_fn=_torch_layer_style,
        covers=(),
        samples=(
            sample((2, 3, 4, 5), (2, 3, 4, 5)),
            sample((1, 2, 1, 3), (1, 2, 1, 3)),
            sample((3, 4, 2), (3, 4, 2)),
            sample((2, 3, 3, 2), (2, 3, 3, 2), t=(0,)),
        ),
        exempt=_PAIR,
    ),
    OpSpec(
        name="style_cost_layers",
        fn=_two_layers,
        ref=_ref_two_layers,
        torch_fn=_torch_two_layers,
        covers=(),
        samples=(
            sample((1, 3, 4, 4), (1, 3, 4, 4), (1, 5, 2, 2), (1, 5, 2, 2)),
            sample((2, 2, 3, 3), (2, 2, 3, 3), (2, 4, 1, 2), (2, 4, 1, 2), weights=(0.3, 1.5)),
            sample((3, 2, 2), (3, 2, 2), (2, 3, 3), (2, 3, 3), t=(1, 2), weights=[1.0, 0.0]),
        ),
        exempt=_NO_SCALAR,
    ),
]
