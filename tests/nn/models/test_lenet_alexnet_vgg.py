"""LeNet-5, AlexNet and VGG: the course's layer sizes, parameter counts, output shapes and one
training step each."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.models import VGG, alexnet, lenet5, make_layers, vgg11, vgg16, vgg19
from tests.nn.models.checks import assert_normal, assert_trains, n_params


def _shapes_through(layers, x):
    """The output shape after each layer of a Sequential, without recording a graph."""
    shapes = []
    with ad.no_grad():
        for layer in layers:
            x = layer(x)
            shapes.append(tuple(x.shape))
    return shapes


@pytest.mark.parametrize(
    ("variant", "activation", "pool"),
    [("classic", nn.Tanh, nn.AvgPool2d), ("modern", nn.ReLU, nn.MaxPool2d)],
)
def test_lenet5_is_the_courses_network(variant, activation, pool):
    model = lenet5(variant)
    assert n_params(model) == 61_706
    per_layer = [n_params(m) for m in (*model.features, *model.classifier)]
    assert [n for n in per_layer if n] == [156, 2_416, 48_120, 10_164, 850]
    assert isinstance(model.features[1], activation) and isinstance(model.features[2], pool)
    x = ad.randn(2, 1, 32, 32)
    conv1, _, pool1, conv2, _, pool2 = _shapes_through(model.features, x)
    assert (conv1, pool1) == ((2, 6, 28, 28), (2, 6, 14, 14))
    assert (conv2, pool2) == ((2, 16, 10, 10), (2, 16, 5, 5))
    assert model(x).shape == (2, 10)


def test_lenet5_colour_input_and_classes():
    # the course's summary table counts CONV1 on 32x32x3 images: 456 parameters, 62,006 in all
    model = lenet5("modern", num_classes=5, in_channels=3)
    assert n_params(model.features[0]) == 456
    assert n_params(model) == 62_006 - 85 * 5
    assert model(ad.randn(1, 3, 32, 32)).shape == (1, 5)


def test_lenet5_rejects_an_unknown_variant():
    with pytest.raises(ValueError, match="LeNet5: variant must be one of"):
        lenet5("lecun")


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_lenet5_trains(variant):
    assert_trains(lenet5(variant), (4, 1, 32, 32), 10)


def test_alexnet_is_the_courses_network():
    model = alexnet()
    assert n_params(model) == 62_378_344
    shapes = _shapes_through(model.features, ad.randn(1, 3, 227, 227))
    assert [shapes[i] for i in (0, 2, 3, 5, 6, 8, 10, 12)] == [
        (1, 96, 55, 55),
        (1, 96, 27, 27),
        (1, 256, 27, 27),
        (1, 256, 13, 13),
        (1, 384, 13, 13),
        (1, 384, 13, 13),
        (1, 256, 13, 13),
        (1, 256, 6, 6),
    ]
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (9_216, 4_096),
        (4_096, 4_096),
        (4_096, 1_000),
    ]


def test_alexnet_trains_on_its_smallest_input():
    model = alexnet(num_classes=7)
    assert_trains(model, (2, 3, 67, 67), 7)
    with pytest.raises(ValueError):
        model(ad.randn(1, 3, 66, 66))


@pytest.fixture(scope="module")
def vgg16_model():
    """Built once: 138M parameters take seconds to draw."""
    return vgg16()


def test_vgg16_count_layout_and_shapes(vgg16_model):
    model = vgg16_model
    assert n_params(model) == 138_357_544
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6
    assert all(m.kernel_size == (3, 3) and m.padding == (1, 1) for m in convs)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.features) == 5
    with ad.no_grad():
        assert model.features(ad.randn(1, 3, 64, 64)).shape == (1, 512, 2, 2)
        assert model.eval()(ad.randn(2, 3, 32, 32)).shape == (2, 1000)


def assert_vgg_initialisation(model):
    """torchvision's: convolutions He-normal with fan_out (std sqrt(2 / (9 c_out))), linear
    layers N(0, 0.01^2), biases 0, batch norm weight 1 and bias 0 with fresh statistics."""
    kinds = set()
    for m in model.modules():
        kinds.add(type(m))
        if isinstance(m, nn.Conv2d):
            assert_normal(m.weight, np.sqrt(2 / (9 * m.out_channels)))
        elif isinstance(m, nn.Linear):
            assert_normal(m.weight, 0.01)
        elif isinstance(m, nn.BatchNorm2d):
            assert (m.weight.data == 1).all() and (m.running_var.data == 1).all()
            assert not m.running_mean.data.any() and m.num_batches_tracked.item() == 0
        if isinstance(m, nn.Conv2d | nn.Linear | nn.BatchNorm2d):
            assert not m.bias.data.any()
            assert m.weight.dtype == ad.float32 and m.weight.requires_grad
    assert {nn.Conv2d, nn.Linear} <= kinds


def test_vgg16_has_torchvisions_initialisation(vgg16_model):
    assert_vgg_initialisation(vgg16_model)


def test_vgg_with_batch_norm_has_torchvisions_initialisation():
    model = vgg11(batch_norm=True, num_classes=10)
    assert n_params(model) == 132_868_840 - 4_097 * 990
    assert_vgg_initialisation(model)


def test_vgg_without_init_weights_keeps_the_layers_defaults():
    model = VGG(make_layers((8, "M")), num_classes=3, init_weights=False)
    for m in (model.features[0], *model.classifier[::3]):
        bound = 1 / np.sqrt(m.weight[0].numel())  # PyTorch's default, U(-bound, bound)
        largest = np.abs(m.weight.data).max()
        assert 0.9 * bound < largest < bound * (1 + 1e-6) and m.bias.data.any()


def test_vgg16_trains(vgg16_model):
    assert_trains(vgg16_model, (2, 3, 32, 32), 1000)


def test_vgg19_count():
    # the initialisation redraws every weight; the count does not depend on it
    assert n_params(vgg19(init_weights=False)) == 143_667_240


@pytest.mark.parametrize(
    ("config", "batch_norm", "count"),
    [
        ((8, "M", 16), False, 8 * 27 + 8 + 16 * 72 + 16),
        ((8, "M", 16), True, 8 * 27 + 8 + 16 * 72 + 16 + 2 * (8 + 16)),
    ],
)
def test_make_layers(config, batch_norm, count):
    features = make_layers(config, batch_norm)
    assert n_params(features) == count
    kinds = [type(m).__name__ for m in features]
    bn = ["BatchNorm2d"] if batch_norm else []
    assert kinds == ["Conv2d", *bn, "ReLU", "MaxPool2d", "Conv2d", *bn, "ReLU"]
    assert features(ad.randn(1, 3, 6, 6)).shape == (1, 16, 3, 3)


def test_vgg_rejects_bad_num_classes():
    with pytest.raises(ValueError, match="vgg16: num_classes must be an int >= 1"):
        vgg16(num_classes=0)
