"""MobileNet v1 and v2: blocks, parameter counts, training, torchvision weights."""

import numpy as np
import pytest

import autodiff as ad
from nn.models import (
    DepthwiseSeparable,
    InvertedResidual,
    MobileNetV2,
    mobilenet_v1,
    mobilenet_v2,
)
from tests.nn.models.checks import (
    assert_matches,
    assert_same_layout,
    assert_trains,
    load_torchvision_weights,
    n_params,
    outputs_on_one_input,
)
from tests.torchvision_ref import torchvision


@pytest.mark.parametrize(("stride", "size"), [(1, 9), (2, 5)])
def test_depthwise_separable_shapes(stride, size):
    block = DepthwiseSeparable(6, 10, stride)
    assert block(ad.randn(2, 6, 9, 9)).shape == (2, 10, size, size)
    assert block.depthwise[0].weight.shape == (6, 1, 3, 3)
    assert block.depthwise[0].groups == 6
    assert block.pointwise[0].weight.shape == (10, 6, 1, 1)


@pytest.mark.parametrize(("n_c", "n_c_out"), [(3, 5), (512, 512)])
def test_depthwise_separable_costs_the_courses_fraction(n_c, n_c_out):
    """Multiply-adds per output position equal the convolution weights' sizes (no bias)."""
    block = DepthwiseSeparable(n_c, n_c_out)
    separable = block.depthwise[0].weight.data.size + block.pointwise[0].weight.data.size
    normal = 3 * 3 * n_c * n_c_out
    assert separable / normal == pytest.approx(1 / n_c_out + 1 / 3**2)


def test_mobilenet_v1_parameter_counts_and_widths():
    assert n_params(mobilenet_v1()) == 4_231_976
    assert n_params(mobilenet_v1(num_classes=10)) == 4_231_976 - 1024 * 990 - 990
    for alpha in (0.75, 0.5, 0.25):
        model = mobilenet_v1(width_mult=alpha)
        assert model.features[0][0].out_channels == int(32 * alpha)
        assert model.classifier[-1].in_features == int(1024 * alpha)
    assert len(mobilenet_v1().features) == 14


def test_inverted_residual_adds_the_input_only_when_shapes_agree():
    block = InvertedResidual(8, 8, 1, expand_ratio=6).eval()
    x = ad.randn(2, 8, 5, 5)
    assert block.use_res_connect
    assert block.conv[0][0].weight.shape == (48, 8, 1, 1)
    np.testing.assert_allclose(block(x).data, x.data + block.conv(x).data, rtol=1e-6)
    assert not InvertedResidual(8, 8, 2, 6).use_res_connect
    assert not InvertedResidual(8, 16, 1, 6).use_res_connect
    assert InvertedResidual(8, 16, 2, 6)(x).shape == (2, 16, 3, 3)


def test_inverted_residual_projection_is_linear():
    """No activation after the projection: outputs go negative; t=1 has no expansion."""
    block = InvertedResidual(8, 16, 1, expand_ratio=1)
    assert len(block.conv) == 3
    assert block.conv[0][0].groups == 8
    y = block(ad.randn(4, 8, 5, 5))
    assert (y.data < 0).any()


def test_inverted_residual_bad_stride():
    with pytest.raises(ValueError, match="InvertedResidual: stride must be 1 or 2, got 3"):
        InvertedResidual(8, 8, 3, 6)


def test_mobilenet_v2_parameter_count():
    model = mobilenet_v2()
    assert isinstance(model, MobileNetV2)
    assert n_params(model) == 3_504_872
    assert len(model.features) == 19
    assert model.classifier[0].p == 0.2


@pytest.mark.parametrize("build", [mobilenet_v1, mobilenet_v2])
def test_mobilenet_output_shapes_and_training(build):
    model = build(num_classes=6)
    assert model.eval()(ad.randn(3, 3, 40, 40)).shape == (3, 6)
    assert model(ad.randn(1, 3, 1, 1)).shape == (1, 6)
    assert_trains(model, (2, 3, 32, 32), 6)


@pytest.mark.parametrize("build", [mobilenet_v1, mobilenet_v2])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 0}, "num_classes must be an int >= 1"),
        ({"width_mult": 0}, "width_mult must be a number > 0"),
        ({"width_mult": "1"}, "width_mult must be a number > 0"),
    ],
)
def test_mobilenet_bad_arguments(build, kwargs, message):
    with pytest.raises(ValueError, match=f"{build.__name__}: {message}"):
        build(**kwargs)


@pytest.mark.parametrize("width_mult", [0.5, 1.4])
def test_mobilenet_v2_widths_have_torchvisions_layout(width_mult):
    tv = torchvision()
    state = tv.models.mobilenet_v2(weights=None, width_mult=width_mult).state_dict()
    assert_same_layout(mobilenet_v2(width_mult=width_mult), state)


def test_mobilenet_v2_loads_torchvision_weights(tmp_path):
    tv = torchvision()
    import torch

    tv_model = tv.models.mobilenet_v2(weights=None)
    ours = mobilenet_v2()
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    got, ref = outputs_on_one_input(torch, tv_model, ours, (2, 3, 64, 64))
    assert_matches(got.numpy(), ref.numpy())
