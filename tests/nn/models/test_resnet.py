"""ResNets: the two residual blocks (identity and projection shortcuts), torchvision's layout,
parameter counts, initialisation, output shapes and one training step each."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn import init
from nn.models import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from tests.nn.models.checks import assert_trains, n_params


def _zero_convs(block):
    """Zero every convolution of the residual branch, so z[l+2] is the batch norms' bias."""
    for m in block.modules():
        if isinstance(m, nn.Conv2d) and m not in list(block.downsample or ()):
            init.zeros_(m.weight)
    return block


def test_basic_block_with_zero_weights_is_the_identity():
    # a[l+2] = g(z[l+2] + a[l]) with z[l+2] = 0: the block passes a[l] (>= 0 after a ReLU) on,
    # which is why adding blocks cannot make a ResNet worse
    block = _zero_convs(BasicBlock(8, 8)).eval()
    assert block.downsample is None
    a = ad.randn(2, 8, 5, 5).relu()
    np.testing.assert_array_equal(block(a).numpy(), a.numpy())


@pytest.mark.parametrize("block_type", [BasicBlock, Bottleneck])
def test_projection_shortcut_matches_the_shapes(block_type):
    out_channels = 16 * block_type.expansion
    w_s = nn.Sequential(
        nn.Conv2d(8, out_channels, 1, stride=2, bias=False), nn.BatchNorm2d(out_channels)
    )
    block = _zero_convs(block_type(8, 16, stride=2, downsample=w_s)).eval()
    a = ad.randn(2, 8, 7, 7)
    out = block(a)
    assert out.shape == (2, out_channels, 4, 4)
    # with the residual branch silenced, what is left is g(W_s a[l])
    np.testing.assert_allclose(out.numpy(), w_s(a).relu().numpy(), rtol=1e-6, atol=1e-6)


def test_block_forward_is_relu_of_branch_plus_shortcut():
    block = BasicBlock(4, 4).eval()
    x = ad.randn(1, 4, 6, 6)
    branch = block.bn2(block.conv2(block.bn1(block.conv1(x)).relu()))
    np.testing.assert_allclose(block(x).numpy(), (branch + x).relu().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("build", "count", "blocks"),
    [(resnet18, 11_689_512, (2, 2, 2, 2)), (resnet34, 21_797_672, (3, 4, 6, 3))],
)
def test_basic_resnets(build, count, blocks):
    model = build()
    assert n_params(model) == count
    stages = [model.layer1, model.layer2, model.layer3, model.layer4]
    assert tuple(len(s) for s in stages) == blocks
    assert all(isinstance(b, BasicBlock) for s in stages for b in s)
    # identity shortcuts everywhere but the first block of stages 2-4: a 1x1 stride-2 W_s
    assert model.layer1[0].downsample is None
    for stage, width in zip(stages[1:], (128, 256, 512), strict=True):
        w_s = stage[0].downsample[0]
        assert (w_s.kernel_size, w_s.stride, w_s.out_channels) == ((1, 1), (2, 2), width)
        assert all(b.downsample is None for b in stage[1:])


def test_resnet50_bottlenecks_stride_in_the_3x3():
    model = resnet50()
    assert n_params(model) == 25_557_032
    first = model.layer2[0]
    assert isinstance(first, Bottleneck)
    assert first.conv1.stride == (1, 1) and first.conv2.stride == (2, 2)
    assert [first.conv1.out_channels, first.conv2.out_channels, first.conv3.out_channels] == [
        128,
        128,
        512,
    ]
    # 64 -> 256 channels at stride 1 still needs a projection
    assert model.layer1[0].downsample[0].stride == (1, 1)
    assert model.fc.in_features == 2048


def test_resnet_shapes_through_the_stages():
    model = resnet18(num_classes=10).eval()
    shapes = []
    for stage in (model.maxpool, model.layer1, model.layer2, model.layer3, model.layer4):
        stage.register_forward_hook(lambda module, args, out: shapes.append(tuple(out.shape)))
    with ad.no_grad():
        assert model(ad.randn(2, 3, 64, 64)).shape == (2, 10)
    expected = [(64, 16), (64, 16), (128, 8), (256, 4), (512, 2)]
    assert shapes == [(2, c, s, s) for c, s in expected]


def test_resnet_has_torchvisions_initialisation():
    model = resnet18()
    conv = model.layer4[1].conv2  # 512 -> 512 3x3: fan_out 4,608
    assert abs(conv.weight.data.std() / np.sqrt(2 / 4_608) - 1) < 0.02
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all((m.weight.data == 1).all() and not m.bias.data.any() for m in bns)
    assert np.abs(model.fc.weight.data).max() <= 1 / np.sqrt(512)


def test_zero_init_residual_starts_every_block_as_the_identity():
    for model, last_bn in [
        (resnet18(zero_init_residual=True), "bn2"),
        (resnet50(zero_init_residual=True), "bn3"),
    ]:
        blocks = [b for s in (model.layer1, model.layer4) for b in s]
        assert all(not getattr(b, last_bn).weight.data.any() for b in blocks)
        assert (model.bn1.weight.data == 1).all()


@pytest.mark.parametrize("build", [resnet18, resnet34, resnet50])
def test_resnets_train(build):
    assert_trains(build(num_classes=10), (2, 3, 32, 32), 10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layers": (2, 2, 2)}, "layers must give 4 block counts"),
        ({"layers": (2, 0, 2, 2)}, "each count of layers must be an int >= 1"),
        ({"layers": (2, 2, 2, 2), "num_classes": 0}, "num_classes must be an int >= 1"),
    ],
)
def test_resnet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=f"ResNet: {message}"):
        ResNet(BasicBlock, **kwargs)
