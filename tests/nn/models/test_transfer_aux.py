"""replace_head on GoogLeNet with auxiliary classifiers: every head gets the new classes."""

import numpy as np

import autodiff as ad
import nn
from nn.models import googlenet, param_groups, replace_head


def test_replace_head_replaces_the_auxiliary_heads_of_googlenet_too():
    ad.manual_seed(0)
    model = googlenet(num_classes=10, aux_logits=True)
    keys = list(model.state_dict())
    old = [model.fc, model.aux1.fc2, model.aux2.fc2]
    head = replace_head(model, 3)
    assert head is model.fc
    new = [model.fc, model.aux1.fc2, model.aux2.fc2]
    for before, after in zip(old, new, strict=True):
        assert after is not before and after.weight.shape == (3, before.in_features)
        assert after.weight.requires_grad and after.bias is not None
    assert model.aux1.fc1.weight.shape == (1024, 2048)  # only the output layers change
    assert list(model.state_dict()) == keys

    x = ad.tensor(np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32))
    outputs = model.train()(x)
    assert [tuple(o.shape) for o in outputs] == [(2, 3)] * 3
    assert tuple(model.eval()(x).shape) == (2, 3)

    heads = nn.ModuleList([head, model.aux1.fc2, model.aux2.fc2])
    _, fresh = param_groups(model, heads, lr=1e-2, backbone_lr=1e-3)
    assert len(fresh["params"]) == 6 and fresh["lr"] == 1e-2


def test_replace_head_without_auxiliary_heads_changes_only_fc():
    model = googlenet(num_classes=10)
    head = replace_head(model, 4)
    assert model.fc is head and head.out_features == 4
    assert model.aux1 is None and model.aux2 is None
