"""The op-spec schema (`OpSpec`, `Sample`, input domains) and the checks every entry goes through.

`check_forward` compares the functional with its numpy reference in float64 and float32;
`check_gradcheck` runs `autodiff.gradcheck` in float64; `check_torch` compares forward and
backward with PyTorch in float32 on the same inputs. `tests/ops/specs.py` explains how to add an
entry; `tests/ops/test_ops.py` runs the three checks over the whole table.
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import autodiff as ad
from autodiff.function import Function


class _LazyTorch:
    """`torch`, imported on first attribute access, so spec modules load without torch."""

    def __getattr__(self, name):
        import torch

        return getattr(torch, name)


torch = _LazyTorch()

# ---- input domains: (rng, shape) -> float64 array ------------------------------------------------


def normal(rng, shape):
    """Standard normal values."""
    return rng.standard_normal(shape)


def positive(rng, shape):
    """Uniform on [0.5, 2]: for log, sqrt, reciprocal and the base of a tensor power."""
    return rng.uniform(0.5, 2.0, shape)


def away_from(*points, margin=0.1):
    """Normal values kept at least `margin` from each of `points` (kinks, clamp bounds)."""

    def domain(rng, shape):
        x = rng.standard_normal(shape)
        for p in points:
            side = np.where(x >= p, 1.0, -1.0)
            near = np.abs(x - p) < margin
            x = np.where(near, p + side * (margin + np.abs(x - p)), x)
        return np.asarray(x)

    domain.__name__ = f"away_from{points}"
    return domain


nonzero = away_from(0.0, margin=0.5)


def distinct(rng, shape):
    """All values distinct and at least 0.1 apart: max/min reductions without ties."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.1).reshape(shape)


def grid(offset):
    """Multiples of 0.25 plus `offset`: two inputs with different offsets never tie."""

    def domain(rng, shape):
        return np.asarray(rng.integers(-8, 8, shape) * 0.25 + offset)

    domain.__name__ = f"grid({offset})"
    return domain


def mask(shape, seed=0):
    """A fixed random bool array (a `where` condition, an index mask)."""
    return np.asarray(np.random.default_rng(seed).random(shape) < 0.5)


# ---- the schema ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One call of an op: the shapes of its tensor inputs and its other (keyword) arguments.

    `transposed` lists the inputs given as a transposed view (their data is not C-contiguous).
    """

    shapes: tuple
    kwargs: dict = field(default_factory=dict)
    transposed: tuple = ()

    @property
    def id(self) -> str:
        parts = ["x".join(_shape_id(s) for s in self.shapes)]
        if self.transposed:
            parts.append("T" + "".join(str(i) for i in self.transposed))
        parts += [f"{k}={_value_id(v)}" for k, v in self.kwargs.items()]
        return "-".join(parts)


def sample(*shapes, t=(), **kwargs) -> Sample:
    """`Sample` shorthand: `sample((3, 4), (4,), t=(0,), dim=1)`."""
    return Sample(tuple(tuple(s) for s in shapes), kwargs, tuple(t))


@dataclass(frozen=True)
class OpSpec:
    """One entry of the op table; see `tests/ops/specs.py`.

    fn, ref, torch_fn are called the same way: `f(*inputs, **sample.kwargs)` with autodiff
    tensors, numpy arrays and torch tensors respectively. `torch_fn=None` skips the torch check.
    """

    name: str
    fn: Callable
    ref: Callable
    torch_fn: Callable | None
    covers: tuple
    samples: tuple
    domain: Callable | tuple = normal  # one for all inputs, or one per input
    grad_inputs: tuple | None = None  # indices of the inputs that require grad (None: all)
    rtol: float = 1e-5  # float32 comparisons (reference and torch), relative...
    atol: float = 1e-6  # ...and absolute, scaled by the largest magnitude compared
    rtol64: float = 1e-10  # float64 forward against the reference
    gradcheck_kw: dict = field(default_factory=dict)  # eps, atol, rtol for gradcheck
    exempt: dict = field(default_factory=dict)  # sample kind -> why this op cannot have one

    def domain_of(self, i):
        return self.domain[i] if isinstance(self.domain, tuple) else self.domain

    def needs_grad(self, i):
        return self.grad_inputs is None or i in self.grad_inputs


SAMPLE_KINDS = ("scalar", "size-1", "broadcast", "non-contiguous")


def sample_kinds(s: Sample) -> set:
    """Which of `SAMPLE_KINDS` a sample exercises."""
    kinds = set()
    if any(shape == () for shape in s.shapes):
        kinds.add("scalar")
    if any(1 in shape for shape in s.shapes):
        kinds.add("size-1")
    if len(set(s.shapes)) > 1:
        kinds.add("broadcast")
    if s.transposed:
        kinds.add("non-contiguous")
    return kinds


def cases(specs):
    """(spec, sample) pairs for `pytest.mark.parametrize`, with readable ids."""
    import pytest

    return [pytest.param(sp, s, id=f"{sp.name}[{s.id}]") for sp in specs for s in sp.samples]


# ---- inputs --------------------------------------------------------------------------------------


def make_arrays(spec: OpSpec, s: Sample, dtype=np.float64) -> list:
    """The sample's inputs as arrays of `dtype`, drawn from the spec's domains, seeded by name."""
    rng = np.random.default_rng(zlib.crc32(f"{spec.name}/{s.id}".encode()))
    arrays = []
    for i, shape in enumerate(s.shapes):
        domain = spec.domain_of(i)
        if i in s.transposed:
            a = np.asarray(domain(rng, shape[::-1]), dtype=dtype).T
            assert not a.flags.c_contiguous, f"{spec.name}: input {i} {shape} is contiguous"
        else:
            a = np.asarray(domain(rng, shape), dtype=dtype)
        arrays.append(a)
    return arrays


def make_tensors(spec: OpSpec, arrays, requires_grad=True) -> list:
    """Autodiff tensors holding `arrays` (keeping their layout); grad inputs require grad."""
    tensors = []
    for i, a in enumerate(arrays):
        t = ad.tensor(a, requires_grad=requires_grad and spec.needs_grad(i))
        assert t.data.flags.c_contiguous == a.flags.c_contiguous, "tensor() changed the layout"
        tensors.append(t)
    return tensors


def graph_functions(out) -> set:
    """The Function classes of every node in the graph that produced `out`."""
    seen, found = set(), set()
    stack = [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.add(node.fn)
        # an edge is (the input's node, or the leaf tensor itself; shape; dtype), or None
        stack.extend(e[0] for e in node.edges if e is not None and not isinstance(e[0], ad.Tensor))
    return found


# ---- the checks ----------------------------------------------------------------------------------


def assert_close(actual, expected, rtol, atol, what):
    """Elementwise closeness with `atol` scaled by the largest expected magnitude."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)


def check_forward(spec: OpSpec, s: Sample):
    """The functional against the numpy reference, in float64 and in float32 (dtype kept)."""
    for dtype, rtol, atol in ((np.float64, spec.rtol64, 1e-12), (np.float32, spec.rtol, spec.atol)):
        arrays = make_arrays(spec, s, dtype)
        out = spec.fn(*make_tensors(spec, arrays, requires_grad=False), **s.kwargs)
        assert isinstance(out, ad.Tensor), f"{spec.name}: returned {type(out).__name__}"
        assert isinstance(out.data, np.ndarray), f"{spec.name}: .data is {type(out.data)}"
        assert out.dtype == dtype, f"{spec.name}: {dtype.__name__} input gave {out.dtype}"
        expected = spec.ref(*(a.astype(np.float64) for a in arrays), **s.kwargs)
        assert_close(out.data, expected, rtol, atol, f"{spec.name} forward ({dtype.__name__})")


def check_gradcheck(spec: OpSpec, s: Sample):
    """`autodiff.gradcheck` on float64 inputs (the full Jacobian)."""
    tensors = make_tensors(spec, make_arrays(spec, s, np.float64))
    report = ad.gradcheck(lambda *ts: spec.fn(*ts, **s.kwargs), tensors, **spec.gradcheck_kw)
    assert report.passed


def check_torch(spec: OpSpec, s: Sample):
    """Forward and backward against PyTorch in float32, with one random upstream gradient."""
    import torch as real_torch

    arrays = make_arrays(spec, s, np.float32)
    ours = make_tensors(spec, arrays)
    theirs = [
        real_torch.from_numpy(a.copy(order="K")).requires_grad_(spec.needs_grad(i))
        for i, a in enumerate(arrays)
    ]
    out = spec.fn(*ours, **s.kwargs)
    expected = spec.torch_fn(*theirs, **s.kwargs)
    what = f"{spec.name} vs torch"
    assert out.dtype == np.float32, f"{what}: float32 inputs gave {out.dtype}"
    assert_close(out.data, expected.detach().numpy(), spec.rtol, spec.atol, f"{what}: forward")
    gy = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    if out.requires_grad:
        out.backward(gy)
    if expected.requires_grad:
        expected.backward(real_torch.from_numpy(gy))
    for i, (x, tx) in enumerate(zip(ours, theirs, strict=True)):
        if not spec.needs_grad(i):
            continue
        assert x.grad is not None, f"{what}: input {i} got no gradient"
        assert x.grad.dtype == x.dtype and x.grad.shape == x.shape, f"{what}: grad {i} meta"
        expected_grad = np.zeros(x.shape) if tx.grad is None else tx.grad.numpy()
        assert_close(x.grad.data, expected_grad, spec.rtol, spec.atol, f"{what}: grad {i}")


LIBRARY_PACKAGES = ("autodiff", "nn", "optim")


def is_library_op(cls: type) -> bool:
    """A Function subclass of the library itself, which needs an entry in the table.

    Classes defined elsewhere -- deliberately wrong ops in tests, examples, benchmarks -- do not.
    """
    return cls.__module__.split(".")[0] in LIBRARY_PACKAGES and cls.forward is not Function.forward


def _shape_id(shape):
    return "(" + ",".join(str(n) for n in shape) + ")"


def _value_id(v):
    if isinstance(v, np.ndarray):
        return f"{v.dtype.name}{_shape_id(v.shape)}"
    if isinstance(v, tuple):
        return "(" + ",".join(_value_id(x) for x in v) + ")"
    if isinstance(v, slice):
        return f"{v.start}:{v.stop}:{v.step}".replace("None", "")
    if v is Ellipsis:
        return "..."
    return repr(v)
