import numpy as np
import pytest

import autodiff as ad
import nn


def _course_lenet():
    """The course's LeNet-5 table: 32x32x3 -> CONV1 -> POOL1 -> CONV2 -> POOL2 -> FC3 -> FC4
    -> softmax."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5),  # CONV1: 28x28x6
        nn.ReLU(),
        nn.MaxPool2d(2),  # POOL1: 14x14x6
        nn.Conv2d(6, 16, 5),  # CONV2: 10x10x16
        nn.ReLU(),
        nn.MaxPool2d(2),  # POOL2: 5x5x16
        nn.Flatten(),
        nn.Linear(400, 120),  # FC3
        nn.ReLU(),
        nn.Linear(120, 84),  # FC4
        nn.ReLU(),
        nn.Linear(84, 10),
        nn.Softmax(dim=1),
    )


def test_the_course_lenet_table():
    result = nn.summary(_course_lenet(), (3, 32, 32), batch_size=2, print_table=False)
    course = [r for r in result.rows if r.type in ("Conv2d", "MaxPool2d", "Linear")]
    assert [r.name for r in course] == ["0", "2", "3", "5", "7", "9", "11"]
    assert [r.params for r in course] == [456, 0, 2_416, 0, 48_120, 10_164, 850]
    assert [r.output_size // 2 for r in course] == [4_704, 1_176, 1_600, 400, 120, 84, 10]
    assert course[0].output_shape == (2, 6, 28, 28)
    assert result.rows[-1].type == "Softmax" and result.rows[-1].output_shape == (2, 10)
    assert result.total_params == result.trainable_params == 62_006
    assert result.frozen_params == 0
    # per example: 28*28*6 outputs x 3*5*5, 10*10*16 x 6*5*5, then the three matrix products
    per_example = [352_800, 0, 240_000, 0, 48_000, 10_080, 840]
    assert [r.mult_adds for r in course] == [2 * m for m in per_example]
    assert result.total_mult_adds == 2 * sum(per_example)
    assert result.input_bytes == 2 * 3 * 32 * 32 * 4
    assert result.activation_bytes == sum(r.output_bytes for r in result.rows)
    assert result.param_bytes == 62_006 * 4


def test_the_table_text(capsys):
    result = nn.summary(_course_lenet(), (1, 3, 32, 32))
    printed = capsys.readouterr().out
    assert printed.strip() == str(result) == repr(result)
    assert "Total params: 62,006" in printed and "Frozen params: 0" in printed
    line = next(line for line in printed.splitlines() if line.startswith("7 (Linear)"))
    assert line.split()[-4:] == ["[1,", "120]", "48,120", "48,000"]


class _Custom(nn.Module):
    """A user-defined module with a nested container, a head and a parameter of its own."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4))
        self.head = nn.Linear(4 * 6 * 6, 3)
        self.scale = nn.Parameter(np.ones(3, np.float32))

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


def test_nested_names_own_parameters_and_frozen_counts():
    model = _Custom()
    model.features.requires_grad_(False)
    result = nn.summary(model, (2, 1, 6, 6), print_table=False)
    assert [(r.name, r.type) for r in result.rows] == [
        ("features.0", "Conv2d"),
        ("features.1", "BatchNorm2d"),
        ("head", "Linear"),
        ("", "_Custom"),
    ]
    assert [r.params for r in result.rows] == [40, 8, 435, 3]
    assert [r.trainable for r in result.rows] == [0, 0, 435, 3]
    assert result.total_params == 486 and result.frozen_params == 48
    assert result.trainable_params == 438
    assert "_Custom (_Custom)" in str(result) and "features.1 (BatchNorm2d)" in str(result)


def test_summary_leaves_the_model_as_it_was():
    model = _Custom()
    model.train()
    model.features[1].eval()
    stats = model.features[1].running_mean.data.copy()
    nn.summary(model, (2, 1, 6, 6), print_table=False)
    assert model.training and model.features[0].training and not model.features[1].training
    np.testing.assert_array_equal(model.features[1].running_mean.data, stats)
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_a_layer_called_twice_counts_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 4)

        def forward(self, x):
            return self.layer(self.layer(x))

    result = nn.summary(Twice(), (3, 4), print_table=False)
    assert [r.name for r in result.rows] == ["layer", "layer"]
    assert [r.params for r in result.rows] == [20, 0]
    assert [r.mult_adds for r in result.rows] == [48, 48]
    assert result.total_params == 20


def test_several_inputs_several_outputs_and_dtype():
    class Pair(nn.Module):
        def forward(self, a, b):
            return a + 1, (a @ b).sum(1)

    result = nn.summary(Pair(), [(2, 3), (3, 5)], dtype=ad.float64, print_table=False)
    (row,) = result.rows
    assert row.output_shape == [(2, 3), (2,)] and row.output_size == 8
    assert row.output_bytes == 8 * 8 and result.input_bytes == (6 + 15) * 8
    assert "[2, 3], [3, 5]" in str(result)


def test_grouped_and_transposed_convolutions_count_their_mult_adds():
    grouped = nn.summary(nn.Conv2d(4, 8, 3, groups=2), (1, 4, 5, 5), print_table=False)
    assert grouped.total_mult_adds == 8 * 3 * 3 * (2 * 3 * 3)
    up = nn.summary(nn.ConvTranspose2d(2, 3, 2, stride=2), (1, 2, 4, 4), print_table=False)
    assert up.rows[0].output_shape == (1, 3, 8, 8)
    # each of the 32 input elements is spread over out_channels * kh * kw outputs
    assert up.total_mult_adds == 32 * 3 * 2 * 2


def test_bad_arguments_and_a_failing_forward():
    with pytest.raises(TypeError, match="summary: model must be an nn.Module"):
        nn.summary(lambda x: x, (1, 2))
    with pytest.raises(TypeError, match="input_size"):
        nn.summary(nn.Linear(2, 2), (1, -2))
    with pytest.raises(TypeError, match="input_size"):
        nn.summary(nn.Linear(2, 2), "12")
    model = _Custom()
    with pytest.raises(RuntimeError, match=r"summary: .*_Custom.*\(1, 1, 5, 5\) float32"):
        nn.summary(model, (1, 1, 5, 5), print_table=False)
    assert model.training and all(not m._forward_hooks for m in model.modules())


def test_empty_batch():
    features = nn.Sequential(*list(_course_lenet())[:6])
    result = nn.summary(features, (0, 3, 32, 32), print_table=False)
    assert result.total_params == 456 + 2_416 and result.total_mult_adds == 0
    assert result.rows[0].output_shape == (0, 6, 28, 28)
    assert result.rows[-1].output_shape == (0, 16, 5, 5) and result.activation_bytes == 0
