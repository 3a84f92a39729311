import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import optim
from autodiff.data import DataLoader, TensorDataset
from nn.models import param_groups, precompute_features, replace_head, trainable_parameters


def _backbone():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.5),
        nn.Flatten(),
    )


def _vgg_like(num_classes=10, seed=0):
    """A backbone and a `classifier` Sequential whose last layer is the head."""
    ad.manual_seed(seed)
    return nn.Sequential(
        _backbone(),
        nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, num_classes)),
    )


class _ResNetLike(nn.Module):
    """torchvision's layout: the head is the attribute `fc`, registered last."""

    def __init__(self):
        super().__init__()
        self.features = _backbone()
        self.fc = nn.Linear(16, 10, bias=False)

    def forward(self, x):
        return self.fc(self.features(x))


def _data(n=7, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 4, 4)).astype(np.float32)
    return x, rng.integers(0, 5, n)


def test_replace_head_swaps_the_last_linear_of_a_classifier():
    model = _vgg_like().double()
    old = model[1][2]
    head = replace_head(model, 5)
    assert model[1][2] is head and head is not old
    assert (head.in_features, head.out_features) == (8, 5)
    assert head.weight.dtype == np.float64 and head.bias is not None
    assert head.weight.requires_grad
    assert all(p is not old.weight for p in model.parameters())
    assert [k for k in model.state_dict() if k.startswith("1.")][-2:] == ["1.2.weight", "1.2.bias"]
    x, _ = _data()
    assert model.eval()(ad.tensor(x).double()).shape == (7, 5)


def test_replace_head_of_an_fc_attribute_keeps_bias_setting():
    model = _ResNetLike()
    head = replace_head(model, 3)
    assert model.fc is head and head.bias is None and head.weight.shape == (3, 16)
    assert list(model.state_dict())[-1] == "fc.weight"


def test_replace_head_errors():
    with pytest.raises(ValueError, match="replace_head: Sequential has no nn.Linear"):
        replace_head(_backbone(), 3)
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
            replace_head(_vgg_like(), bad)


def test_freeze_then_replace_leaves_only_the_head_trainable():
    model = _vgg_like()
    model.requires_grad_(False)
    head = replace_head(model, 5)
    assert [id(p) for p in trainable_parameters(model)] == [id(head.weight), id(head.bias)]
    model[1].requires_grad_(True)
    assert len(trainable_parameters(model)) == 4


def test_param_groups_give_the_backbone_its_own_learning_rate():
    model = _vgg_like()
    model[0].requires_grad_(False)
    head = replace_head(model, 5)
    groups = param_groups(model, head, lr=0.1, backbone_lr=0.01)
    assert [g["lr"] for g in groups] == [0.01, 0.1]
    assert len(groups[0]["params"]) == 6 and len(groups[1]["params"]) == 2
    optimizer = optim.SGD(groups, lr=0.5)
    before = [p.data.copy() for p in model.parameters()]
    x, y = _data()
    F.cross_entropy(model(ad.tensor(x)), ad.tensor(y)).backward()
    grads = [None if p.grad is None else p.grad.data.copy() for p in model.parameters()]
    optimizer.step()
    lrs = [0.01] * 6 + [0.1] * 2
    for p, p0, g, lr in zip(model.parameters(), before, grads, lrs, strict=True):
        expected = p0 if g is None else p0 - lr * g  # frozen: no gradient, not updated
        np.testing.assert_allclose(p.data, expected, rtol=1e-6)
    assert sum(g is None for g in grads) == 4  # the frozen conv and batch norm
    # unfreezing needs no new optimizer: the conv now trains at the backbone rate
    model[0].requires_grad_(True)
    optimizer.zero_grad()
    conv = model[0][0].weight
    w0 = conv.data.copy()
    F.cross_entropy(model(ad.tensor(x)), ad.tensor(y)).backward()
    g = conv.grad.data.copy()
    optimizer.step()
    np.testing.assert_allclose(conv.data, w0 - 0.01 * g, rtol=1e-6)


def test_param_groups_errors_and_a_model_that_is_all_head():
    model = _vgg_like()
    with pytest.raises(ValueError, match=r"param_groups: head parameters of shapes \[\(5, 8\)"):
        param_groups(model, nn.Linear(8, 5), lr=0.1, backbone_lr=0.01)
    linear = nn.Linear(3, 2)
    assert param_groups(linear, linear, lr=0.1, backbone_lr=0.0) == [
        {"params": [linear.weight, linear.bias], "lr": 0.1}
    ]


def test_head_on_cached_features_gets_the_gradients_of_head_on_frozen_backbone():
    backbone = _backbone()
    backbone(ad.tensor(_data(20, seed=1)[0]))  # move batch norm's running statistics
    backbone.requires_grad_(False)
    head = nn.Linear(16, 5)
    x, y = _data()

    model = nn.Sequential(backbone, head)
    backbone.eval()  # the frozen backbone is a fixed function: no dropout, running stats
    F.cross_entropy(model(ad.tensor(x)), ad.tensor(y)).backward()
    end_to_end = [p.grad.data.copy() for p in head.parameters()]
    assert all(p.grad is None for p in backbone.parameters())
    head.zero_grad()

    backbone.train()
    features, labels = precompute_features(backbone, TensorDataset(x, y), batch_size=3)
    assert backbone.training and backbone[4].training  # flags given back
    assert features.shape == (7, 16) and features.dtype == np.float32
    np.testing.assert_array_equal(labels, y)
    F.cross_entropy(head(ad.tensor(features)), ad.tensor(labels)).backward()
    for cached, full in zip(head.parameters(), end_to_end, strict=True):
        np.testing.assert_allclose(cached.grad.data, full, rtol=1e-5, atol=1e-7)


def test_precompute_features_takes_loaders_arrays_and_tensors():
    backbone = _backbone()
    x, y = _data()
    reference, _ = precompute_features(backbone, x, batch_size=100)
    from_loader, labels = precompute_features(backbone, DataLoader(TensorDataset(x, y), 2))
    np.testing.assert_allclose(from_loader, reference, rtol=1e-6)
    np.testing.assert_array_equal(labels, y)
    from_tensor, none = precompute_features(backbone, ad.tensor(x), batch_size=2)
    np.testing.assert_allclose(from_tensor, reference, rtol=1e-6)
    assert none is None
    empty, _ = precompute_features(nn.Sequential(nn.Linear(4, 3)), np.zeros((0, 4), np.float32))
    assert empty.shape == (0, 3)
    with pytest.raises(TypeError, match="precompute_features: data must be"):
        precompute_features(backbone, [x])


def test_a_pretrained_backbone_with_another_head_loads_in_one_call(tmp_path):
    pretrained = _vgg_like(num_classes=10)
    path = tmp_path / "pretrained.npz"
    nn.save(pretrained.state_dict(), path)
    model = _vgg_like(num_classes=5, seed=1)
    assert not np.array_equal(model[1][0].weight.data, pretrained[1][0].weight.data)
    head_weight = model[1][2].weight.data.copy()
    missing, unexpected = result = model.load(path, strict=False, skip_mismatched=True)
    assert missing == [] and unexpected == []
    assert result.mismatched_keys == [
        ("1.2.weight", (10, 8), (5, 8)),
        ("1.2.bias", (10,), (5,)),
    ]
    np.testing.assert_array_equal(model[1][0].weight.data, pretrained[1][0].weight.data)
    np.testing.assert_array_equal(model[1][2].weight.data, head_weight)
