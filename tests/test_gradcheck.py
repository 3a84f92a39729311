"""gradcheck and numerical_grad: verdicts, reports, fast mode, and never touching the caller."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.function import Function
from autodiff.gradcheck import verdict


class WrongSquare(Function):
    """x * x whose backward forgets the factor 2 (a test-only op; the meta-test ignores it)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return g * x


class SlightlyWrongExp(Function):
    """exp(x) whose backward is off by a relative 1e-6: caught only by a tight tolerance."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        return g * y * (1 + 1e-6)


class WrongSecondInput(Function):
    """x * y, right for x and wrong for y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return g * y, g * x + 1


def _inputs(*shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [ad.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


# ---- verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: x * y + x.exp(),
        lambda x, y: (x @ y.T).tanh().sum(0),
        lambda x, y: ad.softmax(x * y, -1),
        lambda x, y: (x - y).abs().mean() + ad.maximum(x, y.T.T).var(),
    ],
)
def test_correct_ops_pass(fn):
    x, y = _inputs((3, 4), (3, 4))
    report = ad.gradcheck(fn, [x, y])
    assert report.passed and bool(report)
    assert report.max_rel_diff < 1e-7
    assert [r.verdict for r in report.inputs] == ["correct", "correct"]


def test_a_wrong_backward_is_caught():
    (x,) = _inputs((2, 3))
    with pytest.raises(ad.GradcheckError) as info:
        ad.gradcheck(WrongSquare.apply, [x])
    report = info.value.report
    assert not report.passed and not bool(report)
    (r,) = report.inputs
    assert r.verdict == "bug" and not r.passed
    np.testing.assert_allclose(r.rel_diff, 1 / 3, rtol=1e-6)  # |2x - x| / (|2x| + |x|)
    assert "rel diff 3.33e-01 (bug) FAILED" in str(info.value)
    assert "numerical" in str(info.value) and "analytical" in str(info.value)


def test_report_lists_the_worst_elements():
    x = ad.tensor(np.array([[1.0, -4.0, 2.0], [0.5, 3.0, 0.0]]), requires_grad=True)
    report = ad.gradcheck(lambda t: WrongSquare.apply(t).sum(), [x], raise_exception=False)
    worst = report.inputs[0].worst
    assert len(worst) == 3
    positions = [w[0] for w in worst]
    assert positions == [(0, 1), (1, 1), (0, 2)]  # largest |2x - x| first
    for pos, num, ana in worst:
        np.testing.assert_allclose(num, 2 * x.data[pos], rtol=1e-6)
        np.testing.assert_allclose(ana, x.data[pos])
    assert "at (0, 1): numerical -8.0" in str(report)
    many = ad.gradcheck(WrongSquare.apply, [x], raise_exception=False, n_worst=1)
    ((pos, _, _),) = many.inputs[0].worst
    assert pos == (1, (0, 1))  # (output element, input position)


def test_only_the_wrong_input_fails():
    x, y = _inputs((2,), (2,))
    report = ad.gradcheck(WrongSecondInput.apply, [x, y], raise_exception=False)
    assert [r.passed for r in report.inputs] == [True, False]
    assert [r.index for r in report.inputs] == [0, 1]


def test_inputs_that_do_not_require_grad_are_not_checked():
    x, y = _inputs((2,), (2,))
    y.requires_grad_(False)
    report = ad.gradcheck(WrongSecondInput.apply, [x, y])
    assert [r.index for r in report.inputs] == [0]


def test_tolerances_decide_the_verdict():
    (x,) = _inputs((4,))
    loose = ad.gradcheck(SlightlyWrongExp.apply, [x], rtol=1e-3)
    assert loose.passed and loose.inputs[0].verdict == "look closer"
    tight = ad.gradcheck(SlightlyWrongExp.apply, [x], rtol=1e-8, atol=0, raise_exception=False)
    assert not tight.passed


@pytest.mark.parametrize("fast", [False, True])
def test_one_number_over_all_inputs_concatenated(fast):
    x, b = _inputs((2, 3), (4,))
    report = ad.gradcheck(
        lambda t, c: WrongSquare.apply(t).sum() + c.sum(), [x, b], raise_exception=False, fast=fast
    )
    if fast:
        assert report.rel_diff > 0 and "all inputs together: rel diff" in str(report)
        return
    # numerical (2x, ones) against analytical (x, ones), as one vector of 10 elements
    num = np.concatenate([2 * x.data.ravel(), np.ones(4)])
    ana = np.concatenate([x.data.ravel(), np.ones(4)])
    expected = np.linalg.norm(num - ana) / (np.linalg.norm(num) + np.linalg.norm(ana))
    np.testing.assert_allclose(report.rel_diff, expected, rtol=1e-6)
    assert report.inputs[1].rel_diff < report.rel_diff < report.inputs[0].rel_diff
    assert f"all inputs together: rel diff {expected:.2e} (bug)" in str(report)
    one = ad.gradcheck(WrongSquare.apply, [x], raise_exception=False)
    assert one.rel_diff == one.inputs[0].rel_diff


def test_verdict_bands():
    assert verdict(1e-9) == "correct"
    assert verdict(1e-6) == "look closer"
    assert verdict(1e-4) == "suspicious"
    assert verdict(0.5) == "bug"


def test_fast_mode():
    x, y = _inputs((3, 4), (4, 2))
    report = ad.gradcheck(lambda a, b: (a @ b).sigmoid(), [x, y], fast=True)
    assert report.passed and report.fast and "one random direction" in str(report)
    assert all(r.worst[0][0] == "random direction" for r in report.inputs)
    with pytest.raises(ad.GradcheckError):
        ad.gradcheck(WrongSquare.apply, [x], fast=True)


def test_output_of_any_shape_and_a_view_of_the_input():
    (x,) = _inputs((2, 3))
    assert ad.gradcheck(lambda t: t.T, [x]).passed
    assert ad.gradcheck(lambda t: t[1], [x]).passed
    assert ad.gradcheck(lambda t: t.sum(), [x]).passed


def test_non_contiguous_inputs():
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 2)).T, requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert ad.gradcheck(lambda t: t * t.exp(), [x]).passed
    with pytest.raises(ad.GradcheckError):
        ad.gradcheck(WrongSquare.apply, [x])


def test_output_that_does_not_depend_on_the_input():
    x, y = _inputs((2,), (2,))
    assert ad.gradcheck(lambda a, b: b * 2, [x, y]).passed
    assert ad.gradcheck(lambda a: ad.tensor([1.0, 2.0], dtype=ad.float64), [x]).passed


# ---- the caller's tensors are never touched ------------------------------------------------------


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("fails", [False, True])
def test_callers_arrays_and_grads_are_untouched(fast, fails):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    w = ad.tensor(rng.standard_normal((3,)).astype(np.float32), requires_grad=True)
    w.grad = ad.tensor(np.full(3, 7.0, np.float32))
    before = [(t.data, t.data.copy(), t.grad) for t in (x, w)]
    fn = (lambda a, b: WrongSquare.apply(a) * b) if fails else (lambda a, b: (a * b).tanh())
    report = ad.gradcheck(fn, [x, w], fast=fast, raise_exception=False)
    assert report.passed is not fails
    for t, (data, values, grad) in zip((x, w), before, strict=True):
        assert t.data is data and t.dtype == np.float32
        np.testing.assert_array_equal(t.data, values)
        assert t.grad is grad
    assert x.grad is None and w.grad.data.tolist() == [7.0, 7.0, 7.0]
    assert x.requires_grad and x.is_leaf and x._version == 0


@pytest.mark.parametrize("fast", [False, True])
def test_callers_graph_upstream_of_a_non_leaf_input_stays_usable(fast):
    (a,) = _inputs((3,))
    h = a * a  # a non-leaf input: the backward walks on into the caller's graph
    assert ad.gradcheck(lambda t: t.exp(), [h], fast=fast).passed
    assert h.grad is None and a.grad is None
    h.sum().backward()
    np.testing.assert_allclose(a.grad.data, 2 * a.data)


def test_callers_tensors_are_restored_when_fn_raises():
    (x,) = _inputs((3,), dtype=np.float32)
    data = x.data
    calls = []

    def fn(t):
        calls.append(t.dtype)
        if len(calls) > 2:
            raise KeyError("boom")
        return t * 2

    with pytest.raises(KeyError):
        ad.gradcheck(fn, [x])
    assert x.data is data and x.dtype == np.float32 and x.grad is None
    assert calls[0] == np.float64  # fn saw the float64 copy


def test_gradcheck_is_done_in_float64_for_float32_inputs():
    (x,) = _inputs((5,), dtype=np.float32)
    # in float32 the central difference of exp with eps=1e-6 would be far off
    report = ad.gradcheck(lambda t: t.exp() * 3, [x])
    assert report.max_rel_diff < 1e-8


def test_gradcheck_runs_with_grad_mode_off():
    (x,) = _inputs((3,))
    with ad.no_grad():
        assert ad.gradcheck(lambda t: t * t, [x]).passed
        assert not ad.is_grad_enabled()


def test_gradcheck_of_a_whole_model_through_a_closure():
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    labels = np.array([0, 2, 1, 1, 0])
    params = [
        ad.tensor(rng.standard_normal(s).astype(np.float32) * 0.5, requires_grad=True)
        for s in ((4, 6), (6,), (6, 3), (3,))
    ]
    w1, b1, w2, b2 = params

    def loss(*_):  # closes over the parameters, which gradcheck swaps for float64 copies
        h = (x.double() @ w1 + b1).tanh()
        logp = (h @ w2 + b2).log_softmax(-1)
        return -logp[np.arange(5), labels].mean() + 0.01 * (w1 * w1).sum()

    report = ad.gradcheck(loss, params)
    assert report.passed and len(report.inputs) == 4 and report.max_rel_diff < 1e-7
    assert all(p.dtype == np.float32 and p.grad is None for p in params)

    def broken(*_):
        return WrongSquare.apply(x.double() @ w1 + b1).sum()

    report = ad.gradcheck(broken, params, raise_exception=False)
    assert [r.passed for r in report.inputs] == [False, False, True, True]  # w2, b2 unused


# ---- numerical_grad ------------------------------------------------------------------------------


def test_numerical_grad():
    x, y = _inputs((2, 3), (3,), dtype=np.float32)
    data = [x.data, y.data]
    gx, gy = ad.numerical_grad(lambda a, b: (a * b.exp()).sum(), [x, y])
    assert gx.shape == (2, 3) and gy.shape == (3,)
    assert gx.dtype == np.float64
    np.testing.assert_allclose(gx, np.broadcast_to(np.exp(y.data), (2, 3)), rtol=1e-6)
    np.testing.assert_allclose(gy, x.data.sum(0) * np.exp(y.data), rtol=1e-5)
    assert x.data is data[0] and y.data is data[1] and x.dtype == np.float32
    (only,) = ad.numerical_grad(lambda a: (a * a).sum(), x)
    np.testing.assert_allclose(only, 2 * x.data, rtol=1e-6)


def test_numerical_grad_needs_no_requires_grad():
    x = ad.tensor([1.0, 2.0])
    (g,) = ad.numerical_grad(lambda a: (a**3).sum(), [x], eps=1e-4)
    np.testing.assert_allclose(g, [3.0, 12.0], rtol=1e-6)
