"""isnan/isinf/isfinite, isclose/allclose/equal, logical_* and bitwise_* (and their operators)
against PyTorch, on every dtype, NaN and infinities, ties and out-of-range shifts."""

import itertools

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

INTEGER = ["uint8", "int8", "int16", "int32", "int64"]
DTYPES = ["bool", *INTEGER, "float32", "float64"]
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5]


def _values(dtype, shape=(4, 5), seed=0):
    """Random values of `dtype`, with NaN, +-inf and signed zeros in a float array."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in INTEGER:
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), shape).astype(dtype)
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[: len(SPECIAL)] = SPECIAL
    return a


def _pair(a):
    return ad.tensor(a), torch.from_numpy(np.array(a))


def _same(ours, theirs):
    expected = theirs.numpy()
    assert isinstance(ours, ad.Tensor) and not ours.requires_grad
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_array_equal(ours.data, expected)


# ---- isnan, isinf, isfinite ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_value_tests_match_torch(name, dtype):
    for a in (_values(dtype), _values(dtype, ())):
        x, tx = _pair(a)
        _same(getattr(ad, name)(x), getattr(torch, name)(tx))
        _same(getattr(x, name)(), getattr(tx, name)())


def test_value_tests_record_no_graph():
    x = ad.tensor([1.0, np.nan], requires_grad=True)
    assert not ad.isnan(x).requires_grad and ad.isnan(x).grad_fn is None


# ---- logical -------------------------------------------------------------------------------------


LOGICAL_PAIRS = [("bool", "bool"), ("int64", "float32"), ("uint8", "bool"), ("float64", "int8")]


@pytest.mark.parametrize(("a_dtype", "b_dtype"), LOGICAL_PAIRS)
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_match_torch_with_broadcasting(name, a_dtype, b_dtype):
    x, tx = _pair(_values(a_dtype, (3, 1, 4), seed=1) * 1)
    y, ty = _pair(_values(b_dtype, (5, 1), seed=2))
    _same(getattr(ad, name)(x, y), getattr(torch, name)(tx, ty))
    _same(getattr(x, name)(y), getattr(tx, name)(ty))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logical_not_matches_torch(dtype):
    x, tx = _pair(_values(dtype))
    _same(ad.logical_not(x), torch.logical_not(tx))
    _same(x.logical_not(), tx.logical_not())


# ---- bitwise -------------------------------------------------------------------------------------

BITWISE_DTYPES = ["bool", *INTEGER]


@pytest.mark.parametrize(("a_dtype", "b_dtype"), list(itertools.product(BITWISE_DTYPES, repeat=2)))
@pytest.mark.parametrize("op", ["and", "or", "xor"])
def test_bitwise_binary_match_torch_in_value_and_dtype(op, a_dtype, b_dtype):
    x, tx = _pair(_values(a_dtype, (3, 4), seed=3))
    y, ty = _pair(_values(b_dtype, (4,), seed=4))
    name = f"bitwise_{op}"
    _same(getattr(ad, name)(x, y), getattr(torch, name)(tx, ty))
    dunder = f"__{op}__"
    _same(getattr(x, dunder)(y), getattr(tx, dunder)(ty))
    for scalar in (True, 5, -3):  # a Python number on either side; a bool tensor & 5 is int64
        _same(getattr(x, dunder)(scalar), getattr(tx, dunder)(scalar))
        _same(getattr(x, f"__r{op}__")(scalar), getattr(tx, f"__r{op}__")(scalar))


@pytest.mark.parametrize("dtype", BITWISE_DTYPES)
def test_bitwise_not_matches_torch(dtype):
    x, tx = _pair(_values(dtype))
    _same(ad.bitwise_not(x), torch.bitwise_not(tx))
    _same(~x, ~tx)


@pytest.mark.parametrize("dtype", INTEGER)
def test_shifts_match_torch_for_negative_and_too_large_amounts(dtype):
    bits = np.iinfo(dtype).bits
    a = _values(dtype, (8,), seed=5)
    a[:2] = np.iinfo(dtype).min, np.iinfo(dtype).max
    negative = [-1, -bits - 3] if dtype != "uint8" else [200, 255]
    amounts = np.array([0, 1, 3, bits - 1, bits, bits + 5, *negative], dtype=dtype)
    x, tx = _pair(a)
    s, ts = _pair(amounts)
    _same(ad.bitwise_left_shift(x, s), torch.bitwise_left_shift(tx, ts))
    _same(ad.bitwise_right_shift(x, s), torch.bitwise_right_shift(tx, ts))
    _same(x << s, tx << ts)
    _same(x >> s, tx >> ts)
    _same(x << 2, tx << 2)
    _same(3 << s.clamp(0, bits - 2), 3 << ts.clamp(0, bits - 2))
    _same(-64 >> s.clamp(0, 10), -64 >> ts.clamp(0, 10))


def test_a_bool_tensor_shifted_by_an_int_is_int64_as_in_torch():
    x, tx = _pair(np.array([True, False, True]))
    _same(x << 1, tx << 1)
    with pytest.raises(
        TypeError, match="bitwise_right_shift: needs integer operands.*promote to bool"
    ):
        x >> x  # noqa: B015 - the error is the point


@pytest.mark.parametrize(
    "call",
    [
        lambda x, i: ad.bitwise_and(x, i),
        lambda x, i: i | x,
        lambda x, i: i ^ 2.5,
        lambda x, i: ~x,
        lambda x, i: i << x,
        lambda x, i: ad.bitwise_right_shift(x, 1),
    ],
)
def test_bitwise_ops_refuse_floats_naming_the_op_and_operands(call):
    x, i = ad.tensor([1.5, 2.0]), ad.tensor([1, 2])
    with pytest.raises(TypeError, match=r"bitwise_\w+: .*integer.*promote to float"):
        call(x, i)


@pytest.mark.parametrize(
    ("dunder", "method"),
    [
        ("__iand__", "bitwise_and_"),
        ("__ior__", "bitwise_or_"),
        ("__ixor__", "bitwise_xor_"),
        ("__ilshift__", "bitwise_left_shift_"),
        ("__irshift__", "bitwise_right_shift_"),
    ],
)
def test_in_place_bitwise_operators_match_torch(dunder, method):
    a = _values("int32", (3, 4), seed=6)
    b = _values("int32", (4,), seed=7) % 8
    x, tx = _pair(a)
    y, ty = _pair(b)
    buffer, version = x.data, x._version
    assert getattr(x, dunder)(y) is x
    getattr(tx, method)(ty)
    _same(x, tx)
    assert x.data is buffer and x._version == version + 1
    assert getattr(x, dunder)(3) is x
    getattr(tx, method)(3)
    _same(x, tx)


def test_in_place_bitwise_on_bool_keeps_bool():
    x, tx = _pair(np.array([True, False, True]))
    x &= ad.tensor([True, True, False])
    tx &= torch.tensor([True, True, False])
    _same(x, tx)


# ---- isclose, allclose, equal --------------------------------------------------------------------


def _near(dtype, seed):
    """Pairs that are close, barely close, barely not, infinite or NaN."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(200).astype(dtype)
    scale = rng.choice([0.0, 1e-9, 1e-7, 5e-6, 1e-5, 2e-5, 1e-3], 200)
    b = (a * (1 + scale * rng.choice([-1, 1], 200))).astype(dtype)
    a[:6] = [np.nan, np.inf, np.inf, -np.inf, 0.0, np.nan]
    b[:6] = [np.nan, np.inf, -np.inf, -np.inf, 1e-9, 1.0]
    return a, b


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"equal_nan": True}, {"rtol": 0, "atol": 1e-6},
                                {"rtol": 1e-3, "atol": 0.0}])  # fmt: skip
def test_isclose_matches_torch_on_floats(dtype, kw):
    a, b = _near(dtype, seed=8)
    x, tx = _pair(a)
    y, ty = _pair(b)
    _same(ad.isclose(x, y, **kw), torch.isclose(tx, ty, **kw))
    _same(x.isclose(y, **kw), tx.isclose(ty, **kw))
    assert ad.allclose(x, y, **kw) is torch.allclose(tx, ty, **kw)
    close = ~np.isnan(a) if kw.get("equal_nan") is not True else np.ones(a.shape, bool)
    assert ad.allclose(x[close], x[close], **kw) is True


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
def test_isclose_matches_torch_on_integers_and_bool(dtype):
    x, tx = _pair(_values(dtype, (20,), seed=9))
    y, ty = _pair(_values(dtype, (20,), seed=10))
    for kw in ({}, {"rtol": 0, "atol": 3}, {"rtol": 0.5, "atol": 0}):
        _same(ad.isclose(x, y, **kw), torch.isclose(tx, ty, **kw))


def test_isclose_broadcasts():
    x, tx = _pair(np.array([[1.0], [2.0]]))
    y, ty = _pair(np.array([1.0, 2.0, 2.0 + 1e-6]))
    _same(ad.isclose(x, y), torch.isclose(tx, ty))


def test_isclose_refuses_mixed_dtypes_and_negative_tolerances():
    x = ad.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"isclose: .*float32.*float64"):
        ad.isclose(x, x.double())
    with pytest.raises(TypeError, match="isclose"):
        ad.allclose(x, ad.tensor([1, 2]))
    with pytest.raises(ValueError, match="isclose: rtol and atol must be >= 0"):
        ad.isclose(x, x, rtol=-1)


def test_allclose_and_equal_return_python_bools_as_torch():
    a = np.array([1.0, 2.0, np.nan], np.float32)
    cases = [
        (a, a),
        (a[:2], a[:2]),
        (a[:2], a[:2] + 1e-7),
        (a[:2], a[:2].astype(np.float64)),
        (np.array([1, 2]), np.array([[1, 2]])),
        (np.array([True, False]), np.array([1, 0])),
        (np.array([1, 2]), np.array([1.0, 2.0], np.float32)),
        (np.array(3), np.array(3)),
        (np.zeros((0, 2)), np.zeros((0, 2))),
    ]
    for a, b in cases:
        (x, tx), (y, ty) = _pair(a), _pair(b)
        assert ad.equal(x, y) is torch.equal(tx, ty), (a, b)
        assert x.equal(y) is tx.equal(ty)
        if a.dtype == b.dtype and a.shape == b.shape:
            assert ad.allclose(x, y) is torch.allclose(tx, ty), (a, b)
