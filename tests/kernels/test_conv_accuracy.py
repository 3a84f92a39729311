"""Accuracy is part of speed: float32 convolutions stay within twice torch's float32 error.

For each convolution sample of the op table and the issue's example (two stacked 32-channel 3x3
convolutions on 9x9 planes), the float32 output and input and weight gradients are compared with
float64 ones (torch in float64) as ``max |error| / max |float64 value|``; torch's float32 run on
the same inputs sets the bar, ``2 * max(torch's error, float32 eps)`` (an error under one eps of
the largest value is the rounding of the result itself). ``measure`` also runs each algorithm
of the registry forced; ``python -m benchmarks.conv_tuning accuracy`` prints that table.
"""

from contextlib import contextmanager

import numpy as np
import pytest

import autodiff as ad
from autodiff.kernels import _config, conv
from autodiff.ops.conv import conv2d
from tests.ops.harness import make_arrays
from tests.ops.specs_conv import SPECS

QUANTITIES = ("y", "gx", "gw")
FLOOR = float(np.finfo(np.float32).eps)


class Case:
    """One graph of convolutions on float64 ``arrays`` (``x, w, ...``): ``autodiff_fn`` and
    ``torch_fn`` build it from tensors of either library, with ``kwargs``."""

    def __init__(self, name, arrays, autodiff_fn, torch_fn, kwargs=None):
        self.name, self.arrays = name, arrays
        self.autodiff_fn, self.torch_fn, self.kwargs = autodiff_fn, torch_fn, kwargs or {}


def spec_cases() -> list[Case]:
    """Every sample of the op table's convolutions (1-D, 2-D, transposed)."""
    return [
        Case(f"{sp.name}[{s.id}]", make_arrays(sp, s), sp.fn, sp.torch_fn, s.kwargs)
        for sp in SPECS
        for s in sp.samples
    ]


def stacked_case(n: int = 8) -> Case:
    """The issue's example: two 32 -> 32 3x3 convolutions with padding 1 on 9x9 planes."""
    rng = np.random.default_rng(0)
    he = np.sqrt(2 / (32 * 9))
    arrays = [rng.standard_normal((n, 32, 9, 9))]
    arrays += [rng.standard_normal((32, 32, 3, 3)) * he for _ in range(2)]

    def torch_fn(x, w1, w2):
        import torch

        return torch.conv2d(torch.conv2d(x, w1, padding=1), w2, padding=1)

    def autodiff_fn(x, w1, w2):
        return conv2d(conv2d(x, w1, padding=1), w2, padding=1)

    return Case(f"stacked[{n}x32x9x9]", arrays, autodiff_fn, torch_fn)


def run_autodiff(case: Case, dtype) -> tuple[list, set]:
    """``[y, gx, gw]`` in ``dtype``, and the names of the algorithms that ran."""
    tensors = [ad.tensor(a.astype(dtype), requires_grad=True) for a in case.arrays]
    used = set()
    choose = conv.choose

    def recording(g):
        used.add(_name(choose(g)))
        return choose(g)

    with _patched(conv, choose=recording):
        y = case.autodiff_fn(*tensors, **case.kwargs)
        y.backward(ad.tensor(_upstream(y.shape, dtype)))
    return [y.data, tensors[0].grad.data, tensors[1].grad.data], used


def run_torch(case: Case, dtype) -> list:
    """``[y, gx, gw]`` from torch in ``dtype``, on the same inputs and upstream gradient."""
    import torch

    tensors = [torch.from_numpy(a.astype(dtype)).requires_grad_() for a in case.arrays]
    y = case.torch_fn(*tensors, **case.kwargs)
    y.backward(torch.from_numpy(_upstream(tuple(y.shape), dtype)))
    return [y.detach().numpy(), tensors[0].grad.numpy(), tensors[1].grad.numpy()]


def errors(got: list, exact: list) -> np.ndarray:
    """``max |got - exact| / max |exact|`` for each of ``QUANTITIES``."""
    pairs = zip(got, exact, strict=True)
    return np.array([np.abs(a - e).max() / np.abs(e).max() for a, e in pairs])


def measure(case: Case) -> dict:
    """Float32 errors per quantity: ``"torch"``, ``"default"`` (conv2d's own choice), and each
    algorithm of ``conv.ALGORITHMS`` forced (None where it cannot run the geometry); ``"used"``
    names the algorithms the default ran."""
    exact = run_torch(case, np.float64)
    got, used = run_autodiff(case, np.float32)
    rows = {"torch": errors(run_torch(case, np.float32), exact), "default": errors(got, exact)}
    for algorithm in conv.ALGORITHMS:
        with forced(algorithm):
            got, ran = run_autodiff(case, np.float32)
        rows[_name(algorithm)] = errors(got, exact) if _name(algorithm) in ran else None
    return rows | {"used": used}


@contextmanager
def forced(algorithm):
    """``algorithm`` wherever it can run the geometry, its speed limits lifted; im2col elsewhere."""
    limits = {
        "DIRECT_MAX_GROUP_WEIGHTS": 2**62,
        "WINOGRAD_MIN_CHANNELS": 1,
        "WINOGRAD_MIN_PIXELS_PER_CHANNEL": 0,
        "WINOGRAD2_MIN_CHANNELS": 1,
        "WINOGRAD2_MIN_PIXELS_PER_CHANNEL": 0,
    }
    registry = (algorithm, conv.im2col_gemm)
    with (
        _patched(_config, **limits),
        _patched(conv.winograd.F4, enabled=True),
        _patched(conv, ALGORITHMS=registry),
    ):
        yield


@contextmanager
def _patched(obj, **values):
    """Attributes of ``obj`` set for the duration (monkeypatch, usable outside a test)."""
    saved = {name: getattr(obj, name) for name in values}
    try:
        for name, value in values.items():
            setattr(obj, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(obj, name, value)


def _upstream(shape, dtype) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape).astype(dtype)


def _name(algorithm) -> str:
    return algorithm.__name__.rpartition(".")[2]


CASES = [*spec_cases(), stacked_case()]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_algorithm_taken_stays_within_twice_torchs_error(case):
    pytest.importorskip("torch")
    rows = measure(case)
    bar = 2 * np.maximum(rows["torch"], FLOOR)
    table = {k: v for k, v in rows.items() if k != "used" and v is not None}
    assert len(table) >= 3, f"{case.name}: no algorithm measured besides the default: {table}"
    for q, error, limit in zip(QUANTITIES, rows["default"], bar, strict=True):
        assert error <= limit, (
            f"{case.name}: float32 {q} off by {error:.2e} through {sorted(rows['used'])}, over "
            f"twice torch's error ({limit:.2e}); every algorithm: {table}"
        )
