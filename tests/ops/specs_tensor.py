"""Op-table entries for the Tensor basics of autodiff/ops/elementwise.py: clone, the `alpha` of
add and sub, and clamp with tensor bounds (compositions whose gradients reach every input)."""

import numpy as np

import autodiff as ad
from autodiff.ops.elementwise import Clone
from tests.ops.harness import OpSpec, away_from, grid, sample, torch

BINARY = (
    sample((), ()),
    sample((3, 4), (4,)),
    sample((3, 1), (1, 4)),
    sample((4, 3), (3,), t=(0,)),
)

SPECS = [
    OpSpec(
        "clone",
        lambda x: x.clone(),
        np.copy,
        lambda x: x.clone(),
        (Clone,),
        (sample(()), sample((1, 3)), sample((4, 3), t=(0,)), sample((2, 3, 4))),
        exempt={"broadcast": "takes one tensor"},
    ),
    OpSpec(
        "contiguous",
        lambda x: x.contiguous(),
        lambda x: np.array(x, order="C"),
        lambda x: x.contiguous(),
        (Clone,),
        (sample(()), sample((1, 3)), sample((4, 3), t=(0,))),
        exempt={"broadcast": "takes one tensor"},
    ),
    OpSpec(
        "add_alpha",
        lambda x, y: ad.add(x, y, alpha=2.5),
        lambda x, y: x + 2.5 * y,
        lambda x, y: torch.add(x, y, alpha=2.5),
        (),
        (
            sample((), ()),
            sample((3, 4), (4,)),
            sample((3, 1), (1, 4)),
            sample((4, 3), (3,), t=(0,)),
        ),
    ),
    OpSpec(
        "sub_alpha",
        lambda x, y: x.sub(y, alpha=-0.5),
        lambda x, y: x + 0.5 * y,
        lambda x, y: torch.sub(x, y, alpha=-0.5),
        (),
        (
            sample((), ()),
            sample((3, 4), (4,)),
            sample((3, 1), (1, 4)),
            sample((4, 3), (3,), t=(0,)),
        ),
    ),
    OpSpec(
        "clamp_tensor_bounds",
        lambda x, lo, hi: x.clamp(lo, hi),
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
        lambda x, lo, hi: torch.clamp(x, lo, hi),
        (),
        (
            sample((), (), ()),
            sample((3, 4), (4,), (1, 4)),
            sample((3, 4), (3, 1), ()),
            sample((4, 3), (3,), (4, 3), t=(0,)),
        ),
        # x, the lower and the upper bound on three grids that never tie; lo < hi mostly
        domain=(grid(0.1), grid(-1.05), away_from(0.0, margin=2.0)),
    ),
]
