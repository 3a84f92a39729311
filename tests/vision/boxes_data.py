"""Random boxes shared by the vision tests."""

import numpy as np


def random_boxes(rng, n, dtype=np.float32, scale=10.0, degenerate=0.0):
    """n xyxy boxes in [0, 2 * scale]^2; a fraction `degenerate` of them has zero width or
    height (some both), so their areas are 0."""
    corner = rng.uniform(0, scale, (n, 2))
    size = rng.uniform(0.1, scale, (n, 2))
    flat = rng.random((n, 2)) < degenerate
    size[flat] = 0
    return np.concatenate([corner, corner + size], 1).astype(dtype)
