"""The hypothesis strategy of fuzz programs: leaves, then ops drawn from the table."""

from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.fuzz import ops_math, ops_shape  # noqa: F401 - they fill the table
from tests.fuzz.program import Builder
from tests.fuzz.registry import OPS

LEAF_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


@st.composite
def programs(draw, max_leaves=3, max_steps=8, ops=None):
    """Programs of 1-max_leaves leaves (0-d and size-1 dims included) and 1-max_steps ops.

    Each op takes a node drawn newest-first (so chains are deep and shrink to short ones), and
    may take more operands or new leaves. `ops` restricts the table to some op names.
    """
    table = {k: v for k, v in OPS.items() if ops is None or k in ops}
    b = Builder(draw, draw(st.integers(0, 2**32 - 1)))
    for _ in range(draw(st.integers(1, max_leaves))):
        b.leaf(draw(LEAF_SHAPES))
    for _ in range(draw(st.integers(1, max_steps))):
        a = b.nodes[-1 - draw(st.integers(0, len(b.nodes) - 1))]
        names = [name for name, (applies, _) in table.items() if applies(a)]
        if not names:
            continue
        name = draw(st.sampled_from(names))
        if table[name][1](b, a) is not None:
            b.ops.append(name)
    return b.finish()
