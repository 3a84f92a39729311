"""Activation layers and functions against torch: each module equals its functional and torch's
module (output, input gradient, parameters, repr); integer inputs, softmax's dtype= and legacy
dim, extreme values and errors behave as torch's."""

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

torch = pytest.importorskip("torch")

# (our module, torch's module, the functional call it must equal)
LAYERS = {
    "ReLU": (nn.ReLU(), torch.nn.ReLU(), F.relu),
    "ReLU-inplace": (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True), F.relu),
    "LeakyReLU": (
        nn.LeakyReLU(0.2, True), torch.nn.LeakyReLU(0.2, True), lambda x: F.leaky_relu(x, 0.2)
    ),
    "Sigmoid": (nn.Sigmoid(), torch.nn.Sigmoid(), F.sigmoid),
    "Tanh": (nn.Tanh(), torch.nn.Tanh(), F.tanh),
    "GELU": (nn.GELU(), torch.nn.GELU(), F.gelu),
    "GELU-tanh": (nn.GELU("tanh"), torch.nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "SiLU": (nn.SiLU(), torch.nn.SiLU(), F.silu),
    "ELU": (nn.ELU(0.7), torch.nn.ELU(0.7), lambda x: F.elu(x, 0.7)),
    "SELU": (nn.SELU(inplace=True), torch.nn.SELU(inplace=True), F.selu),
    "CELU": (nn.CELU(1.5), torch.nn.CELU(1.5), lambda x: F.celu(x, 1.5)),
    "Softplus": (
        nn.Softplus(2.0, 1.0), torch.nn.Softplus(2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0)
    ),
    "Softsign": (nn.Softsign(), torch.nn.Softsign(), F.softsign),
    "Hardtanh": (
        nn.Hardtanh(-0.5, 0.8), torch.nn.Hardtanh(-0.5, 0.8), lambda x: F.hardtanh(x, -0.5, 0.8)
    ),
    "ReLU6": (nn.ReLU6(), torch.nn.ReLU6(), F.relu6),
    "Hardsigmoid": (nn.Hardsigmoid(), torch.nn.Hardsigmoid(), F.hardsigmoid),
    "Hardswish": (nn.Hardswish(), torch.nn.Hardswish(), F.hardswish),
    "Mish": (nn.Mish(), torch.nn.Mish(), F.mish),
    "LogSigmoid": (nn.LogSigmoid(), torch.nn.LogSigmoid(), F.logsigmoid),
    "Softmin": (nn.Softmin(1), torch.nn.Softmin(1), lambda x: F.softmin(x, 1)),
    "Softmax": (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1), lambda x: F.softmax(x, -1)),
    "LogSoftmax": (nn.LogSoftmax(0), torch.nn.LogSoftmax(0), lambda x: F.log_softmax(x, 0)),
    "GLU": (nn.GLU(1), torch.nn.GLU(1), lambda x: F.glu(x, 1)),
    "Threshold": (
        nn.Threshold(0.1, -3.0), torch.nn.Threshold(0.1, -3.0), lambda x: F.threshold(x, 0.1, -3.0)
    ),
    "Tanhshrink": (nn.Tanhshrink(), torch.nn.Tanhshrink(), F.tanhshrink),
    "Softshrink": (nn.Softshrink(0.3), torch.nn.Softshrink(0.3), lambda x: F.softshrink(x, 0.3)),
    "Hardshrink": (nn.Hardshrink(0.3), torch.nn.Hardshrink(0.3), lambda x: F.hardshrink(x, 0.3)),
}  # fmt: skip


def _input(seed=0, shape=(3, 4, 5)):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * 3, np.float32)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_its_functional_and_torch(name):
    ours, theirs, functional = LAYERS[name]
    x = _input()
    xt = ad.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    out = ours(xt)
    t_out = theirs(tx * 1)  # a non-leaf, so torch's in-place layers may write into it
    np.testing.assert_array_equal(out.data, functional(ad.tensor(x)).data)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    gy = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(gy)
    t_out.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, xt.data)  # inplace=True leaves our input as it was
    assert repr(ours) == repr(theirs)


def test_prelu_layer_matches_torch():
    ours, theirs = nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    x = _input(2, (2, 4, 3))
    xt = ad.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    out, t_out = ours(xt), theirs(tx)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-5)
    assert repr(ours) == repr(theirs)
    assert nn.PReLU().weight.shape == (1,) and nn.PReLU(dtype=ad.float64).weight.dtype == np.float64


def test_prelu_errors():
    with pytest.raises(ValueError, match=r"prelu: weight must be"):
        F.prelu(ad.randn(2, 3), ad.ones(2))
    with pytest.raises(TypeError, match=r"prelu: weight is float64"):
        F.prelu(ad.randn(2, 3), ad.ones(3, dtype=ad.float64))
    with pytest.raises(RuntimeError, match=r"device"):
        nn.PReLU(device="cuda")


# ---- integer inputs ------------------------------------------------------------------------------

INT_KEEPS = ["relu", "hardtanh", "relu6"]
INT_TO_FLOAT = ["sigmoid", "tanh", "softsign", "tanhshrink"]
INT_REFUSED = ["leaky_relu", "gelu", "silu", "elu", "selu", "celu", "softplus", "hardsigmoid",
               "hardswish", "mish", "logsigmoid", "softshrink", "hardshrink", "glu"]  # fmt: skip


@pytest.mark.parametrize("name", INT_KEEPS + INT_TO_FLOAT)
def test_integer_inputs_as_torch(name):
    x = np.array([-7, -1, 0, 2, 9])
    out = getattr(F, name)(ad.tensor(x))
    expected = getattr(torch.nn.functional, name)(torch.from_numpy(x))
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", INT_REFUSED)
def test_integer_inputs_refused_as_torch(name):
    x = np.array([-2, 0, 2, 4])
    with pytest.raises(NotImplementedError):
        getattr(torch.nn.functional, name)(torch.from_numpy(x))
    with pytest.raises(TypeError, match=rf"{name}: expected a float tensor .*got int64"):
        getattr(F, name)(ad.tensor(x))


def test_threshold_and_hardtanh_on_integers_truncate_as_torch():
    x = np.array([-3, 0, 1, 2, 5])
    for name, args in [("threshold", (1.5, 7.9)), ("hardtanh", (-1.5, 2.5))]:
        ours = getattr(F, name)(ad.tensor(x), *args)
        theirs = getattr(torch.nn.functional, name)(torch.from_numpy(x), *args)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_bool_inputs_refused():
    for fn in (F.relu, F.hardtanh, F.relu6):
        with pytest.raises(TypeError, match="bool"):
            fn(ad.tensor([True, False]))


# ---- softmax family: dtype= and the legacy dim ---------------------------------------------------


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_converts_first(name):
    x = np.array([[1, 2, 3], [0, 0, 5]])
    out = getattr(F, name)(ad.tensor(x), 1, dtype=ad.float64)
    expected = getattr(torch.nn.functional, name)(torch.from_numpy(x), 1, dtype=torch.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match=rf"{name}: expected a float tensor"):
        getattr(F, name)(ad.tensor(x), 1)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 3, 2, 2)])
def test_softmax_without_dim_picks_torchs_legacy_dim_and_warns(shape):
    x = _input(3, shape)
    with pytest.warns(UserWarning, match="implicit dimension"):
        out = F.softmax(ad.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.functional.softmax(torch.from_numpy(x))
        expected_module = torch.nn.Softmax()(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(
            nn.Softmax()(ad.tensor(x)).data, expected_module.numpy(), rtol=1e-6
        )


def test_softmax_method_and_dim_errors():
    x = ad.tensor(_input(4, (2, 3)))
    np.testing.assert_array_equal(x.softmax(0).data, F.softmax(x, 0).data)
    np.testing.assert_array_equal(x.log_softmax(-1).data, F.log_softmax(x, -1).data)
    with pytest.raises(IndexError, match=r"softmax: dim 2 is out of range"):
        F.softmax(x, 2)


# ---- extreme values and edges --------------------------------------------------------------------

EXTREMES = np.array([-1000.0, -100.0, -30.0, -3.0, -0.5, 0.0, 0.5, 3.0, 6.0, 30.0, 100.0, 1000.0])
SMOOTH = {
    "gelu": {}, "gelu_tanh": {"approximate": "tanh"}, "silu": {}, "elu": {}, "selu": {},
    "celu": {"alpha": 0.5}, "softplus": {}, "softplus_beta": {"beta": 3.0, "threshold": 5.0},
    "mish": {}, "logsigmoid": {}, "softsign": {}, "tanhshrink": {}, "hardsigmoid": {},
    "hardswish": {}, "relu6": {}, "hardtanh": {}, "softshrink": {}, "hardshrink": {},
}  # fmt: skip


@pytest.mark.parametrize("name", SMOOTH)
def test_extreme_values_and_kinks_match_torch_in_float64(name):
    fn_name, kw = name.split("_")[0], SMOOTH[name]
    xt = ad.tensor(EXTREMES, requires_grad=True)
    tx = torch.tensor(EXTREMES, requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow warnings
        out = getattr(F, fn_name)(xt, **kw)
        out.backward(np.ones_like(EXTREMES))
    expected = getattr(torch.nn.functional, fn_name)(tx, **kw)
    expected.backward(torch.ones_like(tx))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-300)
    # torch's hardsigmoid and hardswish gradients use 1/6 rounded to float32
    rtol = 1e-7 if fn_name.startswith("hards") else 1e-12
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-300)


def test_nan_passes_through():
    x = np.array([np.nan, 1.0])
    for name in ["gelu", "elu", "softplus", "hardtanh", "hardshrink", "softshrink", "relu6"]:
        out = getattr(F, name)(ad.tensor(x)).data
        expected = getattr(torch.nn.functional, name)(torch.from_numpy(x)).numpy()
        np.testing.assert_array_equal(out, expected)


def test_argument_errors():
    x = ad.randn(4, 3)
    with pytest.raises(ValueError, match="gelu: approximate must be"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="softshrink: lambd"):
        F.softshrink(x, -0.1)
    with pytest.raises(ValueError, match=r"glu: dim 1 must have an even size"):
        F.glu(x, 1)
    with pytest.raises(RuntimeError, match=r"glu: a 0-d tensor"):  # a ShapeError
        F.glu(ad.tensor(1.0))
    with pytest.raises(IndexError, match=r"glu: dim 2"):
        F.glu(x, 2)


def test_top_level_and_method_names_as_torch():
    x = ad.tensor(_input(5, (2, 4)))
    for name in ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "threshold", "hardshrink"]:
        assert callable(getattr(ad, name)), name
    np.testing.assert_array_equal(x.hardshrink(0.3).data, F.hardshrink(x, 0.3).data)
    np.testing.assert_array_equal(x.prelu(ad.tensor([0.2])).data, F.prelu(x, ad.tensor([0.2])).data)
