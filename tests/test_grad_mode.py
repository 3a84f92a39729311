"""Grad mode as PyTorch's: no_grad with or without parentheses, on generators too;
inference_mode and set_grad_enabled."""

import threading

import pytest

import autodiff as ad


def test_no_grad_bare_and_called():
    @ad.no_grad
    def bare():
        return ad.is_grad_enabled()

    @ad.no_grad()
    def called():
        return ad.is_grad_enabled()

    assert bare() is False and called() is False and ad.is_grad_enabled()
    assert bare.__name__ == "bare"


def test_no_grad_on_a_generator_function_holds_while_it_runs():
    @ad.no_grad()
    def steps():
        received = yield ad.is_grad_enabled()
        yield received, ad.is_grad_enabled()
        return "done"

    it = steps()
    assert next(it) is False
    assert ad.is_grad_enabled()  # the caller's mode is back at each yield
    assert it.send("x") == ("x", False)
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"


def test_no_grad_generator_records_no_graph_and_passes_exceptions_in():
    x = ad.ones(2, requires_grad=True)

    @ad.no_grad
    def doubled():
        try:
            while True:
                yield x * 2
        except KeyError:
            yield "caught"

    it = doubled()
    assert not next(it).requires_grad
    assert it.throw(KeyError("k")) == "caught"
    it.close()
    assert ad.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    with ad.no_grad():

        @ad.enable_grad
        def f():
            return ad.is_grad_enabled()

        assert f() is True and not ad.is_grad_enabled()


def test_inference_mode():
    x = ad.ones(2, requires_grad=True)
    with ad.inference_mode():
        assert not (x * 2).requires_grad
    with ad.inference_mode(False):
        assert (x * 2).requires_grad

    @ad.inference_mode
    def f():
        return ad.is_grad_enabled()

    @ad.inference_mode()
    def g():
        return ad.is_grad_enabled()

    assert f() is False and g() is False and ad.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    ad.set_grad_enabled(False)
    assert not ad.is_grad_enabled()
    ad.set_grad_enabled(True)
    with ad.set_grad_enabled(False):
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()
    with ad.no_grad(), ad.set_grad_enabled(True):
        assert ad.is_grad_enabled()

    @ad.set_grad_enabled(False)
    def f():
        return ad.is_grad_enabled()

    assert ad.is_grad_enabled() and f() is False and ad.is_grad_enabled()


def test_modes_are_per_thread():
    seen = []
    with ad.no_grad():
        t = threading.Thread(target=lambda: seen.append(ad.is_grad_enabled()))
        t.start()
        t.join(timeout=10)
    assert seen == [True]


def test_inference_mode_false_turns_grad_on_as_in_pytorch():
    with ad.no_grad(), ad.inference_mode(False):
        assert ad.is_grad_enabled()

    @ad.inference_mode(False)
    def f():
        return ad.is_grad_enabled()

    with ad.no_grad():
        assert f() is True
