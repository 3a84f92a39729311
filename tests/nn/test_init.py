import math

import numpy as np
import pytest

import autodiff as ad
import nn
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


@pytest.mark.parametrize("n", [2**20 + 1, 2**17])
def test_float32_normals_follow_the_standard_normal(n):
    # float32 normals come from Box-Muller in blocks (an odd n has one value drawn apart): the
    # CDF at several points, the pairs' independence and the 5.77 std reach (torch's) checked
    z = init.normal_(np.empty(n, np.float32), generator=0).astype(np.float64)
    for x in (-3.0, -1.5, -0.5, 0.0, 0.7, 2.0, 3.5):
        p = (1 + math.erf(x / math.sqrt(2))) / 2
        assert abs((z < x).mean() - p) < 6 * math.sqrt(p * (1 - p) / n)
    assert abs(z.mean()) < 6 / math.sqrt(n) and abs(z.std() - 1) < 6 / math.sqrt(2 * n)
    first, second = z[: n // 2], z[n // 2 : n // 2 * 2]
    for u, v in ((first, second), (first**2, second**2)):
        assert abs(np.corrcoef(u, v)[0, 1]) < 6 / math.sqrt(n // 2)
    assert np.abs(z).max() < math.sqrt(48 * math.log(2)) + 1e-5


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


# ---- the rest of torch.nn.init -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "groups"),
    [((4, 3, 3), 1), ((2, 5, 3, 3), 1), ((6, 2, 3, 3), 2), ((6, 4, 1, 2, 3), 3), ((4, 4, 4), 4)],
)
def test_dirac_matches_torch_exactly(shape, groups):
    torch = pytest.importorskip("torch")
    t = Parameter(np.full(shape, 7.0, np.float32))
    assert init.dirac_(t, groups) is t
    expected = torch.nn.init.dirac_(torch.full(shape, 7.0), groups)
    np.testing.assert_array_equal(t.data, expected.numpy())


def test_dirac_is_the_identity_convolution():
    x = ad.randn(2, 3, 5, 5)
    w = init.dirac_(ad.zeros(3, 3, 3, 3))
    np.testing.assert_allclose(ad.nn.functional.conv2d(x, w, padding=1).data, x.data, atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_matches_torch_exactly(shape):
    torch = pytest.importorskip("torch")
    t = Parameter(np.full(shape, 3.0))
    assert init.eye_(t) is t
    np.testing.assert_array_equal(t.data, torch.nn.init.eye_(torch.empty(shape)).numpy())


def test_deterministic_initialisers_check_dims():
    with pytest.raises(ValueError, match="2-D"):
        init.eye_(ad.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="3-D, 4-D and 5-D"):
        init.dirac_(ad.zeros(2, 2))
    with pytest.raises(ValueError, match="divisible"):
        init.dirac_(ad.zeros(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match="2 or more dims"):
        init.orthogonal_(ad.zeros(4))
    with pytest.raises(ValueError, match="2-D"):
        init.sparse_(ad.zeros(4), 0.5)
    with pytest.raises(ValueError, match="a <= b"):
        init.trunc_normal_(ad.zeros(4), a=1.0, b=0.0)


@pytest.mark.parametrize("shape", [(4, 4), (3, 7), (7, 3), (6, 2, 3, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, dtype):
    t = Parameter(np.zeros(shape, dtype))
    assert init.orthogonal_(t, gain=1.5, generator=0) is t
    assert t.dtype == dtype
    m = t.data.reshape(shape[0], -1).astype(np.float64)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 2.25 * np.eye(len(gram)), atol=1e-5)


def test_orthogonal_is_uniform_like_torch():
    # each entry of a Haar-random n x n orthogonal matrix has mean 0 and variance 1/n; so does
    # torch's; and the Q-sign fix makes the diagonal unbiased (without it, it leans positive)
    torch = pytest.importorskip("torch")
    n, trials = 8, 500
    ours = np.stack([init.orthogonal_(ad.zeros(n, n), generator=i).data for i in range(trials)])
    torch.manual_seed(0)
    theirs = np.stack([torch.nn.init.orthogonal_(torch.empty(n, n)).numpy() for _ in range(trials)])
    for sample in (ours, theirs):
        assert abs(sample.mean()) < 5 / math.sqrt(sample.size * n)
        assert sample.var() == pytest.approx(1 / n, rel=0.02)
        diagonal = np.diagonal(sample, axis1=1, axis2=2)
        assert abs(diagonal.mean()) < 5 / math.sqrt(diagonal.size * n)


@pytest.mark.parametrize(("mean", "std", "a", "b"), [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, 0.0, 3.0)])
def test_trunc_normal_statistics_match_torch(mean, std, a, b):
    torch = pytest.importorskip("torch")
    t = _big()
    assert init.trunc_normal_(t, mean, std, a, b, generator=0) is t
    assert a <= t.data.min() and t.data.max() <= b
    torch.manual_seed(0)
    expected = torch.nn.init.trunc_normal_(torch.empty(SHAPE), mean, std, a, b).numpy()
    # the truncated normal's mean and std from its density
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    true_mean = mean + std * (pdf(alpha) - pdf(beta)) / mass
    true_var = std**2 * (
        1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - ((pdf(alpha) - pdf(beta)) / mass) ** 2
    )
    for values in (t.data.astype(np.float64), expected.astype(np.float64)):
        assert abs(values.mean() - true_mean) < 5 * math.sqrt(true_var / values.size)
        assert values.std() == pytest.approx(math.sqrt(true_var), rel=0.01)


def test_sparse_zeros_each_column_like_torch():
    torch = pytest.importorskip("torch")
    t = Parameter(np.zeros((20, 3000), np.float32))
    assert init.sparse_(t, 0.25, std=0.5, generator=0) is t
    expected = torch.nn.init.sparse_(torch.empty(20, 3000), 0.25, std=0.5).numpy()
    for values in (t.data, expected):
        np.testing.assert_array_equal((values == 0).sum(axis=0), np.full(3000, 5))
        assert values[values != 0].std() == pytest.approx(0.5, rel=0.01)


FILLS = [
    lambda w: init.uniform_(w),
    lambda w: init.normal_(w),
    lambda w: init.constant_(w, 0.5),
    lambda w: init.ones_(w),
    lambda w: init.zeros_(w),
    lambda w: init.xavier_uniform_(w),
    lambda w: init.xavier_normal_(w),
    lambda w: init.kaiming_uniform_(w),
    lambda w: init.kaiming_normal_(w),
    lambda w: init.trunc_normal_(w),
    lambda w: init.orthogonal_(w),
    lambda w: init.sparse_(w, 0.5),
    lambda w: init.eye_(w),
]


def test_every_initialiser_returns_the_tensor_under_grad_and_no_grad():
    for fill in FILLS:
        w = Parameter(np.full((4, 6), 9.0, np.float32))
        version = w._version
        assert fill(w) is w and w.is_leaf and w.grad_fn is None and w.requires_grad
        assert w._version == version + 1 and not (w.data == 9.0).any()
        with ad.no_grad():
            assert fill(w) is w


def test_new_random_initialisers_are_reproducible_with_a_generator():
    def sparse(w, generator):
        return init.sparse_(w, 0.3, generator=generator)

    for fill in (init.trunc_normal_, init.orthogonal_, sparse):
        a, b = _big(), _big()
        fill(a, generator=5)
        fill(b, generator=5)
        np.testing.assert_array_equal(a.data, b.data)


# ---- nn.utils.skip_init ------------------------------------------------------------------------


def test_skip_init_builds_the_module_without_drawing():
    state = ad.random.default_generator().bit_generator.state
    layer = nn.utils.skip_init(nn.Linear, 5, 3, dtype=ad.float64)
    conv = nn.utils.skip_init(nn.Conv2d, 2, 4, 3, bias=False)
    assert ad.random.default_generator().bit_generator.state == state
    assert isinstance(layer, nn.Linear) and isinstance(conv, nn.Conv2d) and conv.bias is None
    assert [(tuple(p.shape), p.dtype, p.requires_grad) for p in layer.parameters()] == [
        ((3, 5), ad.float64, True),
        ((3,), ad.float64, True),
    ]
    assert conv.weight.shape == (4, 2, 3, 3) and conv.weight.dtype == ad.float32
    nn.Linear(5, 3)  # outside, the defaults are drawn again
    assert ad.random.default_generator().bit_generator.state != state


def test_skip_init_leaves_every_initialiser_undone_and_buffers_set():
    class Filled(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.full((4, 6), 9.0, np.float32))
            for fill in FILLS:
                assert fill(self.w) is self.w

    assert (nn.utils.skip_init(Filled).w.data == 9.0).all()
    assert not (Filled().w.data == 9.0).all()
    norm = nn.utils.skip_init(nn.BatchNorm2d, 3)
    assert not norm.running_mean.data.any() and (norm.running_var.data == 1).all()


def test_skip_init_ends_with_the_build_even_when_it_fails():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.utils.skip_init(nn.Conv2d, 3, 4, 3, groups=2)
    assert (init.ones_(ad.zeros(2)).data == 1).all()


def test_skip_init_rejects_what_is_not_a_module_class():
    for bad in (nn.Linear(2, 2), lambda: nn.Linear(2, 2), int):
        with pytest.raises(TypeError, match="skip_init: expected a Module subclass"):
            nn.utils.skip_init(bad)


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [("Linear", (5, 3), {}), ("Conv2d", (2, 4, 3), {"bias": False}), ("BatchNorm2d", (3,), {})],
)
def test_skip_init_gives_torchs_parameters(cls, args, kwargs):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.utils.skip_init(getattr(torch.nn, cls), *args, **kwargs)
    ours = nn.utils.skip_init(getattr(nn, cls), *args, **kwargs)
    assert [(n, tuple(p.shape), p.requires_grad) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape), p.requires_grad) for n, p in theirs.named_parameters()
    ]
    assert all(p.dtype == ad.float32 for p in ours.parameters())
