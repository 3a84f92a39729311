"""The Inception module and GoogLeNet: shapes, parameter counts, training, torchvision weights."""

import numpy as np
import pytest

import autodiff as ad
from nn.models import GoogLeNet, GoogLeNetOutputs, InceptionBlock, googlenet
from tests.nn.models.checks import (
    assert_matches,
    assert_trains,
    load_torchvision_weights,
    n_params,
    outputs_on_one_input,
)
from tests.torchvision_ref import torchvision


@pytest.mark.parametrize("kernel", [5, 3])
def test_inception_block_concatenates_the_four_branches(kernel):
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=kernel)
    y = block(ad.randn(2, 192, 7, 5))
    assert block.out_channels == 64 + 128 + 32 + 32
    assert y.shape == (2, 256, 7, 5)
    assert block.branch3[1].conv.weight.shape == (32, 16, kernel, kernel)


def test_inception_block_keeps_branch_order_on_the_channels():
    block = InceptionBlock(8, 2, 3, 4, 2, 5, 6).eval()
    x = ad.randn(1, 8, 4, 4)
    y = block(x).data
    parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    np.testing.assert_array_equal(y, np.concatenate([p.data for p in parts], axis=1))


def test_the_bottleneck_cuts_the_courses_5x5_cost_tenfold():
    """28x28x192 -> 28x28x32 by a 5x5: ~120M multiply-adds; through 16 channels: ~12.4M."""
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    reduce_, conv5 = (layer.conv.weight.shape for layer in block.branch3)
    positions = 28 * 28
    direct = positions * 32 * 5 * 5 * 192
    bottleneck = positions * (int(np.prod(reduce_)) + int(np.prod(conv5)))
    assert direct == 120_422_400
    assert bottleneck == 12_443_648


def test_inception_block_rejects_other_kernels():
    with pytest.raises(ValueError, match="InceptionBlock: branch3_kernel_size must be 3 or 5"):
        InceptionBlock(8, 2, 3, 4, 2, 5, 6, branch3_kernel_size=7)


def test_googlenet_parameter_counts():
    assert n_params(googlenet()) == 6_624_904
    assert n_params(googlenet(aux_logits=True)) == 13_004_888
    assert n_params(googlenet(num_classes=10)) == 6_624_904 - 1024 * 990 - 990


def test_googlenet_outputs_by_mode():
    model = googlenet(num_classes=7, aux_logits=True)
    x = ad.randn(2, 3, 64, 64)
    out = model(x)
    assert isinstance(out, GoogLeNetOutputs)
    assert [o.shape for o in out] == [(2, 7)] * 3
    assert model.eval()(x).shape == (2, 7)
    assert isinstance(googlenet(num_classes=7), GoogLeNet)
    # torchvision's smallest input
    assert googlenet(num_classes=7).eval()(ad.randn(1, 3, 15, 15)).shape == (1, 7)


def test_googlenet_pools_round_up():
    """ceil_mode=True: 64x64 -> 32 -> 16 (not 15) after maxpool1."""
    model = googlenet()
    assert model.maxpool1(model.conv1(ad.randn(1, 3, 64, 64))).shape == (1, 64, 16, 16)


@pytest.mark.parametrize("aux_logits", [False, True])
def test_googlenet_trains(aux_logits):
    assert_trains(googlenet(num_classes=5, aux_logits=aux_logits), (2, 3, 32, 32), 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 0}, "num_classes must be an int >= 1"),
        ({"num_classes": 2.0}, "num_classes must be an int >= 1"),
    ],
)
def test_googlenet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"googlenet: {message}"):
        googlenet(**kwargs)


@pytest.mark.parametrize("transform_input", [False, True])
def test_googlenet_loads_torchvision_weights(tmp_path, transform_input):
    tv = torchvision()
    import torch

    tv_model = tv.models.googlenet(
        weights=None, aux_logits=False, init_weights=True, transform_input=transform_input
    )
    ours = googlenet(transform_input=transform_input)
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    got, ref = outputs_on_one_input(torch, tv_model, ours, (1, 3, 64, 64))
    assert_matches(got.numpy(), ref.numpy())


def test_googlenet_auxiliary_heads_match_torchvision(tmp_path):
    """In training mode (batch statistics, dropout off) all three outputs agree."""
    tv = torchvision()
    import torch

    tv_model = tv.models.googlenet(
        weights=None, aux_logits=True, init_weights=True, dropout=0.0, dropout_aux=0.0
    )
    ours = googlenet(aux_logits=True, dropout=0.0, dropout_aux=0.0)
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    got, ref = outputs_on_one_input(torch, tv_model.train(), ours.train(), (2, 3, 64, 64))
    assert isinstance(got, GoogLeNetOutputs)
    for name in GoogLeNetOutputs._fields:
        assert_matches(getattr(got, name).numpy(), getattr(ref, name).numpy())
