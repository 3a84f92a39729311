"""The math of autodiff/ops/{unary,rounding,binary}.py against PyTorch where the op table does
not go: integer and bool dtypes, NaN and infinities, ties, division by zero, gradients at the edges,
the operators `%` and `//`, and PyTorch's other names."""

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

FLOAT_UNARY = [
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf",
    "erfc", "log2", "log10", "log1p", "exp2", "expm1", "reciprocal", "rsqrt",
]  # fmt: skip
ROUNDING = ["floor", "ceil", "trunc", "round"]
EDGES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1e30, -1e-30]


def _pair(a):
    return ad.tensor(a), torch.from_numpy(np.array(a))


def _same(ours, theirs, exact=False):
    expected = theirs.detach().numpy()
    assert isinstance(ours, ad.Tensor)
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    if exact or expected.dtype.kind != "f":
        np.testing.assert_array_equal(ours.data, expected)
    else:
        np.testing.assert_allclose(ours.data, expected, rtol=2e-6, atol=1e-30, equal_nan=True)


def _floats(dtype, n=60, seed=0):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 3).astype(dtype)
    a[: len(EDGES)] = EDGES
    return a


def _ints(dtype="int64", n=40, seed=0, low=-20, high=20):
    return np.random.default_rng(seed).integers(low, high, n).astype(dtype)


# ---- unary ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", FLOAT_UNARY + ROUNDING + ["sign", "sgn", "square", "frac"])
def test_unary_matches_torch_at_nan_infinities_zeros_and_ties(name, dtype):
    x, tx = _pair(_floats(dtype))
    with np.errstate(all="ignore"):
        out, method = getattr(ad, name)(x), getattr(x, name)()
    _same(out, getattr(torch, name)(tx), exact=name in ROUNDING + ["sign", "sgn"])
    _same(method, getattr(tx, name)(), exact=name in ROUNDING)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize("name", FLOAT_UNARY)
def test_float_functions_of_integers_are_float32(name, dtype):
    a = _ints(dtype, low=0 if dtype != "int64" else -3, high=2 if dtype == "bool" else 5)
    x, tx = _pair(a)
    with np.errstate(all="ignore"):
        _same(getattr(ad, name)(x), getattr(torch, name)(tx))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
def test_rounding_sign_and_square_keep_integer_dtypes(dtype):
    x, tx = _pair(_ints(dtype, low=0 if dtype == "uint8" else -9, high=9))
    for name in [*ROUNDING, "sign", "sgn", "square", "nan_to_num"]:
        out = getattr(ad, name)(x)
        _same(out, getattr(torch, name)(tx))
        assert out.data is not x.data  # a new tensor, as torch's


def test_bool_inputs_as_torch():
    x, tx = _pair(np.array([True, False, True]))
    _same(ad.sign(x), torch.sign(tx))
    _same(ad.square(x), torch.square(tx))  # int64
    for name in ROUNDING:
        with pytest.raises(TypeError, match=f"{name}: not defined for bool tensors"):
            getattr(ad, name)(x)


def test_integer_round_with_decimals_and_frac_are_refused_as_in_torch():
    x = ad.tensor([1, 2])
    with pytest.raises(TypeError, match="round: not defined for int64 tensors with decimals=1"):
        ad.round(x, decimals=1)
    with pytest.raises(TypeError, match="frac: not defined for int64"):
        ad.frac(x)
    with pytest.raises(TypeError, match="decimals must be an int"):
        ad.round(ad.tensor([1.5]), decimals=1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("decimals", [-2, -1, 1, 2, 3])
def test_round_with_decimals_matches_torch_at_ties(dtype, decimals):
    rng = np.random.default_rng(decimals + 5)
    a = np.concatenate([rng.standard_normal(200) * 300, [0.125, 0.375, 2.5, 25.0, 250.0, -0.125]])
    x, tx = _pair(a.astype(dtype))
    _same(ad.round(x, decimals=decimals), torch.round(tx, decimals=decimals), exact=True)
    _same(x.round(decimals=decimals), tx.round(decimals=decimals), exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"nan": 1.5, "posinf": 7.0, "neginf": -7.0}, {"posinf": 1e300}])
def test_nan_to_num_matches_torch(dtype, kw):
    x, tx = _pair(_floats(dtype))
    with np.errstate(over="ignore"):
        _same(ad.nan_to_num(x, **kw), torch.nan_to_num(tx, **kw), exact=True)


def test_gradients_through_nan_and_infinities_as_torch():
    a = np.array([np.nan, np.inf, -np.inf, 2.0, -0.7], np.float32)
    for fn in (
        lambda t: t.nan_to_num(),
        lambda t: t.sign() + t.floor() + t.round(),
        lambda t: t.frac(),
    ):
        x = ad.tensor(a, requires_grad=True)
        tx = torch.tensor(a, requires_grad=True)
        with np.errstate(invalid="ignore"):
            fn(x).sum().backward()
        fn(tx).sum().backward()
        _same(x.grad, tx.grad, exact=True)


# ---- binary --------------------------------------------------------------------------------------

DIVISIONS = {
    "remainder": lambda lib, x, y: lib.remainder(x, y),
    "fmod": lambda lib, x, y: lib.fmod(x, y),
    "floor_divide": lambda lib, x, y: lib.floor_divide(x, y),
    "div_floor": lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
    "div_trunc": lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
    "%": lambda lib, x, y: x % y,
    "//": lambda lib, x, y: x // y,
}


@pytest.mark.parametrize("name", DIVISIONS)
@pytest.mark.parametrize(
    ("x_dtype", "y_dtype"),
    [("int64", "int64"), ("int8", "int8"), ("int32", "int64"), ("uint8", "uint8")],
)
def test_integer_divisions_match_torch(name, x_dtype, y_dtype):
    low = 0 if "uint8" in (x_dtype, y_dtype) else -30
    x, tx = _pair(_ints(x_dtype, seed=1, low=low, high=30).reshape(4, 10))
    y = _ints(y_dtype, n=10, seed=2, low=low, high=9)
    y[y == 0] = 7
    y, ty = _pair(y)
    call = DIVISIONS[name]
    _same(call(ad, x, y), call(torch, tx, ty))
    _same(call(ad, x, 7), call(torch, tx, 7))
    if name not in ("fmod",):
        _same(call(ad, x, -7 if low else 7), call(torch, tx, -7 if low else 7))
    if name in ("%", "//"):
        _same(call(ad, 17, y), call(torch, 17, ty))  # the reflected operators


@pytest.mark.parametrize("name", DIVISIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_divisions_match_torch_at_zeros_infinities_and_nan(name, dtype):
    a = _floats(dtype, seed=3)
    x, tx = _pair(a.reshape(-1, 1))
    y, ty = _pair(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0, -2.0, 0.3], dtype))
    call = DIVISIONS[name]
    with np.errstate(all="ignore"):
        _same(call(ad, x, y), call(torch, tx, ty))
        _same(call(ad, x, 1.5), call(torch, tx, 1.5))


@pytest.mark.parametrize("name", DIVISIONS)
def test_integer_with_float_divisions_are_float32(name):
    x, tx = _pair(_ints(seed=4))
    call = DIVISIONS[name]
    _same(call(ad, x, 2.5), call(torch, tx, 2.5))
    f, tf = _pair(np.float32([1.5, -2.5]))
    _same(call(ad, f, 2), call(torch, tf, 2))


@pytest.mark.parametrize("name", DIVISIONS)
def test_integer_division_by_zero_raises(name):
    x = ad.tensor([[5, 6], [7, 8]])
    with pytest.raises(ZeroDivisionError, match=r"integer division by zero \(tensor of shape"):
        DIVISIONS[name](ad, x, ad.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError):
        DIVISIONS[name](ad, x, 0)


@pytest.mark.parametrize("name", DIVISIONS)
def test_bool_divisions_are_refused_as_in_torch(name):
    b = ad.tensor([True, False])
    with pytest.raises(TypeError, match="not defined for bool tensors"):
        DIVISIONS[name](ad, b, b)


def test_div_rejects_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        ad.div(ad.tensor([1.0]), 2.0, rounding_mode="round")


@pytest.mark.parametrize(("op", "method"), [("__imod__", "remainder_"),
                                            ("__ifloordiv__", "floor_divide_")])  # fmt: skip
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_in_place_division_operators_match_torch(op, method, dtype):
    x, tx = _pair(_ints(seed=5).astype(dtype).reshape(4, 10))
    y, ty = _pair(np.arange(1, 11).astype(dtype) * -1)
    buffer = x.data
    assert getattr(x, op)(y) is x and x.data is buffer
    getattr(tx, method)(ty)
    _same(x, tx, exact=True)


def test_in_place_division_is_recorded_in_the_graph():
    w = ad.tensor([3.5, -2.25, 7.0], requires_grad=True)
    tw = torch.tensor([3.5, -2.25, 7.0], requires_grad=True)
    x, tx = w * 1, tw * 1
    x %= 2.0
    tx %= 2.0
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    _same(w.grad, tw.grad)


@pytest.mark.parametrize("name", ["atan2", "copysign"])
@pytest.mark.parametrize("dtype", ["bool", "int32", "int64"])
def test_atan2_and_copysign_of_integers_are_float32(name, dtype):
    low, high = (0, 2) if dtype == "bool" else (-5, 5)
    x, tx = _pair(_ints(dtype, low=low, high=high))
    y, ty = _pair(_ints(dtype, seed=6, low=low, high=high))
    _same(getattr(ad, name)(x, y), getattr(torch, name)(tx, ty))
    _same(getattr(ad, name)(x, -1), getattr(torch, name)(tx, torch.tensor(-1)))  # a 0-d int64
    _same(getattr(ad, name)(x.float(), y), getattr(torch, name)(tx.float(), ty))


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "copysign"])
def test_binary_float_functions_promote_and_handle_nan_and_infinities_as_torch(name):
    a = _floats("float32", seed=7)
    x, tx = _pair(a.reshape(-1, 1))
    y, ty = _pair(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -3.0]))  # float64
    _same(getattr(ad, name)(x, y), getattr(torch, name)(tx, ty))
    _same(getattr(ad, name)(x, 0.5), getattr(torch, name)(tx, torch.tensor(0.5)))


@pytest.mark.parametrize("name", ["hypot", "logaddexp"])
def test_hypot_and_logaddexp_refuse_integers_as_torch(name):
    x = ad.tensor([1, 2])
    with pytest.raises(TypeError, match=f"{name}: float tensors only"):
        getattr(ad, name)(x, x)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "copysign", "fmod", "remainder"])
def test_gradients_at_the_edges_match_torch(name):
    # the origin, zeros of either sign, infinities, and a NaN
    a = np.array([0.0, 0.0, -0.0, 2.0, np.inf, -np.inf, 1.0, np.nan, 3.0], np.float32)
    b = np.array([0.0, -1.0, 3.0, 0.0, 2.0, -np.inf, np.inf, 1.0, -0.5], np.float32)
    x, y = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    with np.errstate(all="ignore"):
        getattr(ad, name)(x, y).sum().backward()
    getattr(torch, name)(tx, ty).sum().backward()
    _same(x.grad, tx.grad)
    _same(y.grad, ty.grad)


def test_lerp_matches_torch_exactly_at_the_ends_and_refuses_mixed_dtypes():
    rng = np.random.default_rng(8)
    x, tx = _pair(rng.standard_normal(50).astype(np.float32))
    e, te = _pair((rng.standard_normal(50) * 1e4).astype(np.float32))
    for weight in (0.0, 1.0):  # exactly x and exactly end
        _same(ad.lerp(x, e, weight), torch.lerp(tx, te, weight), exact=True)
        _same(x.lerp(e, ad.tensor(weight)), tx.lerp(te, torch.tensor(weight)), exact=True)
    for weight in (0.3, 0.5, 0.7, 2.0, -1.0):  # torch rounds once (a fused multiply-add)
        _same(ad.lerp(x, e, weight), torch.lerp(tx, te, weight))
    w, tw = _pair(rng.uniform(-1, 2, 50).astype(np.float32))
    _same(ad.lerp(x, e, w), torch.lerp(tx, te, tw))
    with pytest.raises(TypeError, match="lerp: input and end must be tensors of one dtype"):
        ad.lerp(x, e.double(), 0.5)
    with pytest.raises(TypeError, match="lerp: float tensors only"):
        ad.lerp(ad.tensor([1]), ad.tensor([2]), 0.5)


# ---- PyTorch's other names -----------------------------------------------------------------------

ALIASES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "arctan2": "atan2", "negative": "neg", "absolute": "abs",
    "multiply": "mul", "divide": "div", "subtract": "sub", "true_divide": "div", "clip": "clamp",
    "sgn": "sign", "fix": "trunc",
}  # fmt: skip


@pytest.mark.parametrize(("alias", "name"), ALIASES.items())
def test_aliases_are_the_same_function_and_methods_exist(alias, name):
    assert getattr(ad, alias) is getattr(ad, name)
    assert hasattr(ad.Tensor, alias) and hasattr(torch.Tensor, alias)


def test_aliases_compute_as_torch():
    x, tx = _pair(np.float32([[0.5, -0.25], [0.75, -0.9]]))
    for call in (
        lambda lib, t: lib.arcsin(t),
        lambda lib, t: lib.arctan2(t, t * 2),
        lambda lib, t: t.negative(),
        lambda lib, t: lib.absolute(t),
        lambda lib, t: t.multiply(3.0),
        lambda lib, t: lib.divide(t, 4.0, rounding_mode="floor"),
        lambda lib, t: lib.subtract(t, 1.0),
        lambda lib, t: lib.true_divide(t, t),
        lambda lib, t: t.clip(-0.3, 0.6),
        lambda lib, t: lib.clip(t, min=0.0),
    ):
        _same(call(ad, x), call(torch, tx))
