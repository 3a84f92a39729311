"""Search spaces: ranges, scales, narrowing and errors."""

import numpy as np
import pytest

from autodiff import tune
from autodiff.tune.spaces import narrow_space, sample_config


def draw(space, n=4000, seed=0):
    return np.array(space.sample(np.random.default_rng(seed), n))


def test_uniform_covers_its_interval_evenly():
    x = draw(tune.uniform(-1.0, 3.0))
    assert x.min() >= -1 and x.max() <= 3
    np.testing.assert_allclose(np.histogram(x, bins=4, range=(-1, 3))[0] / len(x), 0.25, atol=0.03)


def test_log_uniform_gives_each_decade_the_same_share():
    x = draw(tune.log_uniform(1e-4, 1e-1))
    assert x.min() >= 1e-4 and x.max() <= 1e-1
    shares = np.histogram(np.log10(x), bins=[-4, -3, -2, -1])[0] / len(x)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)
    assert tune.log_uniform(1e-4, 1e-1).log and not tune.uniform(0, 1).log


def test_one_minus_log_uniform_gives_each_decade_of_one_minus_beta_the_same_share():
    x = draw(tune.one_minus_log_uniform(0.9, 0.999))
    assert x.min() >= 0.9 and x.max() <= 0.999
    assert abs(np.mean(x < 0.99) - 0.5) < 0.03  # as many in [0.9, 0.99] as in [0.99, 0.999]
    space = tune.one_minus_log_uniform(0.9, 0.999)
    assert space.log and space.axis_label("beta") == "1 - beta"
    np.testing.assert_allclose(space.axis_values([0.9, 0.99]), [0.1, 0.01])


def test_int_uniform_includes_both_ends_and_log_favours_small_values():
    x = draw(tune.int_uniform(1, 4), n=400)
    assert set(x.tolist()) == {1, 2, 3, 4}
    y = draw(tune.int_uniform(1, 1000, log=True))
    assert y.min() >= 1 and y.max() <= 1000
    shares = np.histogram(y, bins=[1, 10, 100, 1001])[0] / len(y)
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)


def test_choice_returns_the_options_themselves():
    options = [16, 32, "adam", (1, 2)]
    x = tune.choice(options).sample(np.random.default_rng(0), 200)
    assert {str(v) for v in x} == {str(v) for v in options}
    assert all(any(v is o for o in options) for v in x)


def test_samples_are_python_scalars_and_repeatable():
    for space in (tune.uniform(0, 1), tune.log_uniform(1e-3, 1), tune.int_uniform(0, 9)):
        values = space.sample(np.random.default_rng(5), 3)
        assert values == space.sample(np.random.default_rng(5), 3)
        assert all(type(v) in (float, int) for v in values)
        assert space.sample(np.random.default_rng(5), 0) == []


def test_narrow_is_the_box_around_the_values_on_the_same_scale():
    space = tune.log_uniform(1e-4, 1e-1)
    narrowed = space.narrow([1e-3, 5e-3, 1e-2])
    assert narrowed == tune.log_uniform(1e-3, 1e-2)
    logs = np.log10(draw(narrowed))  # still log-uniform inside the box
    assert logs.min() >= -3 and logs.max() <= -2 and abs(logs.mean() + 2.5) < 0.02
    assert tune.one_minus_log_uniform(0.9, 0.999).narrow([0.95, 0.99]) == (
        tune.one_minus_log_uniform(0.95, 0.99)
    )
    assert tune.int_uniform(1, 512, log=True).narrow([8, 64]) == tune.int_uniform(8, 64, log=True)
    assert tune.choice([16, 32, 64, 128]).narrow([128, 32, 128]) == tune.choice([32, 128])


def test_narrow_to_one_value_is_a_choice_of_it():
    assert tune.uniform(0, 1).narrow([0.3, 0.3]) == tune.choice([0.3])
    assert tune.int_uniform(1, 9).narrow([4]) == tune.choice([4])


def test_narrow_refuses_values_outside_the_space_or_none():
    with pytest.raises(ValueError, match="outside"):
        tune.log_uniform(1e-4, 1e-1).narrow([0.5])
    with pytest.raises(ValueError, match="not one of"):
        tune.choice([1, 2]).narrow([3])
    with pytest.raises(ValueError, match="no values"):
        tune.uniform(0, 1).narrow([])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: tune.uniform(1, 1), "uniform: a=1.0 must be less than b=1.0"),
        (lambda: tune.uniform(0, float("inf")), "finite"),
        (lambda: tune.log_uniform(0, 1), "log_uniform: a=0.0 must be positive"),
        (lambda: tune.log_uniform(-1, 1), "must be positive"),
        (lambda: tune.one_minus_log_uniform(0.9, 1.0), "b=1.0 must be less than 1"),
        (lambda: tune.one_minus_log_uniform(0.99, 0.9), "must be less than b"),
        (lambda: tune.int_uniform(5, 2), "int_uniform: a=5 must be less than b=2"),
        (lambda: tune.int_uniform(0, 8, log=True), "at least 1 with log=True"),
        (lambda: tune.choice([]), "choice: values is empty"),
    ],
)
def test_bad_bounds_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_types_are_refused():
    with pytest.raises(TypeError, match="int_uniform: bounds must be integers"):
        tune.int_uniform(1.5, 4)
    with pytest.raises(TypeError, match="choice: values must be a list"):
        tune.choice("abc")
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        tune.uniform(0, 1).sample(np.random.default_rng(0), -1)


def test_configs_copy_constants_and_narrow_only_spaces():
    space = {"lr": tune.log_uniform(1e-4, 1e-1), "epochs": 2}
    configs = [sample_config(space, np.random.default_rng(seed)) for seed in range(5)]
    assert all(c["epochs"] == 2 and 1e-4 <= c["lr"] <= 1e-1 for c in configs)
    narrowed = narrow_space(space, configs[:2])
    lrs = sorted(c["lr"] for c in configs[:2])
    assert narrowed == {"lr": tune.log_uniform(*lrs), "epochs": 2}
