"""Clear errors for input of the wrong type, and PyTorch's results for empty input (issue 12,
defect 8): a list into `F.linear`/`nn.Linear`, softmax over a zero-length dim, batch norm on an
empty batch."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import functional as F

LINEAR_ERROR = "linear: input, weight and bias must be Tensors"


@pytest.mark.parametrize(
    "call",
    [
        lambda w, b: F.linear([1.0, 2.0], w, b),
        lambda w, b: F.linear(ad.ones(2), w.data, b),
        lambda w, b: F.linear(ad.ones(2), w, [0.0, 0.0, 0.0]),
    ],
    ids=["list-input", "ndarray-weight", "list-bias"],
)
def test_linear_names_an_argument_that_is_not_a_tensor(call):
    layer = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=LINEAR_ERROR):
        call(layer.weight, layer.bias)


def test_linear_layer_called_on_a_list():
    with pytest.raises(TypeError, match=f"{LINEAR_ERROR}.*got list, Parameter, Parameter"):
        nn.Linear(2, 3)([1.0, 2.0])


SOFTMAXES = {"softmax": F.softmax, "log_softmax": F.log_softmax, "softmin": F.softmin}


@pytest.mark.parametrize("fn", SOFTMAXES.values(), ids=SOFTMAXES.keys())
@pytest.mark.parametrize(("shape", "dim"), [((2, 0), 1), ((2, 0, 3), 1), ((0, 3), 0)])
@pytest.mark.filterwarnings("error")
def test_softmax_over_a_zero_length_dim_is_empty(fn, shape, dim):
    x = ad.tensor(np.ones(shape, np.float32), requires_grad=True)
    y = fn(x, dim=dim)
    assert y.shape == shape and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == shape


def _torch_batch_norm(shape, training):
    torch = pytest.importorskip("torch")
    layer = (torch.nn.BatchNorm1d if len(shape) < 4 else torch.nn.BatchNorm2d)(3)
    layer.train(training)
    x = torch.zeros(shape, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    return y, layer


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 5), (0, 3, 4, 4), (2, 3, 0, 4)])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_on_an_empty_batch_gives_an_empty_output_as_torch(shape, training):
    layer = (nn.BatchNorm1d if len(shape) < 4 else nn.BatchNorm2d)(3)
    layer.train(training)
    x = ad.tensor(np.zeros(shape, np.float32), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    assert y.shape == shape and y.dtype == np.float32
    assert x.grad.shape == shape
    np.testing.assert_array_equal(layer.weight.grad.data, np.zeros(3, np.float32))
    np.testing.assert_array_equal(layer.running_mean.data, np.zeros(3, np.float32))
    np.testing.assert_array_equal(layer.running_var.data, np.ones(3, np.float32))
    assert layer.num_batches_tracked.item() == int(training)

    theirs, their_layer = _torch_batch_norm(shape, training)
    assert tuple(theirs.shape) == y.shape
    assert their_layer.num_batches_tracked.item() == layer.num_batches_tracked.item()
    np.testing.assert_array_equal(their_layer.running_mean.numpy(), layer.running_mean.data)


@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_of_an_empty_batch_is_empty_as_torch(training):
    torch = pytest.importorskip("torch")
    mean, var = ad.zeros(3), ad.ones(3)
    x = ad.zeros(0, 3, 4, requires_grad=True)
    weight, bias = ad.ones(3, requires_grad=True), ad.zeros(3, requires_grad=True)
    out = F.batch_norm(x, mean, var, weight, bias, training=training)
    expected = torch.nn.functional.batch_norm(
        torch.zeros(0, 3, 4), torch.zeros(3), torch.ones(3), training=training
    )
    assert out.shape == tuple(expected.shape) and out.dtype == ad.float32
    out.sum().backward()
    assert x.grad.shape == (0, 3, 4)
    assert weight.grad.data.tolist() == bias.grad.data.tolist() == [0, 0, 0]  # as torch's
    assert mean.data.tolist() == [0, 0, 0] and var.data.tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    "make",
    [
        lambda dtype: nn.Linear(2, 3, dtype=dtype),
        lambda dtype: nn.Conv2d(1, 2, 3, dtype=dtype),
        lambda dtype: nn.ConvTranspose2d(1, 2, 3, dtype=dtype),
        lambda dtype: nn.BatchNorm2d(3, dtype=dtype),
        lambda dtype: nn.LayerNorm(3, dtype=dtype),
        lambda dtype: nn.GroupNorm(1, 3, dtype=dtype),
        lambda dtype: nn.Embedding(3, 4, dtype=dtype),
        lambda dtype: nn.PReLU(dtype=dtype),
    ],
)
def test_a_layer_refuses_integer_parameters_and_keeps_float64(make):
    with pytest.raises(TypeError, match=r"parameters must be float32 or float64, got dtype int64"):
        make("int64")
    assert all(p.dtype == np.float64 for p in make("float64").parameters())


@pytest.mark.parametrize(
    "shape, start, expected", [((0, 16, 5, 5), 1, (0, 400)), ((2, 3, 0), 1, (2, 0))]
)
def test_flatten_of_an_empty_tensor_keeps_its_sizes_as_torch(shape, start, expected):
    assert ad.zeros(*shape).flatten(start).shape == expected
    assert nn.Flatten(start)(ad.zeros(*shape)).shape == expected
