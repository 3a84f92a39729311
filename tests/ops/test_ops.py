"""Every entry of the op table, checked three ways (see tests/ops/harness.py)."""

import numpy as np
import pytest

import autodiff as ad
from tests.ops import harness
from tests.ops.specs import SPECS

CASES = harness.cases(SPECS)


@pytest.mark.parametrize(("spec", "s"), CASES)
def test_forward_matches_numpy(spec, s):
    harness.check_forward(spec, s)


@pytest.mark.parametrize(("spec", "s"), CASES)
def test_gradcheck(spec, s):
    harness.check_gradcheck(spec, s)


@pytest.mark.parametrize(("spec", "s"), [c for c in CASES if c.values[0].torch_fn is not None])
def test_matches_torch(spec, s):
    pytest.importorskip("torch")
    harness.check_torch(spec, s)


# ---- ties, kinks and extreme values, where the table's domains do not go -------------------------

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])
BIG = np.array([[1000.0, -1000.0, 0.0], [-50.0, 30.0, 700.0]])
EDGES = {
    # name: (call on either library's tensors, input arrays)
    "maximum ties": (lambda x, y: x.maximum(y * y), [TIES, TIES]),
    "minimum ties": (lambda x, y: x.minimum(y * 2 - 1), [TIES, TIES - 1]),
    "max ties": (lambda x: x.amax(1), [TIES]),
    "min ties": (lambda x: x.amin(0), [TIES]),
    "max all ties": (lambda x: x.amax(), [TIES * 0]),
    "relu at 0": (lambda x: x.relu(), [TIES - 2]),
    "relu at NaN": (lambda x: x.relu(), [np.array([np.nan, 1.0, -1.0, 0.0])]),
    "abs at 0": (lambda x: x.abs(), [TIES]),
    "leaky_relu at 0": (lambda x: _leaky_relu(x, 0.1), [TIES]),
    "clamp at the bounds": (lambda x: x.clamp(0.0, 2.0), [TIES]),
    "pow at 0": (
        lambda x, y: x**y,
        [np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0])],
    ),
    "x ** 0 at 0": (lambda x: x**0, [np.array([0.0, 1.0])]),
    "0 ** x": (lambda x: 0.0**x, [np.array([1.0, 2.0])]),
    "sigmoid far out": (lambda x: x.sigmoid(), [BIG]),
    "tanh far out": (lambda x: x.tanh(), [BIG]),
    "softmax far out": (lambda x: x.softmax(-1), [BIG]),
    "log_softmax far out": (lambda x: x.log_softmax(-1), [BIG]),
    "logsumexp far out": (lambda x: x.logsumexp(1), [BIG]),
    "logsumexp of -inf": (lambda x: x.logsumexp(1), [np.array([[-np.inf, 0.0], [1.0, -np.inf]])]),
    "sqrt at 0": (lambda x: x.sqrt(), [np.array([0.0, 4.0])]),
    "log at 0": (lambda x: x.log(), [np.array([0.0, 2.0])]),
    "div by 0": (lambda x, y: x / y, [np.array([1.0, -1.0, 2.0]), np.array([0.0, 0.0, 4.0])]),
    "mean of empty": (lambda x: x.mean(0), [np.zeros((0, 2))]),
    "xlogy at 0": (
        lambda x, y: x.xlogy(y),
        [np.array([0.0, 0.0, 1.0, 0.0]), np.array([0.0, 2.0, 3.0, np.nan])],
    ),
    "erfinv at the ends": (lambda x: x.erfinv(), [np.array([-1.0, 1.0, 0.0, 1.5])]),
    "sum of empty": (lambda x: x.sum(), [np.zeros((2, 0))]),
}


def _leaky_relu(x, slope):
    if isinstance(x, ad.Tensor):
        return ad.ops.leaky_relu(x, slope)
    import torch

    return torch.nn.functional.leaky_relu(x, slope)


@pytest.mark.parametrize(("fn", "arrays"), EDGES.values(), ids=EDGES.keys())
def test_edge_values_match_torch(fn, arrays):
    torch = pytest.importorskip("torch")
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with np.errstate(all="ignore"):
        out = fn(*ours)
        expected = fn(*theirs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
        gy = np.arange(1.0, out.data.size + 1).reshape(out.shape)
        out.backward(gy)
    expected.backward(torch.from_numpy(gy))
    for x, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-300)
