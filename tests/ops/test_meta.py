"""Tests of the op table itself: every op has an entry, and every entry is a real test."""

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.function import Function
from tests.ops import harness
from tests.ops.specs import SPECS

ROOT = Path(__file__).resolve().parents[2]


def _import_all():
    """Import autodiff, nn, optim and all their submodules, so every op class is defined."""
    for package in harness.LIBRARY_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError as e:
            if e.name == package:
                continue  # not there at all; an error inside it is a failure
            raise
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".data" in info.name or ".kernels" in info.name:
                continue  # no ops there; kernels compile with numba on import
            importlib.import_module(info.name)


def _all_subclasses(cls):
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _op_classes():
    _import_all()
    classes = {c for c in _all_subclasses(Function) if harness.is_library_op(c)}
    return sorted(classes, key=_qualname)


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def test_every_function_subclass_has_a_spec():
    covered = {c for spec in SPECS for c in spec.covers}
    missing = [_qualname(c) for c in _op_classes() if c not in covered]
    assert not missing, (
        "these Function subclasses have no entry in the op table (tests/ops/specs_*.py); "
        f"add one, see tests/ops/specs.py: {missing}"
    )


def test_the_op_classes_are_found():
    names = {c.__name__ for c in _op_classes()}
    assert {"Add", "Mul", "MatMul", "Sum", "Softmax", "Cat", "IndexPut"} <= names


class _WrongSquare(Function):
    """x * x with a backward off by a factor: the harness must catch it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return 3 * g * x


def test_test_only_classes_need_no_spec():
    assert not harness.is_library_op(_WrongSquare)
    assert _WrongSquare not in _op_classes()


def test_a_base_class_without_forward_needs_no_spec():
    class Base(Function):
        pass

    Base.__module__ = "autodiff.ops.somewhere"
    assert not harness.is_library_op(Base)


def test_harness_catches_a_wrong_backward():
    spec = harness.OpSpec(
        "wrong_square",
        _WrongSquare.apply,
        np.square,
        lambda x: x * x,
        (_WrongSquare,),
        (harness.sample((2, 3)),),
    )
    s = spec.samples[0]
    harness.check_forward(spec, s)  # the forward is right
    with pytest.raises(ad.GradcheckError):
        harness.check_gradcheck(spec, s)
    pytest.importorskip("torch")
    with pytest.raises(AssertionError, match="grad 0"):
        harness.check_torch(spec, s)


def test_spec_names_are_unique_and_covers_are_functions():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names))
    for spec in SPECS:
        # empty covers is fine for a composition of ops that have entries of their own
        assert all(isinstance(c, type) and issubclass(c, Function) for c in spec.covers)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_spec_has_every_sample_kind(spec):
    kinds = set().union(*(harness.sample_kinds(s) for s in spec.samples))
    n_inputs = max(len(s.shapes) for s in spec.samples)
    required = set(harness.SAMPLE_KINDS) - ({"broadcast"} if n_inputs < 2 else set())
    missing = required - kinds - set(spec.exempt)
    assert not missing, f"{spec.name}: no sample with {sorted(missing)}; add one or exempt it"
    for kind, reason in spec.exempt.items():
        assert kind in harness.SAMPLE_KINDS, f"{spec.name}: unknown sample kind {kind!r}"
        assert reason, f"{spec.name}: exempt from {kind!r} without a reason"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_spec_exercises_the_classes_it_covers(spec):
    seen = set()
    for s in spec.samples:
        tensors = harness.make_tensors(spec, harness.make_arrays(spec, s))
        seen |= harness.graph_functions(spec.fn(*tensors, **s.kwargs))
    missing = [c.__name__ for c in spec.covers if c not in seen]
    assert not missing, f"{spec.name}: claims to cover {missing}, but no sample records them"


def test_table_loads_and_torch_tests_skip_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; import pytest; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'tests/ops/test_ops.py', "
        "'-k', 'add or matmul']))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " skipped" in run.stdout and " passed" in run.stdout, run.stdout
