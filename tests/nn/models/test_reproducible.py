"""Every model is a function of `autodiff.manual_seed`: the same seed builds the same weights."""

from functools import partial

import numpy as np
import pytest

import autodiff as ad
from nn import models


@pytest.mark.parametrize(
    "build",
    [
        models.lenet5,
        models.alexnet,
        pytest.param(partial(models.vgg11, num_classes=10), id="vgg11"),
        pytest.param(partial(models.vgg11, num_classes=10, init_weights=False), id="vgg11-raw"),
        models.resnet18,
        models.googlenet,
        models.mobilenet_v1,
        models.mobilenet_v2,
    ],
)
def test_the_seed_determines_the_weights(build):
    ad.manual_seed(0)
    first = build().state_dict()
    ad.manual_seed(0)
    again = build().state_dict()
    assert all(np.array_equal(first[k], again[k]) for k in first)
    del again
    ad.manual_seed(1)
    other = build().state_dict()
    assert not all(np.array_equal(first[k], other[k]) for k in first)
