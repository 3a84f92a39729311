"""conv2d through each of its kernel paths, checked by gradcheck in float64.

The spec table's conv samples run in float64, which takes numpy's tap products (kernels/taps.py);
here float64 goes through each numba path in turn, forced through the dispatch thresholds, and
the path actually taken is asserted.
"""

import numpy as np
import pytest

import autodiff as ad
from autodiff.kernels import _config, conv, winograd
from autodiff.ops.conv import conv2d

NEVER, ALWAYS = 2**62, 0
F4_OFF = {"WINOGRAD_MIN_CHANNELS": NEVER}
F2_OFF = {"WINOGRAD2_MIN_CHANNELS": NEVER}
PATHS = {
    "direct": {"DIRECT_MAX_GROUP_WEIGHTS": NEVER, **F4_OFF, **F2_OFF},
    "winograd": {
        "DIRECT_MAX_GROUP_WEIGHTS": ALWAYS,
        "WINOGRAD_MIN_CHANNELS": 1,
        "WINOGRAD_MIN_PIXELS_PER_CHANNEL": 0,
    },
    "winograd.F2": {
        "DIRECT_MAX_GROUP_WEIGHTS": ALWAYS,
        "WINOGRAD2_MIN_CHANNELS": 1,
        "WINOGRAD2_MIN_PIXELS_PER_CHANNEL": 0,
    },
    "im2col_gemm": {"DIRECT_MAX_GROUP_WEIGHTS": ALWAYS, **F4_OFF, **F2_OFF},
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("padding", [1, (2, 0, 1, 2)])
def test_gradcheck_on_each_path(monkeypatch, path, padding):
    for name, value in PATHS[path].items():
        monkeypatch.setattr(_config, name, value)
    monkeypatch.setattr(winograd.F4, "enabled", path == "winograd")
    monkeypatch.setattr(conv, "FLOAT64_ALGORITHMS", conv.ALGORITHMS)  # float64 through each path
    taken = []
    choose = conv.choose
    monkeypatch.setattr(conv, "choose", lambda g: taken.append(choose(g).__name__) or choose(g))
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((2, 3, 6, 7)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = ad.tensor(rng.standard_normal(4), requires_grad=True)
    ad.gradcheck(lambda x, w, b: conv2d(x, w, b, padding=padding), [x, w, b])
    assert set(taken) == {f"autodiff.kernels.{path}"}
