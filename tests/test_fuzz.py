"""Differential fuzzing against PyTorch: random graphs, and the fuzzer's own referee.

`python -m tests.fuzz --n 20000` is the long run; here a few hundred derandomized programs run
in CI, and the referee is shown to name planted bugs on either side, and kinks as ambiguous.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings

import autodiff as ad

torch = pytest.importorskip("torch")

from tests.fuzz.compare import compare, execute  # noqa: E402 - needs torch
from tests.fuzz.generate import programs  # noqa: E402
from tests.fuzz.program import Program  # noqa: E402

CI = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _program(body, **leaves):
    """A hand-written program whose loss weighs its last node by a fixed constant."""
    nodes = [line.split(" = ")[0] for line in body if " = " in line and line[0] == "v"]
    last = nodes[-1]
    shape = execute(Program(list(leaves.items()), [], body, nodes, f"{last}.sum()"), "torch")
    weight = np.linspace(-1, 1, shape.nodes[-1][1].size).reshape(shape.nodes[-1][1].shape)
    return Program(list(leaves.items()), [("c0", weight)], body, nodes, f"({last} * c0).sum()")


@CI
@given(programs())
def test_random_graphs_match_torch(program):
    outcome = compare(program)
    # torch's quirks and kinks are explained; autodiff being wrong, or both refusing, is not
    assert outcome.verdict in ("match", "torch wrong", "ambiguous"), (
        f"{outcome}\n\n{program.source()}"
    )


@settings(CI, max_examples=10)
@given(programs())
def test_a_reproducer_runs_as_printed_in_both_libraries(program):
    source = program.source()
    results = {}
    for lib in ("autodiff", "torch"):
        text = source.replace("import autodiff", "import torch") if lib == "torch" else source
        namespace = {}
        exec(text.replace("print(", "(lambda *a: None)("), namespace)
        results[lib] = float(namespace["loss"].item())
    assert results["autodiff"] == pytest.approx(results["torch"], rel=1e-9)


def test_a_wrong_backward_is_ours_wrong_and_shrinks_to_its_op(monkeypatch):
    from autodiff.ops.activation import Tanh

    def twice(ctx, g):
        (y,) = ctx.saved
        return 2 * g * (1 - y * y)

    monkeypatch.setattr(Tanh, "backward", staticmethod(twice))
    outcome = compare(_program(["v0 = x0.tanh()"], x0=np.array([0.5, -1.0])))
    assert (outcome.verdict, outcome.kind) == ("ours wrong", "gradient")
    assert "d loss / d x0" in outcome.detail
    shrunk = find(programs(), lambda p: compare(p).verdict == "ours wrong", settings=CI)
    # one op, tanh or tanh_ (in place on a clone): the same backward
    assert len(shrunk.ops) == 1 and len(shrunk.leaves) == 1
    assert "tanh" in "\n".join(shrunk.body), shrunk.source()


def test_a_wrong_torch_is_torch_wrong(monkeypatch):
    monkeypatch.setattr(torch.Tensor, "tanh", lambda self: _TorchTanhWrongGrad.apply(self))
    outcome = compare(_program(["v0 = x0.tanh()"], x0=np.array([0.5, -1.0])))
    assert (outcome.verdict, outcome.kind) == ("torch wrong", "gradient")


def test_a_wrong_backward_is_ours_wrong_where_torch_refuses_the_program(monkeypatch):
    from autodiff.ops.activation import Tanh

    def twice(ctx, g):
        (y,) = ctx.saved
        return 2 * g * (1 - y * y)

    def refuse(self):
        raise RuntimeError("tanh refused")

    program = _program(["v0 = x0.tanh()"], x0=np.array([0.5, -1.0]))
    monkeypatch.setattr(Tanh, "backward", staticmethod(twice))
    monkeypatch.setattr(torch.Tensor, "tanh", refuse)
    outcome = compare(program)
    assert (outcome.verdict, outcome.kind) == ("ours wrong", "error")


def test_a_right_gradient_where_torch_refuses_the_program_is_torch_wrong(monkeypatch):
    def refuse(self):
        raise RuntimeError("tanh refused")

    program = _program(["v0 = x0.tanh()"], x0=np.array([0.5, -1.0]))
    monkeypatch.setattr(torch.Tensor, "tanh", refuse)
    outcome = compare(program)
    assert (outcome.verdict, outcome.kind) == ("torch wrong", "error")


class _TorchTanhWrongGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return 3 * g * (1 - y * y)


def test_a_different_side_at_a_kink_is_ambiguous(monkeypatch):
    from autodiff.ops.activation import ReLU

    def right_side(ctx, g):
        (y,) = ctx.saved
        return g * (y >= 0)  # 1 at 0 (torch takes 0): both are one-sided derivatives there

    monkeypatch.setattr(ReLU, "backward", staticmethod(right_side))
    outcome = compare(_program(["v0 = F.relu(x0)"], x0=np.array([0.0, 0.5])))
    assert (outcome.verdict, outcome.kind) == ("ambiguous", "gradient")
    assert "left 0.0" in outcome.detail


def test_an_error_only_autodiff_raises_is_ours_wrong(monkeypatch):
    monkeypatch.setattr(ad.Tensor, "tanh", lambda self: 1 / 0)
    outcome = compare(_program(["v0 = x0.tanh()"], x0=np.array([0.5])))
    assert (outcome.verdict, outcome.kind) == ("ours wrong", "error")
    assert "ZeroDivisionError" in outcome.detail


# ---- regressions found by the fuzzer -------------------------------------------------------------


@pytest.mark.parametrize("index", [(0, 1), (-3,), (1, Ellipsis, 2)])
def test_an_int_for_every_dim_indexes_a_view(index):
    """`v[0, 1]` is a 0-d view of v, as in PyTorch: writing into it writes into v."""
    shape = (3,) if len(index) == 1 else (2, 3)
    data = np.arange(6.0)[: int(np.prod(shape))].reshape(shape)
    x = ad.tensor(data, requires_grad=True)
    expected = torch.tensor(data, requires_grad=True).clone()
    v = x.clone()
    with ad.no_grad():
        v[index].sub_(2.0)
    with torch.no_grad():
        expected[index].sub_(2.0)
    np.testing.assert_array_equal(v.data, expected.detach().numpy())
    (v * v).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * expected.detach().numpy())


def test_std_of_equal_values_that_round_has_zero_gradient():
    """The mean of three copies of 16 * -0.92085 rounds away from them; the spread left behind
    (1e-16) made the std's gradient a unit vector (-15.52 here) where it is 0."""
    data = np.array([0.54785, -0.92085])
    weight = np.array([-0.92, -0.97])
    grads = []
    for lib in (ad, torch):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        y = (lib.stack([x, x, x], dim=0) * 16).std(0, correction=0)
        assert float(y.detach().abs().max()) == 0.0
        (y * lib.tensor(weight, dtype=lib.float64)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], [0.0, 0.0])
