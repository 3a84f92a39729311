"""The graph engine: backward, accumulation, grad mode, retain_graph, autodiff.grad."""

import threading

import numpy as np
import pytest

import autodiff as ad


def _leaf(values, dtype=np.float64):
    return ad.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- backward ------------------------------------------------------------------------------------


def test_course_example():
    a = ad.tensor(5.0, requires_grad=True)
    b = ad.tensor(3.0, requires_grad=True)
    c = ad.tensor(2.0, requires_grad=True)
    u = b * c
    v = a + u
    j = 3 * v
    j.backward()
    assert j.item() == 33.0
    assert (a.grad.item(), b.grad.item(), c.grad.item()) == (3.0, 6.0, 9.0)
    assert isinstance(a.grad, ad.Tensor) and a.grad.shape == () and a.grad.dtype == ad.float32
    assert u.grad is None and v.grad is None and j.grad is None  # non-leaves keep no grad
    assert a.is_leaf and not u.is_leaf and j.grad_fn is not None


def test_grads_accumulate_across_backward_calls():
    x = _leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    first = x.grad
    np.testing.assert_array_equal(first.data, [2.0, 4.0, 6.0])
    (x * 10).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [12.0, 14.0, 16.0])
    assert x.grad is first  # accumulated in place, as in PyTorch
    x.grad.zero_()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_a_node_used_twice_sums_its_gradients():
    x = _leaf([1.0, -2.0])
    y = x * 3
    z = y * y + y  # a diamond: y feeds two ops, and the second one twice
    z.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * (2 * 3 * x.data + 1))


def test_broadcast_gradients_are_summed_to_the_input_shape():
    x = _leaf(np.ones((3, 1)))
    b = _leaf(np.arange(4.0))
    s = _leaf(2.0)
    ((x + b) * s).sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,) and s.grad.shape == ()
    np.testing.assert_array_equal(x.grad.data, np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 6.0))
    assert s.grad.item() == np.sum(1 + np.arange(4.0)) * 3


def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates():
    a = _leaf(2.0)
    y = a * 3
    y.retain_grad()
    z = y * y
    z.backward(retain_graph=True)
    assert y.grad.item() == 12.0 and a.grad.item() == 36.0
    z.backward()
    assert y.grad.item() == 24.0 and a.grad.item() == 72.0  # both accumulate, as in PyTorch
    a.retain_grad()  # a no-op on a leaf
    assert a.grad.item() == 72.0


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = _leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        y.backward()
    y.backward(gradient=ad.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])
    y2 = x * 2
    y2.backward(np.array([1.0, 1.0]))  # an array works too
    np.testing.assert_array_equal(x.grad.data, [4.0, 22.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_of_a_single_element_tensor_of_any_shape():
    x = _leaf([[2.0]])
    (x * x).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 4.0


def test_backward_on_a_leaf_and_on_a_tensor_without_grad():
    x = _leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.tensor([1.0]).sum().backward()


def test_the_user_gradient_is_not_aliased():
    x = _leaf([1.0, 2.0])
    gradient = np.array([1.0, 1.0])
    (x + 0).backward(gradient)
    x.grad.data += 5
    np.testing.assert_array_equal(gradient, [1.0, 1.0])


def test_long_chain_backprops_without_recursion_error():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 200_001.0 and x.grad.item() == 1.0
    del y  # freeing the chain must not recurse either


def test_long_chain_is_freed_without_backward():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    del y


# ---- gradient buffers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: (a + b).reshape(6),
        lambda a, b: a.expand(2, 3) + b,
        lambda a, b: ad.cat([a, b]),
        lambda a, b: ad.where(np.ones((2, 3), bool), a, b),
    ],
    ids=["add", "sub", "reshape", "expand", "cat", "where"],
)
def test_leaf_grads_are_distinct_buffers(make):
    a, b = _leaf(np.ones((2, 3))), _leaf(np.ones((2, 3)))
    make(a, b).sum().backward()
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    before = b.grad.data.copy()
    a.grad.data += 100  # must not show in b.grad
    np.testing.assert_array_equal(b.grad.data, before)


def test_retained_and_leaf_grads_are_distinct_buffers():
    a = _leaf(np.ones(3))
    y = a + 0
    y.retain_grad()
    y.backward(np.ones(3))
    assert not np.shares_memory(y.grad.data, a.grad.data)


def test_grad_of_a_0d_result_is_an_ndarray():
    a = _leaf(2.0)
    (a * a).backward()
    assert type(a.grad.data) is np.ndarray and a.grad.shape == ()
    (g,) = ad.grad(a * a, a)
    assert type(g.data) is np.ndarray and g.item() == 4.0


# Add, Mul, Neg, Reciprocal, Exp, Log and Sqrt compute on float 0-d inputs as numpy scalars
# (Function.scalar_math)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_graph_of_scalars_keeps_arrays_dtypes_and_gradients(dtype):
    a, b, c = (ad.tensor(np.array(v, dtype), requires_grad=True) for v in (5.0, 3.0, 2.0))
    j = 3 * (a - b * c) / c + (-a)
    j.backward()
    assert type(j.data) is np.ndarray and j.dtype == dtype and j.item() == 3 * (5 - 6) / 2 - 5
    grads = [t.grad for t in (a, b, c)]
    assert all(type(g.data) is np.ndarray and g.dtype == dtype and g.shape == () for g in grads)
    # dJ/da = 3/c - 1, dJ/db = -3, dJ/dc = -3a/c**2
    assert [g.item() for g in grads] == [0.5, -3.0, -3.75]


def test_exp_log_and_sqrt_of_scalars():
    a, b = (ad.tensor(np.array(v, np.float64), requires_grad=True) for v in (0.5, 4.0))
    j = a.exp() * b.log() + b.sqrt()
    j.backward()
    assert type(j.data) is np.ndarray and j.dtype == np.float64
    np.testing.assert_allclose(j.item(), np.exp(0.5) * np.log(4.0) + 2.0)
    np.testing.assert_allclose(a.grad.item(), np.exp(0.5) * np.log(4.0))
    np.testing.assert_allclose(b.grad.item(), np.exp(0.5) / 4.0 + 0.5 / 2.0)


def test_a_scalar_saved_for_backward_and_written_in_place_is_refused():
    a = ad.tensor(2.0, requires_grad=True)
    b = ad.tensor(3.0)
    y = a * b  # saves b (a copy, as a numpy scalar) for a's gradient
    b += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_0d_integers_wrap_around_without_a_warning_as_arrays_do():
    x = ad.tensor(np.array(100, np.int8))
    with np.errstate(all="raise"):  # numpy's scalar math would raise here on overflow
        y = x + x
    assert type(y.data) is np.ndarray and y.dtype == np.int8 and y.item() == -56


# ---- grad mode -----------------------------------------------------------------------------------


def test_no_grad_and_enable_grad_as_context_managers():
    x = _leaf([1.0])
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            assert ad.is_grad_enabled()
            z = x * 2
            with ad.no_grad():
                w = x * 2
            assert ad.is_grad_enabled()
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert not w.requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(KeyError), ad.no_grad():
        raise KeyError
    assert ad.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = _leaf([1.0])

    @ad.no_grad()
    def frozen(n):
        assert not ad.is_grad_enabled()
        return thawed() if n == 0 else frozen(n - 1)  # recursion re-enters the decorator

    @ad.enable_grad()
    def thawed():
        assert ad.is_grad_enabled()
        return x * 2

    y = frozen(3)
    assert ad.is_grad_enabled()  # restored after the recursive calls unwound
    assert y.requires_grad  # enable_grad inside no_grad records
    assert frozen.__name__ == "frozen"  # the decorator keeps the function's metadata


def test_one_no_grad_instance_entered_twice():
    guard = ad.no_grad()
    with guard:
        with guard:
            pass
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []

    def worker():
        seen.append(ad.is_grad_enabled())

    with ad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]


def test_detach_cuts_the_graph_and_shares_data():
    x = _leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    (y * d).sum().backward()  # d is a constant: d/dx (3x * d) = 3 d
    np.testing.assert_array_equal(x.grad.data, 3 * d.data)


def test_requires_grad_():
    x = ad.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    x.requires_grad_(False)
    assert not (x * x).requires_grad
    y = _leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_ops_on_tensors_without_grad_record_nothing():
    y = ad.tensor([1.0]) * ad.tensor([2.0])
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


# ---- retain_graph --------------------------------------------------------------------------------


def test_second_backward_needs_retain_graph():
    x = _leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = _leaf([1.0, 2.0])
    y = (x * x).exp().sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# ---- autodiff.grad -------------------------------------------------------------------------------


def test_grad_returns_gradients_without_touching_dot_grad():
    x = _leaf([1.0, 2.0])
    w = _leaf([3.0, 4.0])
    h = x * w  # a non-leaf input
    out = (h * h).sum()
    gx, gh, gw = ad.grad(out, [x, h, w])
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 2 * h.data * w.data)
    np.testing.assert_allclose(gw.data, 2 * h.data * x.data)
    assert x.grad is None and w.grad is None and h.grad is None
    assert isinstance(gx, ad.Tensor) and not gx.requires_grad


def test_grad_with_a_single_tensor_and_grad_outputs():
    x = _leaf([1.0, 2.0])
    y = x * x
    (g,) = ad.grad(y, x, grad_outputs=[np.array([1.0, 10.0])])
    np.testing.assert_allclose(g.data, [2.0, 40.0])
    with pytest.raises(RuntimeError, match="gradient="):
        ad.grad(x * x, x)


def test_grad_of_several_outputs_sums():
    x = _leaf([1.0, 2.0])
    gx = ad.grad([x.sum(), (x * x).sum()], [x])[0]
    np.testing.assert_allclose(gx.data, 1 + 2 * x.data)


def test_grad_allow_unused():
    x, unused = _leaf([1.0]), _leaf([2.0])
    out = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ad.grad(out, [x, unused], retain_graph=True)
    gx, gu = ad.grad(out, [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_retain_graph():
    x = _leaf([1.0, 2.0])
    out = (x * x).sum()
    ad.grad(out, x, retain_graph=True)
    (g,) = ad.grad(out, x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        ad.grad(out, x)


def test_grad_refuses_inputs_or_outputs_without_grad():
    x = _leaf([1.0])
    with pytest.raises(RuntimeError, match="input 0"):
        ad.grad((x * 2).sum(), ad.tensor([1.0]))
    with pytest.raises(RuntimeError, match="output 0"):
        ad.grad(ad.tensor(1.0), x)


def test_grad_does_not_touch_retained_grads():
    x = _leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    ad.grad(y.sum(), x)
    assert y.grad is None and x.grad is None


def test_gradients_match_torch_on_a_small_network():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((5, 4), (4, 3), (3,), (3, 2))]
    ours = [ad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def net(x, w1, b1, w2, lib):
        h = lib.tanh(x @ w1 + b1)
        logits = h @ w2
        return (lib.log_softmax(logits, -1) * (h.sum(-1, keepdim=True) ** 2)).mean()

    net(*ours, ad).backward()
    net(*theirs, torch).backward()
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)
