import math

import numpy as np
import pytest

import autodiff as ad
from nn import Parameter, init

# (fan_out, fan_in) = (256, 512): 131072 draws, so the sample std is within ~0.4% (3 sigma)
SHAPE = (256, 512)
FAN_IN, FAN_OUT = 512, 256


def _big(dtype=np.float32):
    return Parameter(np.zeros(SHAPE, dtype))


def _check_stats(t, mean, std, rtol=0.01):
    values = t.data.astype(np.float64)
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert values.std() == pytest.approx(std, rel=rtol)


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((4, 7), (7, 4)), ((8, 3, 5, 5), (75, 200)), ((6, 2, 3), (6, 18)), ((1, 1, 1, 1), (1, 1))],
)
def test_fans_follow_pytorch_layout(shape, fans):
    t = ad.zeros(*shape)
    assert init._calculate_fan_in_and_fan_out(t) == fans
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(t) == (
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    )


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(ad.zeros(5))


@pytest.mark.parametrize(
    ("name", "param"),
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)],
)  # fmt: skip
def test_calculate_gain_matches_torch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param)
    )


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="softplus"):
        init.calculate_gain("softplus")


def test_constant_initialisers_keep_object_array_and_dtype():
    t = Parameter(np.empty((3, 4), np.float64))
    array = t.data
    assert init.zeros_(t) is t and t.data is array and not t.data.any()
    assert init.ones_(t) is t and (t.data == 1).all()
    assert init.constant_(t, 0.25) is t and (t.data == 0.25).all()
    assert t.dtype == np.float64
    n = ad.zeros(3, dtype=ad.int64)
    init.constant_(n, 7)
    assert n.dtype == np.int64 and (n.data == 7).all()


def test_uniform_and_normal_statistics():
    t = _big()
    init.uniform_(t, -2.0, 4.0, generator=0)
    assert t.data.min() >= -2.0 and t.data.max() < 4.0
    _check_stats(t, 1.0, 6 / math.sqrt(12))
    init.normal_(t, mean=3.0, std=0.5, generator=1)
    _check_stats(t, 3.0, 0.5)
    assert t.dtype == np.float32


def test_xavier_statistics():
    t = _big()
    init.xavier_uniform_(t, generator=0)
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(t.data).max() <= bound
    _check_stats(t, 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)))
    init.xavier_normal_(t, gain=init.calculate_gain("tanh"), generator=1)
    _check_stats(t, 0.0, 5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT)))


def test_kaiming_statistics():
    t = _big()
    init.kaiming_uniform_(t, generator=0)  # a=0, leaky_relu: gain sqrt(2)
    assert np.abs(t.data).max() <= math.sqrt(6 / FAN_IN)
    _check_stats(t, 0.0, math.sqrt(2 / FAN_IN))
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=1)
    _check_stats(t, 0.0, math.sqrt(2 / FAN_OUT))
    init.kaiming_uniform_(t, a=math.sqrt(5), generator=2)  # PyTorch's Linear default
    assert np.abs(t.data).max() <= 1 / math.sqrt(FAN_IN)


def test_course_forms():
    # He: Var = 2/n; Xavier: Var = 1/n; both with n = fan_in
    t = _big()
    init.kaiming_normal_(t, nonlinearity="relu", generator=0)
    _check_stats(t, 0.0, math.sqrt(2 / FAN_IN))
    init.kaiming_normal_(t, nonlinearity="linear", generator=0)
    _check_stats(t, 0.0, math.sqrt(1 / FAN_IN))


def test_conv_weight_uses_c_in_kh_kw_as_fan_in():
    w = Parameter(np.zeros((64, 16, 3, 3), np.float64))
    init.kaiming_normal_(w, nonlinearity="relu", generator=0)
    assert w.dtype == np.float64
    _check_stats(w, 0.0, math.sqrt(2 / (16 * 3 * 3)), rtol=0.02)


def test_seeded_initialisation_is_reproducible():
    a, b = _big(), _big()
    init.xavier_uniform_(a, generator=42)
    init.xavier_uniform_(b, generator=42)
    np.testing.assert_array_equal(a.data, b.data)
    init.xavier_uniform_(b, generator=43)
    assert not np.array_equal(a.data, b.data)

    init.normal_(a, generator=np.random.default_rng(7))
    init.normal_(b, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)

    ad.manual_seed(3)
    init.kaiming_uniform_(a)
    ad.manual_seed(3)
    init.kaiming_uniform_(b)
    np.testing.assert_array_equal(a.data, b.data)


def test_float64_draws_are_float64():
    t = _big(np.float64)
    init.normal_(t, generator=0)
    assert t.dtype == np.float64
    assert len(np.unique(t.data)) == t.data.size


def test_ndarrays_are_accepted_and_filled_in_place():
    a = np.zeros((3, 4), np.float32)
    assert init.uniform_(a, generator=0) is a and a.any()


def test_random_init_of_integer_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="int64"):
        init.normal_(ad.zeros(3, 3, dtype=ad.int64))


def test_bad_arguments():
    t = _big()
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="std"):
        init.normal_(t, std=-1)
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(t, 1, 0)


def test_init_writes_without_recording_and_bumps_the_version():
    w = Parameter(np.ones((2, 2), np.float32))
    x = ad.ones(1, 2, requires_grad=True)
    y = (x @ w).sum()
    init.normal_(w, generator=0)
    assert w.is_leaf and w.grad_fn is None
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()


def test_empty_tensors_are_left_alone():
    t = ad.zeros(0, 5)
    assert init.kaiming_uniform_(t) is t
    assert init.xavier_normal_(t) is t
