"""gradcheck_graph: a custom Function with a wrong backward named inside a CNN, no false alarms
on a clean model (batch norm, max pooling ties, dropout, kinks), and the graph left untouched."""

import threading

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.function import Function
from autodiff.random import default_generator


class Triple(Function):
    """3 x; `factor` is what backward multiplies by (3 is right)."""

    factor = 3.0

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @classmethod
    def backward(cls, ctx, g):
        return g * cls.factor


class TripleForgetful(Triple):
    """3 x whose backward forgets the factor 3."""

    factor = 1.0


class Net(nn.Module):
    """conv -> batch norm -> relu -> max pool -> `middle` -> dropout -> linear."""

    def __init__(self, middle=Triple):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.middle = middle
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        h = self.features(x)
        h = self.middle.apply(h)  # the line a report names
        return self.head(self.drop(h.flatten(1)))


def _batch(n=5):
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((n, 2, 6, 6)).astype(np.float32))
    return x, ad.tensor(rng.integers(0, 3, n))


def _loss(model, x, y):
    return F.cross_entropy(model(x), y)


def test_a_wrong_custom_function_is_named_inside_a_cnn():
    model, (x, y) = Net(TripleForgetful), _batch()
    with ad.record_node_inputs():
        loss = _loss(model, x, y)
    with pytest.raises(ad.GradcheckError) as info:
        ad.gradcheck_graph(loss)
    report = info.value.report
    assert not report.passed and not bool(report)
    bad = report.first_failure
    assert bad.op == f"{__name__}.TripleForgetful"
    assert bad.inputs == ["(5, 4, 3, 3) float32"]
    assert bad.site.filename == __file__ and bad.site.function == "Net.forward"
    assert "h = self.middle.apply(h)" in str(bad.site)
    np.testing.assert_allclose(bad.rel_diff, 0.5, rtol=1e-6)  # |3 - 1| / (3 + 1)
    assert bad.checks[0].verdict == "bug"
    assert [n.status for n in report.nodes].count("FAILED") == 1  # the others are right
    ops = [n.op for n in report.nodes]
    assert ops.index("Conv2d") < ops.index(bad.op) < ops.index("Linear")  # forward order
    text = str(report)
    assert "first failing node (forward order):" in text
    assert "TripleForgetful" in text and "h = self.middle.apply(h)" in text
    assert "(5, 4, 3, 3) float32" in text and "rel diff 5.00e-01 (bug)" in text


def test_a_clean_cnn_passes_with_no_false_alarm():
    model, (x, y) = Net(), _batch()
    with ad.record_node_inputs():
        loss = _loss(model, x, y)
    report = ad.gradcheck_graph(loss)
    assert report.passed and report.first_failure is None
    assert [n.status for n in report.nodes] == ["passed"] * len(report.nodes)
    ops = {n.op for n in report.nodes}
    assert {"Conv2d", "BatchNorm", "ReLU", "MaxPool2d", "Dropout", "Linear"} <= ops
    assert all(n.rel_diff < 1e-7 for n in report.nodes)
    layers = {n.op: n.site.layer for n in report.nodes}
    assert layers["Conv2d"] == "Conv2d" and layers["BatchNorm"] == "BatchNorm2d"
    assert "gradcheck_graph" in str(report) and "FAILED" not in str(report)


def test_the_function_form_runs_fn_once_and_finds_the_same_node():
    model, (x, y) = Net(TripleForgetful), _batch()
    report = ad.gradcheck_graph(lambda a, b: _loss(model, a, b), [x, y], raise_exception=False)
    assert report.first_failure.op.endswith("TripleForgetful")
    assert model.features[1].num_batches_tracked.item() == 1


def test_the_graph_the_generator_and_the_parameters_are_untouched():
    model, (x, y) = Net(), _batch()
    before = default_generator().bit_generator.state
    _loss(model, x, y).backward()
    expected = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    default_generator().bit_generator.state = before  # the same dropout mask again
    with ad.record_node_inputs():
        loss = _loss(model, x, y)
    values = [p.data.copy() for p in model.parameters()]
    state = default_generator().bit_generator.state
    assert ad.gradcheck_graph(loss).passed
    assert default_generator().bit_generator.state == state  # dropout re-ran from its own draw
    loss.backward()
    for p, v, g in zip(model.parameters(), values, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.data, v)
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-5, atol=1e-6)
    assert ad.gradcheck_graph(loss).passed  # also after backward: nothing it needs was freed


class Noisy(Function):
    """x + noise from numpy's global generator: a re-run cannot reproduce it."""

    @staticmethod
    def forward(ctx, x):
        return x + np.random.default_rng().random(x.shape)

    @staticmethod
    def backward(ctx, g):
        return g


def test_random_ops_outside_the_generators_are_skipped_with_the_reason():
    w = ad.tensor(np.ones(3), requires_grad=True)
    report = ad.gradcheck_graph(lambda t: Noisy.apply(t).sum(), [w])
    noisy, total = report.nodes
    assert noisy.status == "skipped" and "different outputs for the same inputs" in noisy.reason
    assert total.status == "passed" and report.passed
    assert "skipped, forward gives different outputs" in str(report)


def test_dropout_with_its_own_generator_is_checked():
    w = ad.tensor(np.random.default_rng(0).standard_normal(50), requires_grad=True)
    g = ad.Generator().manual_seed(3)
    state = g.numpy.bit_generator.state
    report = ad.gradcheck_graph(lambda t: F.dropout(t, 0.5, generator=g).tanh().sum(), [w])
    assert [n.op for n in report.nodes] == ["Dropout", "Tanh", "Sum"]
    assert report.passed and g.numpy.bit_generator.state != state  # the forward drew once
    drawn = g.numpy.bit_generator.state
    ad.gradcheck_graph(lambda t: t.sum(), [w])
    assert g.numpy.bit_generator.state == drawn


def test_non_differentiable_points_are_left_out_not_failed():
    # exact zeros: relu at its kink, abs at 0, and max pooling over windows of tied zeros
    data = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    data[0, 0, :2, :2] = 0.0
    data[0, 0, 2:, 2:] = -1.0
    w = ad.tensor(data, requires_grad=True)
    report = ad.gradcheck_graph(
        lambda t: F.max_pool2d(F.relu(t), 2).sum() + t.abs().sum() + t.amax(), [w]
    )
    assert report.passed
    by_op = {n.op: n for n in report.nodes}
    assert "non-differentiable points left out" in by_op["MaxPool2d"].checks[0].note
    assert "non-differentiable points left out" in by_op["Abs"].checks[0].note
    assert by_op["ReLU"].status == "passed"


class WrongAtOneElement(Triple):
    """3 x whose backward is wrong at element 0 only."""

    @staticmethod
    def backward(ctx, g):
        gx = 3 * g
        gx[0] += 1.0
        return gx


def test_a_random_direction_covers_the_elements_not_sampled():
    w = ad.tensor(np.linspace(1, 2, 100), requires_grad=True)
    report = ad.gradcheck_graph(
        lambda t: WrongAtOneElement.apply(t).sum(), [w], max_elements=3, raise_exception=False
    )
    (check,) = report.first_failure.checks
    assert "3 of 100 elements and a random direction" in check.note
    assert check.worst[0][0] == "random direction"
    assert not check.passed


def test_a_float32_graph_of_scalars_is_checked_in_float64():
    # ops with Function.scalar_math receive 0-d tensors as numpy scalars; the check re-runs
    # them on float64 0-d arrays all the same
    a, b, c = (ad.tensor(np.float32(v), requires_grad=True) for v in (0.5, 0.3, 0.2))
    report = ad.gradcheck_graph(lambda a, b, c: (3 * (a + b * c)).exp() / a - c.sqrt(), [a, b, c])
    assert len(report.nodes) == 9 and all(n.status == "passed" for n in report.nodes)
    assert report.nodes[0].inputs == ["() float32", "() float32"]


def test_the_first_failure_in_forward_order_and_a_backward_that_raises():
    class Raises(Triple):
        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("boom")

    w = ad.tensor(np.ones(4), requires_grad=True)
    report = ad.gradcheck_graph(
        lambda t: Raises.apply(TripleForgetful.apply(t)).sum(), [w], raise_exception=False
    )
    assert [n.status for n in report.nodes] == ["FAILED", "FAILED", "passed"]
    assert report.first_failure.op.endswith("TripleForgetful")
    assert report.nodes[1].reason == "backward raised RuntimeError: boom"


def test_casts_and_nodes_built_outside_recording_are_skipped():
    w = ad.tensor(np.ones(3), requires_grad=True)
    h = w * 2.0  # not recorded
    with ad.record_node_inputs():
        out = (h.exp().float() * 2).sum()
    report = ad.gradcheck_graph(out)
    assert [n.op for n in report.nodes] == ["Mul", "Exp", "ToDtype", "Mul", "Sum"]
    assert [n.status for n in report.nodes] == ["skipped", "passed", "skipped", "passed", "passed"]
    assert "outside record_node_inputs()" in report.nodes[0].reason
    assert "(a cast)" in report.nodes[2].reason


def test_recording_is_off_by_default_and_scoped():
    w = ad.tensor(np.ones(3), requires_grad=True)
    assert not hasattr((w * 2).grad_fn, "recorded")
    with ad.record_node_inputs():
        inside = w * 2
        seen = []
        thread = threading.Thread(target=lambda: seen.append((w * 2).grad_fn))
        thread.start()
        thread.join()
    assert not hasattr(seen[0], "recorded")  # per thread
    assert inside.grad_fn.recorded.arrays[0] is not w.data  # a copy
    assert not hasattr((w * 2).grad_fn, "recorded")


def test_errors():
    w = ad.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="record_node_inputs"):
        ad.gradcheck_graph((w * 2).sum())
    with pytest.raises(ValueError, match="has no graph"):
        ad.gradcheck_graph(ad.tensor([1.0]))
    with pytest.raises(TypeError, match="must return a Tensor"):
        ad.gradcheck_graph(lambda t: 3.0, [w])
    with ad.record_node_inputs():
        out = (w * 2).sum()
    with pytest.raises(TypeError, match="not with an output"):
        ad.gradcheck_graph(out, [w])


def test_no_false_alarm_on_any_op_of_the_table():
    from tests.ops.harness import make_arrays, make_tensors
    from tests.ops.specs import SPECS

    failed = []
    for spec in SPECS:
        s = spec.samples[0]
        with ad.record_node_inputs():
            out = spec.fn(*make_tensors(spec, make_arrays(spec, s, np.float64)), **s.kwargs)
        if out.grad_fn is None:  # not differentiable: nothing recorded
            continue
        report = ad.gradcheck_graph(out, raise_exception=False)
        if not report.passed:
            failed.append(f"{spec.name}[{s.id}]: {report.first_failure.summary()}")
    assert not failed, "\n".join(failed)
