"""Anomaly mode: the first NaN/Inf is traced to its op and to the user's line, in forward and in
backward; off by default, restored after its block."""

import inspect
import re
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.anomaly import anomaly_state

pytestmark = [
    pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
]


@pytest.fixture(autouse=True)
def _anomaly_off_after():
    yield
    leaked = anomaly_state.enabled
    anomaly_state.enabled, anomaly_state.check_nan = False, True
    assert not leaked, "the test left anomaly mode on"


def _line_of(text, func):
    """The line number of the first line of `func`'s source containing `text`."""
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_off_by_default_and_exported_under_torchs_names():
    assert not ad.is_anomaly_enabled() and ad.is_anomaly_check_nan_enabled()
    assert ad.autograd.detect_anomaly is ad.detect_anomaly
    assert ad.autograd.set_detect_anomaly is ad.set_detect_anomaly
    x = ad.tensor([-1.0, 1.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().numpy()[0])  # no check when off


def test_detect_anomaly_warns_as_torch_and_restores_the_previous_mode():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        context = ad.detect_anomaly(check_nan=False)
    with context:
        assert ad.is_anomaly_enabled() and not ad.is_anomaly_check_nan_enabled()
        with ad.detect_anomaly():
            assert ad.is_anomaly_check_nan_enabled()
        assert not ad.is_anomaly_check_nan_enabled()
    assert not ad.is_anomaly_enabled() and ad.is_anomaly_check_nan_enabled()


def test_detect_anomaly_as_a_decorator():
    @ad.detect_anomaly()
    def inside():
        return ad.is_anomaly_enabled()

    assert inside() and not ad.is_anomaly_enabled()


def test_set_detect_anomaly_at_once_or_for_a_block():
    ad.set_detect_anomaly(True)
    assert ad.is_anomaly_enabled()
    ad.set_detect_anomaly(False)
    assert not ad.is_anomaly_enabled()
    with ad.set_detect_anomaly(True, check_nan=False):
        assert ad.is_anomaly_enabled() and not ad.is_anomaly_check_nan_enabled()
    assert not ad.is_anomaly_enabled() and ad.is_anomaly_check_nan_enabled()


def test_forward_names_the_op_its_inputs_and_the_users_line():
    def program():
        x = ad.tensor([-1.0, 1.0], requires_grad=True)
        y = x * 2
        with ad.detect_anomaly(), np.errstate(invalid="ignore"):
            y = y.log()  # the guilty line
        return y

    with pytest.raises(RuntimeError) as info:
        program()
    message = str(info.value)
    assert message.startswith("Log: output of shape (2,) float32 holds NaN")
    assert "inputs: (2,) float32" in message
    assert f'File "{__file__}", line {_line_of("the guilty line", program)}' in message
    assert "y = y.log()  # the guilty line" in message


def test_forward_checks_ops_that_record_no_graph_and_reports_inf():
    x = ad.tensor([0.0, 1.0], dtype=ad.float64)
    with ad.detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(RuntimeError) as info:
        ad.log(x)
    assert re.match(r"Log: output of shape \(2,\) float64 holds Inf", str(info.value))


def test_forward_describes_0d_inputs_by_shape_and_dtype():
    a = ad.tensor(np.float32(1e38), requires_grad=True)  # Mul sees it as a numpy scalar
    with ad.detect_anomaly(), np.errstate(over="ignore"), pytest.raises(RuntimeError) as info:
        a * a
    assert "holds Inf, inputs: () float32, () float32 (" in str(info.value)


def test_forward_names_the_line_that_called_a_module_not_a_line_in_the_library():
    layer = nn.Linear(2, 1)
    with ad.no_grad():
        layer.weight.fill_(np.inf)
    with ad.detect_anomaly(), pytest.raises(RuntimeError) as info:
        layer(ad.ones(1, 2))  # the module call
    assert "layer(ad.ones(1, 2))  # the module call" in str(info.value)
    assert "site-packages" not in str(info.value) and "/nn/" not in str(info.value)


def test_check_nan_false_and_values_that_are_already_nan_in_the_data():
    x = ad.tensor([np.nan, 1.0])
    with ad.detect_anomaly(check_nan=False):
        assert np.isnan((x * 2).numpy()[0])
    with ad.detect_anomaly(), pytest.raises(RuntimeError, match=r"inputs: \(2,\) float32 holding"):
        x * 2  # the first op to see the data's NaN


def _sqrt_of_zero(x):
    return (x * 0).sqrt() * 0  # forward is finite; backward gives 0 * inf = NaN


def test_backward_names_the_node_and_the_forward_traceback():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.detect_anomaly():
        loss = _sqrt_of_zero(x).sum()  # the forward call
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("Function 'SqrtBackward' returned NaN values in its 0th output")
    assert "Traceback of forward call that created Sqrt:" in message
    assert "loss = _sqrt_of_zero(x).sum()  # the forward call" in message
    assert f"line {_line_of('.sqrt()', _sqrt_of_zero)}, in _sqrt_of_zero" in message
    assert x.grad is None


def test_backward_raises_like_torch_on_the_same_graph():
    torch = pytest.importorskip("torch")
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward"):
            _sqrt_of_zero(xt).sum().backward()
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.detect_anomaly(), pytest.raises(RuntimeError, match="SqrtBackward"):
        _sqrt_of_zero(x).sum().backward()
    with np.errstate(all="ignore"):
        _sqrt_of_zero(x).sum().backward()  # off: the NaN passes silently, as in torch
    assert np.isnan(x.grad.numpy()).all()


def test_a_graph_built_before_anomaly_mode_says_it_has_no_forward_traceback():
    x = ad.tensor([1.0], requires_grad=True)
    loss = _sqrt_of_zero(x).sum()
    with ad.detect_anomaly(), pytest.raises(RuntimeError, match="No forward traceback of Sqrt"):
        loss.backward()


def test_other_backward_errors_get_the_forward_traceback_as_a_note():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.detect_anomaly(check_nan=False):
        y = x.exp()  # saves its output
        loss = y.sum()
        with ad.no_grad():
            y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-place") as info:
            loss.backward()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "Traceback of forward call that created Exp:" in notes
    assert "y = x.exp()  # saves its output" in notes


def test_a_custom_function_with_a_nan_backward_is_named():
    class BadSquare(ad.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved
            return g * x / 0.0

    x = ad.tensor([0.0, 1.0], requires_grad=True)
    with ad.detect_anomaly(), np.errstate(all="ignore"), pytest.raises(RuntimeError) as info:
        BadSquare.apply(x).sum().backward()
    assert "Function 'BadSquareBackward' returned NaN values" in str(info.value)
    assert "BadSquare.apply(x).sum().backward()" in str(info.value)


def test_detect_anomaly_on_a_generator_function_holds_while_it_runs():
    @ad.detect_anomaly()
    def steps():
        yield ad.is_anomaly_enabled()

    it = steps()
    assert next(it) is True
    assert not ad.is_anomaly_enabled()  # the caller's mode is back at the yield
