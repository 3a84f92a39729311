"""Tensor basics as PyTorch's: dtype and device conversions, Python numbers, new tensors."""

import operator

import numpy as np
import pytest

import autodiff as ad


def test_dtype_methods_match_torch():
    torch = pytest.importorskip("torch")
    values = [[1.7, -2.2], [0.0, 3.9]]
    x, tx = ad.tensor(values), torch.tensor(values)
    for name in ("long", "int", "short", "char", "byte", "bool", "float", "double", "half"):
        ours, theirs = getattr(x, name)(), getattr(tx, name)()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), name
        np.testing.assert_array_equal(ours.data.astype(np.float64), theirs.double().numpy())


def test_casts_to_integers_never_require_grad():
    x = ad.tensor([1.5, -2.5], requires_grad=True)
    for y in (x.long(), x.int(), x.bool(), x.to(ad.int64), x.type(ad.int32), x.to(x.long())):
        assert not y.requires_grad and y.grad_fn is None
    y = x.double()
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == ad.float32
    np.testing.assert_array_equal(x.grad.data, [1, 1])


def test_to_accepts_device_dtype_tensor_and_copy():
    x = ad.tensor([1.0, 2.0])
    assert x.to("cpu") is x
    assert x.to(ad.device("cpu")) is x
    assert x.to("cpu", ad.float64).dtype == ad.float64
    assert x.to(device="cpu", dtype=ad.int64).dtype == ad.int64
    assert x.to(ad.tensor([1], dtype=ad.int32)).dtype == ad.int32
    copied = x.to("cpu", copy=True)
    assert copied is not x and not np.shares_memory(copied.data, x.data)
    assert x.cpu() is x and x.device == "cpu" and str(x.device) == "cpu" and not x.is_cuda


@pytest.mark.parametrize("dev", ["cuda", "cuda:0", "mps"])
def test_other_devices_are_refused_clearly(dev):
    x = ad.ones(2)
    for call in (
        lambda: x.to(dev),
        lambda: ad.zeros(2, device=dev),
        lambda: ad.tensor([1.0], device=dev),
        lambda: x.new_zeros(2, device=dev),
        lambda: x.cuda(),
    ):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()
    assert not ad.cuda.is_available() and ad.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda("cpu")  # never a silent None: there is no CUDA device to move to


def test_device_objects():
    assert ad.device("cpu") == "cpu" == ad.device(ad.device("cpu"))
    assert repr(ad.device("cuda:1")) == "device(type='cuda', index=1)"
    assert ad.device("cuda", 0).index == 0
    with pytest.raises(ValueError):
        ad.device("not a device")


def test_type_names():
    assert ad.ones(1).type() == "autodiff.FloatTensor"
    assert ad.ones(1).long().type() == "autodiff.LongTensor"
    assert ad.ones(1).type("torch.DoubleTensor").dtype == ad.float64
    assert ad.ones(1).type(ad.int16).dtype == ad.int16
    assert ad.ones(2).type_as(ad.zeros(1, dtype=ad.float64)).dtype == ad.float64


def test_python_numbers():
    assert float(ad.tensor([2.5])) == 2.5
    assert int(ad.tensor(7.9)) == 7
    assert operator.index(ad.tensor(3)) == 3
    assert [10, 20, 30][ad.tensor(1)] == 20
    assert f"{ad.tensor(3.14159):.3f}" == "3.142"
    assert f"{ad.tensor(2)}" == "2"  # a 0-d tensor formats as its number, as in PyTorch
    assert f"{ad.tensor([1.0, 2.0])}" == repr(ad.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="one element"):
        float(ad.ones(2))
    with pytest.raises(TypeError, match="integer"):
        operator.index(ad.tensor(1.0))
    with pytest.raises(TypeError, match="format spec"):
        f"{ad.ones(2):.2f}"  # noqa: B018


def test_dim_numel_contiguous():
    x = ad.ones(2, 3)
    assert x.dim() == x.ndimension() == 2 and x.numel() == 6 == ad.numel(x)
    assert x.is_contiguous() and x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.shape == (3, 2)
    assert ad.is_tensor(x) and not ad.is_tensor(x.data)
    assert ad.is_floating_point(x) and not x.long().is_floating_point()
    assert x.element_size() == 4


def test_clone_and_contiguous_are_in_the_graph():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(y.data, x.data)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    x.grad = None
    x.T.contiguous().sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_new_tensors_take_this_tensors_dtype():
    x = ad.ones(2, dtype=ad.float64)
    assert x.new_zeros(2, 3).dtype == ad.float64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(4).data.tolist() == [1, 1, 1, 1]
    full = x.new_full((2,), 7)
    assert full.dtype == ad.float64 and full.data.tolist() == [7, 7]
    assert x.new_empty(3).shape == (3,)
    assert x.new_tensor([1, 2]).dtype == ad.float64
    assert x.new_zeros(2, dtype=ad.int64).dtype == ad.int64
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_shapes_of_another_tensor():
    x = ad.tensor([[1.0], [2.0]])
    assert x.expand_as(ad.ones(2, 3)).shape == (2, 3)
    assert x.view_as(ad.ones(1, 2)).shape == (1, 2)
    assert x.reshape_as(ad.ones(2)).shape == (2,)


def test_assigning_a_tensor_to_data_keeps_an_array():
    x = ad.ones(3, requires_grad=True)
    x.data = ad.zeros(2)
    assert type(x.data) is np.ndarray and x.shape == (2,)
    x.data = np.full(2, 5.0, np.float32)
    assert x.data.tolist() == [5.0, 5.0]
    with pytest.raises(TypeError, match="ndarray"):
        x.data = [1.0, 2.0]


def test_dtype_aliases():
    assert ad.long == ad.int64 and ad.float == ad.float32 and ad.double == ad.float64
    assert ad.half == ad.float16 and ad.int == ad.int32 and ad.short == ad.int16
    assert ad.get_default_dtype() == ad.float32
    assert ad.zeros(2, dtype=float).dtype == ad.float64  # Python's float is float64, as torch


def test_float16_holds_data_but_cannot_require_grad():
    x = ad.ones(2).half()
    assert x.dtype == ad.float16
    with pytest.raises(TypeError, match="float16"):
        x.requires_grad_()


def test_backend_switches_and_size_run_as_in_pytorch_scripts():
    ad.backends.cudnn.benchmark = True  # a common line in training scripts; no effect here
    assert not ad.backends.cudnn.is_available() and not ad.backends.mps.is_available()
    assert ad.ones(2, 3).shape == ad.Size([2, 3]) and isinstance(ad.ones(1).shape, ad.Size)


def test_repr_shows_the_dtype_where_pytorch_does():
    assert repr(ad.tensor([True])) == "tensor([ True])"
    assert repr(ad.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(ad.tensor([1.0], dtype=ad.float64))
    assert "dtype=int32" in repr(ad.tensor([1], dtype=ad.int32))
