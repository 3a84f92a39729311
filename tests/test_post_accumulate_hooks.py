"""Tensor.register_post_accumulate_grad_hook and the engine's queue_callback: the same programs
on autodiff and on torch (where installed) see the same values in the same order."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.engine import queue_callback
from tests.test_hooks import _same_in_both


def test_hook_gets_the_tensor_after_its_grad_is_accumulated():
    def program(lib):
        seen = []
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.grad = lib.tensor([10.0, 10.0])
        w.register_post_accumulate_grad_hook(
            lambda p: seen.append((p is w, p.grad.clone(), lib.is_grad_enabled()))
        )
        (w * w + w).sum().backward()  # two uses, one call, after the sum is accumulated
        (w * 3).sum().backward()  # once per backward
        return seen

    seen = _same_in_both(program)
    assert [s[0] for s in seen] == [True, True]
    np.testing.assert_array_equal(seen[1][1].numpy(), [16.0, 18.0])


def test_hook_may_update_the_tensor_in_place():
    def program(lib):
        v = lib.tensor([0.0, 0.0, 0.0], requires_grad=True)
        handle = v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-0.01))
        v.backward(lib.tensor([1.0, 2.0, 3.0]))  # the PyTorch docs' SGD-in-a-hook example
        handle.remove()
        v.backward(lib.tensor([1.0, 2.0, 3.0]))  # removed: .grad grows, v stays
        return v.detach(), v.grad

    v, grad = _same_in_both(program)
    np.testing.assert_allclose(v.numpy(), [-0.01, -0.02, -0.03], rtol=1e-6)
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0, 6.0])


def test_grad_writes_no_grad_and_calls_no_hook():
    def program(lib):
        calls = []
        w = lib.tensor([1.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(calls.append)
        lib.autograd.grad((w * 2).sum(), w)
        return len(calls), w.grad

    assert _same_in_both(program) == (0, None)


def test_callback_runs_after_every_grad_and_post_hook():
    def program(lib):
        if lib is ad:
            queue = queue_callback
        else:
            queue = lib.autograd.Variable._execution_engine.queue_callback
        order = []
        w = lib.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: order.append(("post", p.grad.tolist())))
        y = w * 3
        y.register_hook(lambda g: queue(lambda: order.append(("callback", w.grad.tolist()))))
        y.sum().backward()
        return order

    assert _same_in_both(program) == [("post", [3.0, 3.0]), ("callback", [3.0, 3.0])]


def test_callbacks_belong_to_their_backward():
    order = []
    w = ad.ones(2, requires_grad=True)

    def inner():
        order.append("inner")

    def outer():
        (w * 2).sum().backward()  # a backward of its own, with a queue of its own
        order.append("outer")

    def queue_two(g):
        queue_callback(outer)
        queue_callback(lambda: order.append(2))

    y = w * 3
    y.register_hook(queue_two)
    z = w * 5
    z.register_hook(lambda g: queue_callback(inner))
    (y.sum() + z.sum()).backward()
    assert order == ["inner", "outer", 2]  # queued in the order the hooks ran
    np.testing.assert_array_equal(w.grad.data, [10.0, 10.0])


def test_a_failed_backward_drops_its_queue():
    ran = []
    w = ad.ones(2, requires_grad=True)
    y = w * 3

    def hook(g):
        queue_callback(lambda: ran.append(True))
        raise ValueError("boom")

    y.register_hook(hook)
    with pytest.raises(ValueError, match="boom"):
        y.sum().backward()
    (w * 2).sum().backward()
    assert ran == []


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: ad.ones(2), RuntimeError, "doesn't require gradient"),
        (lambda: ad.ones(2, requires_grad=True) * 2, RuntimeError, "non-leaf"),
    ],
)
def test_bad_tensors_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make().register_post_accumulate_grad_hook(lambda p: None)


def test_a_hook_returning_a_value_raises_like_torch():
    def program(lib):
        w = lib.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: 1)
        with pytest.raises(TypeError):
            (w * 2).sum().backward()
        return w.grad  # written before the hooks run

    _same_in_both(program)


def test_queue_callback_outside_backward_raises():
    with pytest.raises(RuntimeError, match="only be queued during a backward"):
        queue_callback(lambda: None)
