"""Op-table entries for the reductions of autodiff/ops/reduce.py that return indices or change
the gradient rule (max/min with a dim, prod, std_mean, nansum...), ops/sort.py and ops/scan.py.

Ops returning `(values, indices)` are checked through their values (the indices are compared
with torch in tests/ops/test_sort.py); pairs of values (aminmax, var_mean) through a weighted
sum of both, so a swapped gradient shows.
"""

import numpy as np

import autodiff as ad
from autodiff.ops.reduce import Extreme, Prod, Std
from autodiff.ops.scan import Cumprod, Cumsum, LogCumSumExp
from autodiff.ops.shape import AdvancedIndex
from autodiff.ops.sort import Median
from tests.ops.harness import OpSpec, distinct, normal, sample, torch

NO_BROADCAST = "takes one tensor"
EXEMPT = {"broadcast": NO_BROADCAST}

# along one dim (dim required): scalar, size-1, non-contiguous, keepdim, a middle dim
ALONG = (
    sample((), dim=0),
    sample((1, 3), dim=1),
    sample((1, 3), dim=0, keepdim=True),
    sample((3, 4), dim=0),
    sample((4, 3), t=(0,), dim=-1),
    sample((2, 3, 4), dim=1, keepdim=True),
)
# over all elements (no dim)
WHOLE = (sample(()), sample((1, 3)), sample((3, 4)), sample((4, 3), t=(0,)))
# dim optional, None or an int
OPTIONAL_DIM = WHOLE + tuple(s for s in ALONG if s.shapes != ((),))
# for inputs holding NaN (nan_at): no slice all NaN
WITH_NAN = (
    sample(()),
    sample((1, 4)),
    sample((1, 4), dim=1, keepdim=True),
    sample((3, 4), dim=0),
    sample((4, 3), t=(0,), dim=-1),
    sample((2, 3, 4), dim=2),
)
# scans: dim required, no keepdim
SCAN = (
    sample((), dim=0),
    sample((1, 3), dim=1),
    sample((3, 4), dim=0),
    sample((4, 3), t=(0,), dim=-1),
    sample((2, 3, 4), dim=1),
)


def zeros_at(*positions):
    """Normal values with exact zeros at these flat positions (those that exist)."""

    def domain(rng, shape):
        x = rng.standard_normal(shape)
        flat = x.reshape(-1)
        flat[[p for p in positions if p < flat.size]] = 0.0
        return x

    domain.__name__ = f"zeros_at{positions}"
    return domain


def nan_at(*positions):
    """Distinct values with NaN at these flat positions (those that exist, but not all)."""

    def domain(rng, shape):
        x = distinct(rng, shape)
        flat = x.reshape(-1)
        flat[[p for p in positions if p < flat.size - 1]] = np.nan
        return x

    domain.__name__ = f"nan_at{positions}"
    return domain


# ---- numpy references -----------------------------------------------------------------------


def _axis(x, dim):
    return None if x.ndim == 0 else dim


def _keep(fn):
    """A numpy reduction `fn(x, axis)` (keeping the axis) with PyTorch's dim and keepdim."""

    def ref(x, dim=None, keepdim=False):
        axis = _axis(x, dim)
        y = fn(x if axis is not None else x.reshape(-1), -1 if axis is None else axis)
        if axis is None:
            return y.reshape((1,) * x.ndim if keepdim else ())
        return y if keepdim else np.squeeze(y, axis)

    return ref


def _np_lower_median(x, axis, skip_nan=False):
    s = np.sort(x, axis=axis)
    nans = np.isnan(s).sum(axis=axis, keepdims=True)
    n = s.shape[axis]
    pos = np.maximum((n - nans - 1) // 2, 0) if skip_nan else np.where(nans, n - nans, (n - 1) // 2)
    return np.take_along_axis(s, pos, axis)


def _np_sort(x, dim=-1, descending=False):
    if x.ndim == 0:
        return x
    s = np.sort(x, axis=dim)
    return np.flip(s, dim) if descending else s


def _np_topk(x, k, dim=-1, largest=True):
    if x.ndim == 0:
        return x
    return np.take(_np_sort(x, dim, largest), np.arange(k), axis=dim)


def _np_scan(ufunc):
    return lambda x, dim: x if x.ndim == 0 else ufunc.accumulate(x, axis=dim)


def _np_var_mean(x, dim=None, keepdim=False, correction=1, unbiased=None):
    if unbiased is not None:
        correction = int(unbiased)
    axis = _axis(x, dim)
    n = x.size if axis is None else np.prod([x.shape[a] for a in np.atleast_1d(axis)])
    m = np.mean(x, axis=axis, keepdims=True)
    v = np.sum((x - m) ** 2, axis=axis, keepdims=keepdim) / (n - correction)
    return v, m if keepdim else np.squeeze(m, axis) if axis is not None else m.reshape(())


# ---- torch equivalents ----------------------------------------------------------------------


def _t_dim_or_all(fn):
    """torch `fn(x, dim, keepdim)`, or `fn(x)` when dim is None."""
    return lambda x, dim=None, keepdim=False, **kw: (
        fn(x, **kw) if dim is None else fn(x, dim, keepdim=keepdim, **kw)
    )


def _torch(name):
    """torch.<name>, looked up when called (the table loads without torch)."""
    return lambda *args, **kw: getattr(torch, name)(*args, **kw)


def _values(fn):
    """The `values` of an op returning (values, indices), on either library's tensors."""
    return lambda *args, **kw: fn(*args, **kw).values


def _sqrt_first(pair):
    return np.sqrt(pair[0]), pair[1]


def _weighted(fn):
    """first + 0.5 * second of an op returning a pair (aminmax, var_mean, std_mean)."""

    def call(*args, **kw):
        first, second = fn(*args, **kw)
        return first + second * 0.5

    return call


def _selecting(name, ref, samples, domain=distinct, op=None):
    """An op returning (values, indices) whose values come from `select_along`, checked through
    its values: `ad.<op>` against `torch.<op>` (op: the name by default)."""
    op = op or name
    fn, torch_fn = _values(getattr(ad, op)), _values(_torch(op))
    return OpSpec(name, fn, ref, torch_fn, (AdvancedIndex,), samples, domain, exempt=EXEMPT)


def _whole(op, ref, covers, samples=WHOLE, domain=distinct):
    """`ad.<op>(x)` of all elements, a 0-d tensor, against `torch.<op>(x)`."""
    return OpSpec(
        f"{op}_all", getattr(ad, op), ref, _torch(op), covers, samples, domain, exempt=EXEMPT
    )


def _reduction(name, op, ref, covers, samples, domain):
    """`ad.<op>(x, dim=None, keepdim=False)` against torch's, whose dim cannot be None."""
    torch_fn = _t_dim_or_all(_torch(op))
    return OpSpec(
        name, getattr(ad, op), _keep(ref), torch_fn, covers, samples, domain, exempt=EXEMPT
    )


def _lower_median(skip_nan):
    return lambda x, a: _np_lower_median(x, a, skip_nan)


SPECS = [
    # ---- max and min -----------------------------------------------------------------------
    _selecting("max_dim", _keep(lambda x, a: np.max(x, axis=a, keepdims=True)), ALONG, op="max"),
    _selecting("min_dim", _keep(lambda x, a: np.min(x, axis=a, keepdims=True)), ALONG, op="min"),
    _whole("max", np.max, (Extreme,)),
    _whole("min", np.min, (Extreme,)),
    OpSpec(
        "aminmax",
        _weighted(ad.aminmax),
        lambda x, dim=None, keepdim=False: (
            _keep(lambda x, a: np.min(x, axis=a, keepdims=True))(x, dim, keepdim)
            + _keep(lambda x, a: np.max(x, axis=a, keepdims=True))(x, dim, keepdim) * 0.5
        ),
        _weighted(_torch("aminmax")),
        (Extreme,),
        OPTIONAL_DIM,
        distinct,
        exempt=EXEMPT,
    ),
    # ---- products, sums and means ------------------------------------------------------------
    *(
        _reduction(
            name,
            "prod",
            lambda x, a: np.prod(x, axis=a, keepdims=True),
            (Prod,),
            OPTIONAL_DIM,
            domain,
        )
        for name, domain in (
            ("prod", normal),
            ("prod_one_zero", zeros_at(0)),
            ("prod_two_zeros", zeros_at(0, 1)),
        )
    ),
    _reduction(
        "nansum",
        "nansum",
        lambda x, a: np.nansum(x, axis=a, keepdims=True),
        (),
        WITH_NAN,
        nan_at(0),
    ),
    _reduction(
        "nanmean",
        "nanmean",
        lambda x, a: np.nanmean(x, axis=a, keepdims=True),
        (),
        WITH_NAN,
        nan_at(1),
    ),
    # ---- std and var with their mean -----------------------------------------------------------
    OpSpec(
        "var_mean",
        _weighted(ad.var_mean),
        lambda x, **kw: _weighted(_np_var_mean)(x, **kw),
        _weighted(lambda x, dim=None, **kw: torch.var_mean(x, dim, **kw)),
        (),
        (
            sample((), correction=0),
            sample((1, 3), dim=1, keepdim=True),
            sample((3, 4), dim=0, unbiased=False),
            sample((4, 3), t=(0,), dim=-1),
        ),
        exempt=EXEMPT,
        rtol=1e-4,
    ),
    OpSpec(
        "std_mean",
        _weighted(ad.std_mean),
        lambda x, **kw: _weighted(lambda *a, **k: _sqrt_first(_np_var_mean(*a, **k)))(x, **kw),
        _weighted(lambda x, dim=None, **kw: torch.std_mean(x, dim, **kw)),
        (Std,),
        (
            sample((), correction=0),
            sample((1, 3), dim=1, keepdim=True),
            sample((3, 4), dim=0, unbiased=False),
            sample((4, 3), t=(0,), dim=-1),
            sample((2, 3, 4), dim=(0, 2)),
        ),
        exempt=EXEMPT,
        rtol=1e-4,
    ),
    # ---- sorting and order statistics -------------------------------------------------------
    _selecting(
        "sort",
        _np_sort,
        (
            sample((), dim=0),
            sample((1, 3)),
            sample((3, 4), dim=0, descending=True),
            sample((4, 3), t=(0,)),
            sample((2, 3, 4), dim=1, descending=True),
        ),
    ),
    _selecting(
        "topk",
        _np_topk,
        (
            sample((), k=1),
            sample((1, 3), k=2),
            sample((3, 4), k=2, dim=0, largest=False),
            sample((4, 3), t=(0,), k=3),
            sample((2, 3, 4), k=0, dim=1),
        ),
    ),
    _selecting(
        "kthvalue",
        lambda x, k, dim=-1, keepdim=False: _keep(
            lambda x, a: np.take(np.sort(x, axis=a), [k - 1], axis=a)
        )(x, dim, keepdim),
        (
            sample((), k=1),
            sample((1, 3), k=3),
            sample((3, 4), k=2, dim=0, keepdim=True),
            sample((4, 3), t=(0,), k=1),
            sample((2, 3, 4), k=4, dim=2),
        ),
    ),
    _selecting("median_dim", _keep(_lower_median(False)), ALONG, op="median"),
    _whole("median", lambda x: _keep(_lower_median(False))(x), (Median,)),
    _selecting(
        "nanmedian_dim",
        _keep(_lower_median(True)),
        (sample((), dim=0), *WITH_NAN[2:]),
        nan_at(0, 3),
        op="nanmedian",
    ),
    _whole(
        "nanmedian",
        lambda x: _keep(_lower_median(True))(x),
        (Median,),
        (*WITH_NAN[:2], sample((4, 3), t=(0,))),
        nan_at(0, 3),
    ),
    # distinct values: each occurs once, and the mode is the smallest
    _selecting("mode", _keep(lambda x, a: np.min(x, axis=a, keepdims=True)), ALONG),
    # ---- scans -------------------------------------------------------------------------------
    OpSpec("cumsum", ad.cumsum, _np_scan(np.add), _torch("cumsum"), (Cumsum,), SCAN, exempt=EXEMPT),
    *(
        OpSpec(
            name,
            ad.cumprod,
            _np_scan(np.multiply),
            _torch("cumprod"),
            (Cumprod,),
            SCAN,
            domain,
            exempt=EXEMPT,
        )
        for name, domain in (
            ("cumprod", normal),
            ("cumprod_one_zero", zeros_at(1)),
            ("cumprod_two_zeros", zeros_at(1, 2)),
        )
    ),
    _selecting("cummax", _np_scan(np.maximum), SCAN),
    _selecting("cummin", _np_scan(np.minimum), SCAN),
    OpSpec(
        "logcumsumexp",
        ad.logcumsumexp,
        _np_scan(np.logaddexp),
        _torch("logcumsumexp"),
        (LogCumSumExp,),
        SCAN,
        exempt=EXEMPT,
    ),
]
