"""Tensor.register_hook: each program runs on autodiff and on torch (where installed), and
what the hooks see and what the gradients become must agree."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.hooks import RemovableHandle


@pytest.fixture(params=["autodiff", "torch"])
def lib(request):
    """autodiff, and torch when installed (its cases skip cleanly without it)."""
    return ad if request.param == "autodiff" else pytest.importorskip("torch")


def assert_same_results(ours, theirs):
    """Results of one program on autodiff and on torch (nested lists or tuples of tensors,
    numbers, strings and None) agree."""
    if isinstance(ours, list | tuple):
        assert isinstance(theirs, list | tuple) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs):
            assert_same_results(a, b)
    elif ours is None or isinstance(ours, str | int | float | bool):
        assert ours == theirs, (ours, theirs)
    else:
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5)


def _same_in_both(program):
    """Run `program(lib)` on autodiff and torch; the results must agree. Returns ours."""
    torch = pytest.importorskip("torch")
    ours, theirs = program(ad), program(torch)
    assert_same_results(ours, theirs)
    return ours


def test_hooks_run_in_registration_order_each_seeing_the_previous_replacement():
    def program(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: seen.append(g.clone()) or g * 10)
        x.register_hook(lambda g: seen.append(g.clone()))
        x.register_hook(lambda g: g + 1)
        (x * 3).sum().backward()
        return [seen, x.grad]

    seen, grad = _same_in_both(program)
    assert grad.tolist() == [31.0, 31.0]


def test_a_hook_on_a_non_leaf_changes_the_gradient_below_it():
    def program(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * 2)
        (y * 3).sum().backward()
        return [x.grad]

    (grad,) = _same_in_both(program)
    assert grad.tolist() == [12.0, -24.0]


def test_hooks_of_a_chain_run_from_the_output_down():
    def program(lib):
        order = []
        x = lib.tensor([1.0], requires_grad=True)
        y1 = x * 2
        y2 = y1 * 2
        y3 = y2 * 2
        for name, t in (("y1", y1), ("y3", y3), ("y2", y2)):
            t.register_hook(lambda g, name=name: order.append(name))
        y3.sum().backward()
        return order

    assert _same_in_both(program) == ["y3", "y2", "y1"]


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_keeps_the_gradient_after_the_hooks_in_either_order(retain_first):
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        if retain_first:
            y.retain_grad()
        y.register_hook(lambda g: g * 10)
        if not retain_first:
            y.retain_grad()
        y.sum().backward()
        return [y.grad, x.grad]

    y_grad, x_grad = _same_in_both(program)
    assert y_grad.tolist() == [10.0, 10.0] and x_grad.tolist() == [20.0, 20.0]


def test_a_tensor_reached_twice_calls_its_hook_once_with_the_sum():
    def program(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: calls.append(g.clone()))
        y = x * 1
        y.register_hook(lambda g: calls.append(g.clone()))
        (y * y + y * 4).sum().backward()
        return calls

    calls = _same_in_both(program)
    assert len(calls) == 2 and calls[0].tolist() == [6.0, 8.0]


def test_autograd_grad_runs_leaf_hooks_and_captures_a_non_leaf_before_its_hooks():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        y = x * 2
        y.register_hook(lambda g: g * 3)
        return list(lib.autograd.grad((y * 2).sum(), [y, x]))

    y_grad, x_grad = _same_in_both(program)
    assert y_grad.tolist() == [2.0, 2.0] and x_grad.tolist() == [120.0, 120.0]


def test_a_hook_that_modifies_its_argument_in_place_passes_the_change_on():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)

        def double_in_place(g):
            g.mul_(2)

        x.register_hook(double_in_place)
        (x * 3).sum().backward()
        return [x.grad]

    assert _same_in_both(program)[0].tolist() == [6.0, 6.0]


def test_hooks_run_with_grad_mode_off():
    def program(lib):
        modes = []
        w = lib.tensor([2.0], requires_grad=True)
        x = lib.tensor([1.0], requires_grad=True)
        x.register_hook(lambda g: modes.append(lib.is_grad_enabled()) or g * w)
        (x * 1).sum().backward()
        return [modes, x.grad.requires_grad]

    assert _same_in_both(program) == [[False], False]


def test_remove_unregisters_and_may_be_called_twice(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 2)
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    assert x.grad.tolist() == [10.0, 10.0]  # the `with` block's hook is gone after it
    handle.remove()
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_the_handle_type_and_ids():
    x = ad.tensor([1.0], requires_grad=True)
    h1, h2 = x.register_hook(print), x.register_hook(print)
    assert isinstance(h1, RemovableHandle) and h1.id != h2.id


def test_hooks_run_at_every_backward_of_a_retained_graph():
    calls = []
    x = ad.tensor([1.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: calls.append(g.item()))
    z = (y * 3).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert calls == [3.0, 3.0] and x.grad.tolist() == [12.0]


def test_a_gradient_a_hook_keeps_is_not_changed_by_later_accumulation():
    kept = []
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: kept.append(g))
    (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert [k.tolist() for k in kept] == [[1.0, 1.0], [1.0, 1.0]]
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_replacement_the_hook_keeps_is_not_changed_by_later_accumulation():
    replacement = ad.tensor([5.0, 5.0])
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: replacement)
    (x * 1).sum().backward()
    handle.remove()
    (x * 1).sum().backward()
    assert replacement.tolist() == [5.0, 5.0] and x.grad.tolist() == [6.0, 6.0]


def test_hooks_registered_before_and_after_an_in_place_op_see_the_old_and_new_value():
    def program(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: calls.append(("before", g.clone())))
        y.mul_(3)
        y.register_hook(lambda g: calls.append(("after", g.clone())))
        (y * y).sum().backward()
        return [calls, x.grad]

    calls, _ = _same_in_both(program)
    assert [c[0] for c in calls] == ["after", "before"]


def test_no_hook_on_a_tensor_without_grad_and_none_called_without_a_graph(lib):
    with lib.no_grad():
        z = lib.ones(2)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        z.register_hook(lambda g: g)
    calls = []
    x = lib.tensor([1.0], requires_grad=True)
    x.register_hook(calls.append)
    with lib.no_grad():
        y = x * 2
    assert not y.requires_grad and calls == []


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (lambda g: g.sum(), RuntimeError, "changed the gradient from shape"),
        (lambda g: g.double(), RuntimeError, "float32 to .* float64"),
        (lambda g: 3, TypeError, "returned int"),
    ],
)
def test_a_bad_replacement_is_refused_naming_the_hook(bad, error, match):
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(bad)
    with pytest.raises(error, match=match):
        (x * 2).sum().backward()
    assert x.grad is None


def test_a_hook_on_a_non_leaf_used_by_two_branches_and_a_leaf_hook():
    # the order between a leaf's hook and non-leaf hooks differs from torch (leaf hooks run
    # when backward finishes); the values agree
    def program(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        seen = {}
        y = a * b
        y.register_hook(lambda g: seen.setdefault("y", g.clone()) * 0 + g * 2)
        b.register_hook(lambda g: seen.setdefault("b", g.clone()))
        (y.exp() + y * b).sum().backward()
        return [seen["y"], seen["b"], a.grad, b.grad]

    _same_in_both(program)
