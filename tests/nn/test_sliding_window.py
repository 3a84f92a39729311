"""fc_to_conv: every cell of the convolutional model's grid is the classifier on that crop."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.models import fc_to_conv


def _course_classifier():
    """The course's 14 x 14 x 3 -> conv 5x5 16 -> pool 2 -> FC 400 -> FC 400 -> softmax 4."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 400),
        nn.ReLU(),
        nn.Linear(400, 400),
        nn.ReLU(),
        nn.Linear(400, 4),
        nn.Softmax(dim=1),
    )


def _assert_windows(model, conv_model, x, crop, stride):
    """conv_model(x)[:, :, i, j] == model(the crop at (i*stride, j*stride)) for every cell."""
    grid = conv_model(x).data
    n, _, height, width = x.shape
    rows, cols = (height - crop[0]) // stride + 1, (width - crop[1]) // stride + 1
    assert grid.shape[0] == n and grid.shape[2:] == (rows, cols)
    for i in range(rows):
        for j in range(cols):
            window = x[:, :, i * stride : i * stride + crop[0], j * stride : j * stride + crop[1]]
            expected = model(window).data
            np.testing.assert_allclose(grid[:, :, i, j], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("size", "grid"), [(14, 1), (16, 2), (28, 8)])
def test_the_course_example_gives_the_grid_of_window_predictions(size, grid):
    ad.manual_seed(0)
    model = _course_classifier()
    conv_model = fc_to_conv(model, (3, 14, 14))
    x = ad.randn(2, 3, size, size)
    assert conv_model(x).shape == (2, 4, grid, grid)
    _assert_windows(model, conv_model, x, (14, 14), stride=2)


def test_strides_dilation_avg_pool_nested_and_rectangular_inputs():
    ad.manual_seed(1)
    features = nn.Sequential(
        nn.Conv2d(2, 4, 3, stride=2, bias=False),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(4, 5, (2, 3), dilation=(1, 2)),
        nn.Tanh(),
    )
    head = nn.Sequential(nn.Linear(5 * 3 * 1, 6, bias=False), nn.PReLU(6), nn.Linear(6, 3))
    model = nn.Sequential(features, nn.Flatten(), nn.Dropout(0.5), head, nn.LogSoftmax(-1))
    model[0][1].running_mean.copy_(ad.randn(4))  # eval-mode statistics that are not 0 / 1
    model.eval()
    conv_model = fc_to_conv(model, (2, 17, 23))
    assert not conv_model.training
    x = ad.randn(2, 2, 30, 32)  # not whole strides beyond the crop: the remainder is dropped
    _assert_windows(model, conv_model, x, (17, 23), stride=4)


def test_float64_weights_are_copied_and_keep_their_dtype():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, dtype=ad.float64), nn.Flatten(), nn.Linear(8, 2))
    model[2] = nn.Linear(2 * 2 * 2, 3, dtype=ad.float64)
    conv_model = fc_to_conv(model, (1, 4, 4))
    assert conv_model[1].weight.dtype == np.float64 and conv_model[1].weight.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(conv_model[1].weight.data.reshape(3, 8), model[2].weight.data)
    before = model[0].weight.data.copy()
    conv_model[0].weight.data[...] = 0  # the conversion is a copy: the classifier is unchanged
    conv_model[1].weight.data[...] = 0
    np.testing.assert_array_equal(model[0].weight.data, before)
    assert np.any(model[2].weight.data != 0)
    _assert_windows(model, fc_to_conv(model, (1, 4, 4)), ad.randn(1, 1, 6, 5, dtype=ad.float64),
                    (4, 4), stride=1)  # fmt: skip


def test_frozen_layers_stay_frozen():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    model[1].weight.requires_grad_(False)
    conv_model = fc_to_conv(model, (3, 2, 2))
    assert not conv_model[0].weight.requires_grad and conv_model[0].bias.requires_grad


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 14 * 14, 2)),
         r"layer 0, Conv2d.*padding"),
        (nn.Sequential(nn.Conv2d(3, 4, 3, padding="same"), nn.Flatten(), nn.Linear(784, 2)),
         r"layer 0, Conv2d.*padding"),
        (nn.Sequential(nn.MaxPool2d(3, ceil_mode=True), nn.Flatten(), nn.Linear(75, 2)),
         r"layer 0, MaxPool2d.*ceil_mode"),
        (nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2)),
         r"layer 0, AdaptiveAvgPool2d"),
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(12, 2)), r"exactly one Flatten, found 0"),
        (nn.Sequential(nn.Flatten(), nn.ReLU()), r"no Linear layer after Flatten"),
        (nn.Sequential(nn.Flatten(), nn.Linear(588, 4), nn.BatchNorm1d(4)),
         r"layer 2 after Flatten, BatchNorm1d"),
        (nn.Sequential(nn.Flatten(), nn.Linear(588, 4), nn.Softmax(dim=0)),
         r"layer 2, Softmax\(dim=0\), is not over the classes"),
        (nn.Sequential(nn.Flatten(start_dim=2), nn.Linear(196, 4)), r"Flatten must merge"),
        (nn.Sequential(nn.Conv2d(3, 4, 5), nn.Flatten(), nn.Linear(401, 2)),
         r"Linear after Flatten takes 401 features but the feature map .* \(4, 10, 10\) = 400"),
        (nn.Sequential(nn.Conv2d(3, 4, 20), nn.Flatten(), nn.Linear(4, 2)), r"leaves no output"),
    ],
)  # fmt: skip
def test_architectures_it_cannot_convert_are_named(model, match):
    with pytest.raises(ValueError, match=match):
        fc_to_conv(model, (3, 14, 14))


def test_bad_arguments():
    model = _course_classifier()
    with pytest.raises(TypeError, match="fc_to_conv: expected an nn.Sequential"):
        fc_to_conv(nn.Linear(3, 2), (3, 14, 14))
    for size in [(14, 14), (3, 14, 0), 14, (3.0, 14, 14)]:
        with pytest.raises(ValueError, match=r"input_size must be \(C, H, W\)"):
            fc_to_conv(model, size)
