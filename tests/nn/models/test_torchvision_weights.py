"""torchvision's VGG and ResNet weights load into ours and give torchvision's outputs.

Each test takes a randomly initialised torchvision model, moves its batch-norm running
statistics off their initial values, converts it with the documented two lines
(`nn.save({k: v.numpy() for k, v in tv_model.state_dict().items()}, path)`, then
`ours.load_state_dict(nn.load(path))`) and compares the eval-mode outputs in float32. Skipped
where torchvision cannot be imported.
"""

import pytest

from nn import models
from nn.models.vgg import _CONFIGS, make_layers
from tests.nn.models.checks import (
    assert_matches,
    assert_same_layout,
    load_torchvision_weights,
    outputs_on_one_input,
)
from tests.torchvision_ref import torchvision


def _random_affine(torch, tv_model):
    """Batch-norm weights and biases away from 1 and 0, so that a mix-up of the two shows."""
    with torch.no_grad():
        for m in tv_model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_resnet_loads_torchvision_weights(name, tmp_path):
    tv = torchvision()
    import torch

    torch.manual_seed(0)
    tv_model = getattr(tv.models, name)(weights=None)
    _random_affine(torch, tv_model)
    ours = getattr(models, name)()
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    assert ours.layer1[0].bn1.num_batches_tracked.item() == 2
    got, ref = outputs_on_one_input(torch, tv_model, ours, (2, 3, 64, 64))
    assert_matches(got.numpy(), ref.numpy())


def test_resnet18_training_mode_matches_torchvision(tmp_path):
    # batch statistics in the forward pass, and the running statistics they update
    tv = torchvision()
    import torch

    torch.manual_seed(0)
    tv_model = tv.models.resnet18(weights=None, num_classes=10)
    _random_affine(torch, tv_model)
    ours = models.resnet18(num_classes=10)
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    tv_model.train()
    got, ref = outputs_on_one_input(torch, tv_model, ours.train(), (4, 3, 32, 32))
    assert_matches(got.numpy(), ref.numpy())
    tv_state = tv_model.state_dict()
    for key, value in ours.state_dict().items():
        if "running" in key or "num_batches" in key:
            assert_matches(value.numpy(), tv_state[key].numpy())


@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg16_loads_torchvision_weights(batch_norm, tmp_path):
    tv = torchvision()
    import torch

    torch.manual_seed(0)
    tv_model = (tv.models.vgg16_bn if batch_norm else tv.models.vgg16)(weights=None)
    _random_affine(torch, tv_model)
    # the weights are loaded next, so the initialisation is skipped
    ours = models.vgg16(batch_norm=batch_norm, init_weights=False)
    load_torchvision_weights(torch, tv_model, ours, tmp_path / "w.npz")
    got, ref = outputs_on_one_input(torch, tv_model, ours, (2, 3, 32, 32))
    assert_matches(got.numpy(), ref.numpy())


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize(("depth", "config"), [(11, "A"), (13, "B"), (16, "D"), (19, "E")])
def test_vgg_features_have_torchvisions_layout(depth, config, batch_norm):
    # the classifier is the same for every depth and is compared by the vgg16 tests
    tv = torchvision()
    vgg = tv.models.vgg
    state = vgg.make_layers(vgg.cfgs[config], batch_norm=batch_norm).state_dict()
    assert_same_layout(make_layers(_CONFIGS[depth], batch_norm), state)
