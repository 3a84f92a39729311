"""The kernels' kept output arrays: reused only once nothing refers to them."""

import threading

import numpy as np
import pytest

import autodiff as ad
from autodiff import runtime
from autodiff.kernels import _config, buffers, elementwise

LARGE = (256, 512)  # 512 KiB of float32: kept
SMALL = (16, 16)


@pytest.fixture(autouse=True)
def fresh_keeper(monkeypatch):
    """Each test starts with nothing kept and the default settings."""
    monkeypatch.setattr(_config, "BUFFER_REUSE", True)
    buffers.release()
    yield
    buffers.release()


def test_a_free_array_is_handed_out_again():
    a = buffers.empty(LARGE, np.float32)
    assert a.shape == LARGE and a.dtype == np.float32 and a.flags.c_contiguous
    assert a.flags.owndata  # as np.empty: the engine hands it out as .grad without a copy
    first = id(a)
    del a
    assert id(buffers.empty(LARGE, np.float32)) == first


def test_an_array_something_refers_to_is_not_reused():
    a = buffers.empty(LARGE, np.float32)
    view = a.reshape(-1)[10:]  # a view refers to the array, not to `a` the name
    tensor = ad.Tensor(buffers.empty(LARGE, np.float32))  # a tensor's data
    b_id = id(tensor.data)
    del a
    taken = [buffers.empty(LARGE, np.float32) for _ in range(2)]
    assert all(t.base is None and t is not view.base for t in taken)
    assert all(id(t) != b_id for t in taken)
    del view
    assert buffers.empty(LARGE, np.float32).base is None


def test_kinds_do_not_mix_and_small_arrays_are_not_kept():
    a = buffers.empty(LARGE, np.float32)
    del a
    other = buffers.empty(LARGE, np.float64)
    assert other.dtype == np.float64 and other.shape == LARGE
    assert buffers.kept_bytes() == 512 * 2**10 * 3
    small = buffers.empty(SMALL, np.float32)
    assert small.shape == SMALL and buffers.kept_bytes() == 512 * 2**10 * 3


def test_a_locked_or_reshaped_array_comes_back_usable():
    a = buffers.empty(LARGE, np.float32)
    a.flags.writeable = False
    del a
    again = buffers.empty(LARGE, np.float32)
    assert again.flags.writeable
    again.shape = (512, 256)  # reshaped in place by its last owner
    del again
    b = buffers.empty(LARGE, np.float32)
    assert b.shape == LARGE


def test_release_gives_back_the_free_arrays_only():
    in_use = buffers.empty(LARGE, np.float32)
    free = buffers.empty(LARGE, np.float32)
    del free
    assert runtime.release_buffers() == buffers.kept_bytes() == in_use.nbytes
    in_use[:] = 1  # still the caller's
    assert np.all(in_use == 1)


def test_the_cap_drops_free_arrays_first_then_keeps_nothing_more(monkeypatch):
    monkeypatch.setattr(_config, "BUFFER_KEPT_BYTES", 3 * 512 * 2**10)
    a, b = buffers.empty(LARGE, np.float32), buffers.empty(LARGE, np.float32)
    del b
    c = buffers.empty((512, 512), np.float32)  # 1 MiB: drops the free one to fit
    assert buffers.kept_bytes() == a.nbytes + c.nbytes
    d = buffers.empty(LARGE, np.float32)  # over the cap with nothing free: not kept
    assert d.flags.owndata and buffers.kept_bytes() == a.nbytes + c.nbytes
    del a, c
    assert runtime.release_buffers() == 0  # the count matches what is kept


def test_switched_off_the_free_arrays_go_and_nothing_more_is_kept():
    before = runtime.settings()["buffers"]
    buffers.empty(LARGE, np.float32)  # kept, and free at once
    assert buffers.kept_bytes() > 0
    try:
        runtime.configure(buffers=False)
        assert runtime.settings()["buffers"] is False and buffers.kept_bytes() == 0
        a = buffers.empty(LARGE, np.float32)
        assert a.shape == LARGE and buffers.kept_bytes() == 0
    finally:
        runtime.configure(buffers=before)


def test_threads_never_share_an_array_in_use():
    held, errors = [], []

    def work(k):
        try:
            for _ in range(200):
                a = buffers.empty(LARGE, np.float32)
                a.fill(k)
                held.append(a)  # list.append is atomic: some arrays stay in use
                if not np.all(a == k):
                    errors.append(k)
                if len(held) > 8:
                    held.pop(0)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors


def test_a_kernel_output_is_reused_and_a_held_gradient_is_never_written():
    x = ad.tensor(np.linspace(-1, 1, 2**17, dtype=np.float32), requires_grad=True)
    (x.relu() * 2).sum().backward()
    grad = x.grad.data  # a kept array (relu's backward), now x's .grad
    expected = grad.copy()
    x.grad = None  # the user still holds `grad`
    for _ in range(3):  # the same shapes again: reused arrays, but never `grad`
        (x.relu() * 3).sum().backward()
        x.grad = None
    np.testing.assert_array_equal(grad, expected)
    out = elementwise.relu_forward(x.data)
    first = id(out)
    del out
    assert id(elementwise.relu_forward(x.data)) == first
