"""Module forward, forward-pre, full backward and backward-pre hooks: each program runs on
autodiff and on torch (where installed) with the same weights; order, arguments and results
must agree."""

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.hooks import RemovableHandle
from tests.test_hooks import assert_same_results


def _same_in_both(program):
    """Run `program(lib, nn_module)` on autodiff and torch; the results must agree."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning for hooks firing with no input grad
        theirs = program(torch, torch.nn)
    ours = program(ad, nn)
    assert_same_results(ours, theirs)
    return ours


def _linear(lib, torch_nn, n_in=3, n_out=2):
    """A Linear layer with fixed weights, the same in both libraries."""
    layer = torch_nn.Linear(n_in, n_out)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.arange(n_in * n_out, dtype=np.float32).reshape(n_out, -1)))
        layer.bias.copy_(lib.tensor(np.arange(n_out, dtype=np.float32)))
    return layer


def _x(lib, requires_grad=True):
    return lib.tensor([[1.0, -2.0, 0.5]], requires_grad=requires_grad)


def test_forward_pre_hooks_and_forward_hooks_replace_args_and_output_in_order():
    def program(lib, torch_nn):
        calls = []
        layer = _linear(lib, torch_nn)
        layer.register_forward_pre_hook(lambda m, args: calls.append("pre1") or (args[0] * 2,))
        layer.register_forward_pre_hook(lambda m, args: calls.append("pre0"), prepend=True)
        layer.register_forward_pre_hook(lambda m, args: args[0] + 1)  # a bare value: a 1-tuple
        layer.register_forward_hook(lambda m, args, out: calls.append(("seen", args[0])))
        layer.register_forward_hook(lambda m, args, out: out * 10)
        layer.register_forward_hook(lambda m, args, out: calls.append(("out", out)))
        return [calls, layer(_x(lib))]

    calls, _ = _same_in_both(program)
    assert calls[:2] == ["pre0", "pre1"]


def test_hooks_with_kwargs():
    def program(lib, torch_nn):
        class Scale(torch_nn.Module):
            def forward(self, x, *, factor=1.0):
                return x * factor

        module = Scale()
        module.register_forward_pre_hook(
            lambda m, args, kwargs: (args, {"factor": kwargs["factor"] + 1}), with_kwargs=True
        )
        module.register_forward_hook(
            lambda m, args, kwargs, out: out + kwargs["factor"], with_kwargs=True
        )
        return module(lib.tensor([1.0, 2.0]), factor=2.0)

    assert _same_in_both(program).tolist() == [6.0, 9.0]


def test_a_pre_hook_returning_something_else_than_args_and_kwargs_is_refused():
    module = nn.Identity()
    module.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"tuple of \(new_args, new_kwargs\)"):
        module(ad.ones(2), ad.ones(2), ad.ones(2))


def test_always_call_runs_when_forward_raises():
    def program(lib, torch_nn):
        calls = []
        layer = _linear(lib, torch_nn)
        layer.register_forward_hook(
            lambda m, args, out: calls.append(("always", out)), always_call=True
        )
        layer.register_forward_hook(lambda m, args, out: calls.append("not on error"))
        try:
            layer(lib.ones(1, 4))
        except (RuntimeError, ValueError):  # torch's RuntimeError, our ShapeError
            calls.append("raised")
        return calls

    assert _same_in_both(program) == [("always", None), "raised"]


def test_removed_hooks_no_longer_run_and_handles_are_context_managers():
    layer = nn.Identity()
    calls = []
    handle = layer.register_forward_hook(lambda m, a, o: calls.append("fwd"))
    assert isinstance(handle, RemovableHandle)
    with layer.register_forward_pre_hook(lambda m, a: calls.append("pre")):
        layer(ad.ones(1))
    handle.remove()
    layer(ad.ones(1))
    assert calls == ["pre", "fwd"]
    assert not layer._forward_hooks and not layer._forward_pre_hooks


@pytest.mark.parametrize("input_grad", [True, False])
def test_full_backward_hook_receives_torchs_grad_input_and_grad_output(input_grad):
    def program(lib, torch_nn):
        seen = []
        layer = _linear(lib, torch_nn)
        layer.register_full_backward_pre_hook(lambda m, go: seen.append(("pre", go)))
        layer.register_full_backward_hook(lambda m, gi, go: seen.append(("hook", gi, go)))
        out = layer(_x(lib, input_grad))
        (out * out).sum().backward()
        return [seen, layer.weight.grad, layer.bias.grad]

    seen, _, _ = _same_in_both(program)
    assert [s[0] for s in seen] == ["pre", "hook"]
    assert (seen[1][1][0] is None) is not input_grad


def test_backward_hooks_replace_grad_input_and_grad_output():
    def program(lib, torch_nn):
        layer = _linear(lib, torch_nn)
        layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
        layer.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        x = _x(lib)
        layer(x).sum().backward()
        return [x.grad, layer.weight.grad, layer.bias.grad]

    _same_in_both(program)


def test_backward_hooks_of_a_sequential_run_from_the_last_layer():
    def program(lib, torch_nn):
        order = []
        model = torch_nn.Sequential(_linear(lib, torch_nn, 3, 3), _linear(lib, torch_nn, 3, 2))
        for i, layer in enumerate(model):
            layer.register_full_backward_hook(lambda m, gi, go, i=i: order.append(("hook", i)))
            layer.register_full_backward_pre_hook(lambda m, go, i=i: order.append(("pre", i)))
        model(_x(lib, False)).sum().backward()
        return order

    assert _same_in_both(program) == [("pre", 1), ("hook", 1), ("pre", 0), ("hook", 0)]


def test_several_inputs_and_outputs_some_unused_or_without_grad():
    def program(lib, torch_nn):
        class Two(torch_nn.Module):
            def forward(self, a, k, b):
                return a * 2 * k, b * 3, lib.ones(2)

        seen = []
        module = Two()
        module.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        o1, _, _ = module(a, 5.0, b)
        o1.sum().backward()  # b is unused: torch gives zeros for it
        o1, o2, _ = module(lib.ones(2), 5.0, b)
        (o1.sum() + o2.sum()).backward()
        return [seen, a.grad, b.grad]

    _same_in_both(program)


def test_a_hook_returning_the_wrong_number_of_grads_is_refused():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(ad.ones(1, 3, requires_grad=True)).sum().backward()
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (ad.ones(5),))
    with pytest.raises(RuntimeError, match=r"changed grad_input\[0\] from shape \(1, 3\)"):
        layer(ad.ones(1, 3, requires_grad=True)).sum().backward()


def test_without_input_grad_a_hook_may_not_return_a_gradient():
    def program(lib, torch_nn):
        layer = _linear(lib, torch_nn)
        layer.register_full_backward_hook(lambda m, gi, go: (lib.zeros(1, 3),))
        try:
            layer(_x(lib, False)).sum().backward()
        except RuntimeError as error:
            return str(error)

    assert "no input requires gradient" in _same_in_both(program)


def test_in_place_on_the_output_of_a_module_with_backward_hooks_is_refused_as_in_torch():
    def program(lib, torch_nn):
        layer = _linear(lib, torch_nn)
        layer.register_full_backward_hook(lambda *args: None)
        out = layer(_x(lib))
        try:
            out += 1
        except RuntimeError:
            return "refused"

    assert _same_in_both(program) == "refused"


def test_under_no_grad_forward_hooks_run_and_backward_hooks_are_not_set_up():
    def program(lib, torch_nn):
        calls = []
        layer = _linear(lib, torch_nn)
        layer.register_forward_hook(lambda m, a, o: calls.append(lib.is_grad_enabled()))
        layer.register_full_backward_hook(lambda *args: calls.append("backward"))
        with lib.no_grad():
            out = layer(_x(lib))
        return [calls, out.requires_grad, out.grad_fn is None]

    assert _same_in_both(program) == [[False], False, True]


def test_hooks_run_with_grad_mode_off_and_see_tensors():
    def program(lib, torch_nn):
        seen = []
        layer = _linear(lib, torch_nn)
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.append([lib.is_grad_enabled(), lib.is_tensor(go[0])])
        )
        layer(_x(lib)).sum().backward()
        return seen

    assert _same_in_both(program) == [[False, True]]


def test_a_module_called_twice_gets_one_hook_call_per_call():
    def program(lib, torch_nn):
        seen = []
        layer = _linear(lib, torch_nn, 3, 3)
        layer.register_full_backward_hook(lambda m, gi, go: seen.append(go[0]))
        x = _x(lib)
        layer(layer(x)).sum().backward()
        return [seen, x.grad, layer.weight.grad]

    assert len(_same_in_both(program)[0]) == 2


def test_gradients_kept_by_a_hook_are_not_changed_by_accumulation():
    kept = []
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: kept.append(gi[0]))
    x = ad.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    first = kept[0].numpy().copy()
    layer(x).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), first)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


def test_every_node_of_a_hooked_module_has_an_honest_backward():
    layer = nn.Linear(3, 2).double()
    layer.register_full_backward_pre_hook(lambda m, grad_output: None)
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: None)
    x = ad.randn(4, 3, dtype=ad.float64, requires_grad=True)
    assert ad.gradcheck(lambda x: layer(x).tanh(), [x])
    with ad.record_node_inputs():
        loss = (layer(x) ** 2).sum()
    assert ad.gradcheck_graph(loss).passed
