"""Shape and indexing ops against PyTorch where the op table cannot go: indexing patterns by the
thousand, integer dtypes, ties and zeros, views against copies, non-differentiable ops, errors.
"""

import itertools

import numpy as np
import pytest

import autodiff as ad
from autodiff.errors import DimError, ShapeError

torch = pytest.importorskip("torch")

X = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
ITEMS = {
    "0": 0,
    "-1": -1,
    ":": slice(None),
    "1:": slice(1, None),
    "idx": np.array([1, 0]),
    "None": None,
    "...": Ellipsis,
    "0-d": np.array(1),
    "mask": np.array([True, False]),
}


def _torch_index(index):
    return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def _ad_index(index):
    return tuple(ad.tensor(i) if isinstance(i, np.ndarray) else i for i in index)


def _patterns():
    """Every index of up to 3 items that torch accepts on X (at most one Ellipsis)."""
    found = []
    for n in (1, 2, 3):
        for names in itertools.product(ITEMS, repeat=n):
            if names.count("...") > 1:
                continue
            index = tuple(ITEMS[k] for k in names)
            try:
                torch.from_numpy(X)[_torch_index(index)]
            except (IndexError, RuntimeError, TypeError):
                continue
            found.append(pytest.param(index, id=" ".join(names)))
    return found


PATTERNS = _patterns()


def test_numpy_and_torch_differ_on_some_patterns():
    """The reason for PyTorch's rule in getitem: numpy gives other shapes for these."""
    differ = [p for p in PATTERNS if np.shape(X[p.values[0]]) != _torch_get(p.values[0]).shape]
    assert len(differ) > 5
    x = np.zeros((2, 3, 4))
    assert x[0, :, [0, 1]].shape == (2, 3)  # numpy: the broadcast index dims go first
    assert tuple(torch.zeros(2, 3, 4)[0, :, [0, 1]].shape) == (3, 2)
    assert ad.zeros(2, 3, 4)[0, :, [0, 1]].shape == (3, 2)


def _torch_get(index):
    return torch.from_numpy(X)[_torch_index(index)].numpy()


@pytest.mark.parametrize("index", PATTERNS)
def test_getitem_matches_torch(index):
    expected = _torch_get(index)
    for ours in (index, _ad_index(index)):  # numpy arrays and tensors as index items
        out = ad.tensor(X)[ours]
        assert out.shape == expected.shape
        np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize(
    "index", [p for p in PATTERNS if any(isinstance(i, np.ndarray) for i in p.values[0])]
)
def test_getitem_and_setitem_gradients_match_torch(index):
    x = ad.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    out, expected = x[_ad_index(index)], tx[_torch_index(index)]
    gy = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(gy)
    expected.backward(torch.from_numpy(gy))
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())

    v = ad.tensor(gy, requires_grad=True)
    tv = torch.tensor(gy, requires_grad=True)
    y, ty = x * 1, tx * 1
    y[_ad_index(index)] = v
    ty[_torch_index(index)] = tv
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(v.grad.data, tv.grad.numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_index_put_accumulate_adds_repeated_indices():
    rows, cols = np.array([0, 2, 0, 0]), np.array([1, 1, 1, 3])
    values = np.arange(1.0, 5.0)
    x = ad.zeros(3, 4, dtype=ad.float64)
    out = x.index_put((ad.tensor(rows), ad.tensor(cols)), ad.tensor(values), accumulate=True)
    t = torch.zeros(3, 4, dtype=torch.float64)
    expected = t.index_put((torch.tensor(rows), torch.tensor(cols)), torch.tensor(values), True)
    np.testing.assert_array_equal(out.data, expected.numpy())
    x.index_put_((ad.tensor(rows), ad.tensor(cols)), ad.tensor(values), accumulate=True)
    np.testing.assert_array_equal(x.data, expected.numpy())


# ---- values and dtypes that the float table does not reach -----------------------------------

INT = np.arange(12).reshape(3, 4) - 5
SAME_IN_BOTH = {
    # name: a call that works on either library's tensors (index tensors built by `lib`)
    "repeat": lambda lib, x: x.repeat(2, 1),
    "tile": lambda lib, x: lib.tile(x, (2,)),
    "repeat_interleave": lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 2]), dim=0),
    "flip": lambda lib, x: lib.flip(x, (0, 1)),
    "roll": lambda lib, x: lib.roll(x, (1, 2), (0, 1)),
    "rot90": lambda lib, x: lib.rot90(x, 3),
    "tril": lambda lib, x: lib.tril(x, 1),
    "triu": lambda lib, x: lib.triu(x, -1),
    "diag": lambda lib, x: lib.diag(x, 1),
    "diagonal": lambda lib, x: lib.diagonal(x, -1),
    "diag_embed": lambda lib, x: lib.diag_embed(x),
    "trace": lambda lib, x: lib.trace(x),
    "gather": lambda lib, x: lib.gather(x, 1, lib.tensor([[0, 0], [3, 1], [2, 2]])),
    "scatter": lambda lib, x: lib.scatter(x, 0, lib.tensor([[2, 0, 1, 0]]), 7),
    "scatter_add": lambda lib, x: x.scatter_add(1, lib.tensor([[0, 0]] * 3), x),
    "scatter_reduce mean": lambda lib, x: x.scatter_reduce(
        0, lib.tensor([[0, 0, 1, 2]]), x, "mean"
    ),
    "scatter_reduce mean excl": lambda lib, x: x.scatter_reduce(
        0, lib.tensor([[0, 0, 1, 2], [0, 0, 1, 2]]), x[:2] * 3, "mean", include_self=False
    ),
    "scatter_reduce prod": lambda lib, x: x.scatter_reduce(1, lib.tensor([[1, 1]] * 3), x, "prod"),
    "scatter_reduce amin": lambda lib, x: x.scatter_reduce(
        0, lib.tensor([[2, 2, 2, 2]]), x, "amin"
    ),
    "index_select": lambda lib, x: lib.index_select(x, 1, lib.tensor([3, 3, 0])),
    "index_add": lambda lib, x: x.index_add(0, lib.tensor([2, 2]), x[:2], alpha=3),
    "index_copy": lambda lib, x: x.index_copy(1, lib.tensor([1]), x[:, :1]),
    "index_fill": lambda lib, x: x.index_fill(1, lib.tensor([0, -1]), 9),
    "masked_fill float into int": lambda lib, x: x.masked_fill(x > 0, 2.7),
    "masked_select": lambda lib, x: lib.masked_select(x, x > 1),
    "take": lambda lib, x: lib.take(x, lib.tensor([[-1, 0], [4, 4]])),
    "take_along_dim": lambda lib, x: lib.take_along_dim(x, lib.tensor([[1], [0], [3]]), 1),
    "unfold": lambda lib, x: x.unfold(1, 2, 2),
    "narrow": lambda lib, x: x.narrow(0, 1, 2),
    "movedim": lambda lib, x: lib.movedim(x, 0, 1),
    "unflatten": lambda lib, x: x.unflatten(1, (2, 2)),
    "meshgrid default ij": lambda lib, x: lib.stack(lib.meshgrid(x[0], x[1], indexing="ij")),
    "meshgrid xy": lambda lib, x: lib.stack(lib.meshgrid(x[0], x[1, :3], indexing="xy")),
}


@pytest.mark.parametrize("call", SAME_IN_BOTH.values(), ids=SAME_IN_BOTH.keys())
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_tensors_match_torch(call, dtype):
    a = INT.astype(dtype)
    expected = call(torch, torch.from_numpy(a))
    out = call(ad, ad.tensor(a))
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_repeat_interleave_of_counts_alone():
    counts = np.array([2, 0, 3])
    out = ad.repeat_interleave(ad.tensor(counts))
    expected = torch.repeat_interleave(torch.tensor(counts))
    np.testing.assert_array_equal(out.data, expected.numpy())
    assert out.dtype == ad.int64


@pytest.mark.parametrize(
    "a",
    [np.array([[0, 1.5], [-2, 0]]), np.zeros((2, 0)), np.array(3.0), np.array(0.0), np.eye(3)],
    ids=["2-D", "empty", "0-d", "0-d zero", "eye"],
)
def test_nonzero_matches_torch(a):
    expected = torch.nonzero(torch.from_numpy(a))
    out = ad.nonzero(ad.tensor(a))
    assert out.dtype == ad.int64 and out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.data, expected.numpy())
    as_tuple = ad.tensor(a).nonzero(as_tuple=True)
    expected_tuple = torch.from_numpy(a).nonzero(as_tuple=True)
    assert len(as_tuple) == len(expected_tuple)
    for ours, theirs in zip(as_tuple, expected_tuple, strict=True):
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_scatter_prod_gradient_with_zeros_matches_torch():
    x = np.array([0.0, 2.0, 0.0, 3.0, 5.0])
    src = np.array([0.0, 4.0, 0.0, 0.0, 7.0, 2.0])
    index = np.array([0, 0, 1, 2, 2, 4])  # zeros: one, two, one-in-x, none; position 3 untouched
    for include_self in (True, False):
        grads = []
        for lib in (ad, torch):
            xs = lib.tensor(x, requires_grad=True), lib.tensor(src, requires_grad=True)
            out = xs[0].scatter_reduce(
                0, lib.tensor(index), xs[1], "prod", include_self=include_self
            )
            out.backward(lib.tensor(np.arange(1.0, 6.0)))
            grads.append([out.detach().numpy()] + [t.grad.numpy() for t in xs])
        for ours, theirs in zip(*grads, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_scatter_amax_without_self_gives_a_tied_source_the_whole_gradient():
    """A deliberate difference: torch halves the gradient of a source element that ties with
    x's element even when include_self=False leaves x's element out of the maximum."""
    x = ad.tensor([1.0, 0.0], dtype=ad.float64)
    src = ad.tensor([1.0], dtype=ad.float64, requires_grad=True)
    out = x.scatter_reduce(0, ad.tensor([0]), src, "amax", include_self=False)
    out.sum().backward()
    assert src.grad.item() == 1.0  # out[0] is src[0] itself
    assert ad.gradcheck(
        lambda s: x.scatter_reduce(0, ad.tensor([0]), s, "amax", include_self=False), [src]
    ).passed


# ---- views and copies ----------------------------------------------------------------------------

VIEWS = {
    "narrow": lambda lib, x: x.narrow(1, 1, 2),
    "select": lambda lib, x: x.select(0, 1),
    "split": lambda lib, x: x.split(2, 1)[1],
    "chunk": lambda lib, x: x.chunk(2)[0],
    "unbind": lambda lib, x: x.unbind(1)[2],
    "diagonal": lambda lib, x: x.diagonal(1),
    "unfold": lambda lib, x: x.unfold(1, 2, 1),
    "movedim": lambda lib, x: x.movedim(0, 1),
    "swapaxes": lambda lib, x: x.swapaxes(0, 1),
    "t": lambda lib, x: x.t(),
    "mT": lambda lib, x: x.mT,
    "unflatten": lambda lib, x: x.unflatten(1, (2, 2)),
    "squeeze": lambda lib, x: x.unsqueeze(0).squeeze((0,)),
    "broadcast_to": lambda lib, x: lib.broadcast_to(x, (2, 3, 4)),
    "0-d index": lambda lib, x: x[lib.tensor(1)],
}
COPIES = {
    "repeat": lambda lib, x: x.repeat(1, 1),
    "tile": lambda lib, x: x.tile((1,)),
    "repeat_interleave": lambda lib, x: x.repeat_interleave(1, 0),
    "flip": lambda lib, x: x.flip(0),
    "roll": lambda lib, x: x.roll(1, 0),
    "rot90 k=0": lambda lib, x: x.rot90(0),
    "rot90": lambda lib, x: x.rot90(1),
    "diag": lambda lib, x: x.diag(),
    "tril": lambda lib, x: x.tril(),
    "masked_fill": lambda lib, x: x.masked_fill(x > 100, 0.0),
    "gather": lambda lib, x: x.gather(1, lib.tensor([[0], [1], [2]])),
    "take_along_dim": lambda lib, x: lib.take_along_dim(x, lib.tensor([[0], [1], [2]]), 1),
    "index_select": lambda lib, x: x.index_select(0, lib.tensor([0, 1])),
}


def _torch_shares(make):
    t = torch.arange(12.0).reshape(3, 4).clone()
    return make(torch, t).untyped_storage().data_ptr() == t.untyped_storage().data_ptr()


@pytest.mark.parametrize("make", VIEWS.values(), ids=VIEWS.keys())
def test_views_share_memory_and_version_as_in_torch(make):
    assert _torch_shares(make)
    x = ad.tensor(np.arange(12.0).reshape(3, 4))
    view = make(ad, x)
    assert np.shares_memory(view.data, x.data)
    if view.data.flags.writeable:  # broadcast_to's view is read-only, as numpy's
        with ad.no_grad():
            view.mul_(0.0)
        assert x._version == view._version == 1
        assert x.data.sum() < 66.0


@pytest.mark.parametrize("make", COPIES.values(), ids=COPIES.keys())
def test_copies_share_nothing_and_accept_recorded_inplace_writes(make):
    assert not _torch_shares(make)
    x = ad.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    out = make(ad, x)
    assert not np.shares_memory(out.data, x.data)
    out.mul_(2.0)  # recorded in place: refused on a view, fine on a new tensor as in torch
    out.sum().backward()
    assert x._version == 0 and x.grad is not None


# ---- errors ----------------------------------------------------------------------------------

ERRORS = [
    (lambda x: x.gather(1, ad.tensor([[4]])), IndexError, "gather: index 4 is out of range"),
    (lambda x: x.gather(1, ad.tensor([[-1]])), IndexError, "gather: index -1"),
    (lambda x: x.gather(1, ad.tensor([0])), ShapeError, r"gather: index of shape \(1,\)"),
    (lambda x: x.gather(1, ad.tensor([[0.5]])), TypeError, "gather: index must be an integer"),
    (lambda x: x.gather(2, ad.tensor([[0]])), DimError, "gather: dim 2 is out of range"),
    (lambda x: x.scatter(0, ad.tensor([[0]]), x.float()), TypeError, "scatter: src"),
    (lambda x: x.scatter_add(0, ad.tensor([[0]]), 1.0), TypeError, "scatter_add: src must be"),
    (lambda x: x.scatter_reduce(0, ad.tensor([[0]]), x, "max"), ValueError, "reduce must be"),
    (lambda x: x.index_select(0, ad.tensor([[0]])), ShapeError, "index_select: index must be"),
    (lambda x: x.index_add(0, ad.tensor([0]), x), ShapeError, r"index_add: source of shape"),
    (lambda x: x.masked_fill(ad.tensor([1, 0, 1, 0]), 0.0), TypeError, "masked_fill: mask"),
    (lambda x: x.masked_fill(x > 0, x), ShapeError, "masked_fill: a tensor value must be 0-d"),
    (lambda x: x.masked_fill(ad.tensor([True, False]), 0.0), ShapeError, "does not broadcast"),
    (lambda x: ad.take(x, ad.tensor([12])), IndexError, "take: index 12"),
    (lambda x: x.split([1, 1], 0), ShapeError, r"split: sizes \[1, 1\] must"),
    (lambda x: x.unfold(1, 5, 1), ValueError, "unfold: size 5"),
    (lambda x: x.narrow(0, 2, 2), IndexError, "narrow: start 2 and length 2"),
    (lambda x: x.reshape(3, 2, 2).t(), ShapeError, "t: expects a tensor with <= 2 dims"),
    (lambda x: x.repeat(2), ShapeError, "repeat: 1 repeat sizes"),
    (lambda x: x.diagonal(0, 1, -1), ValueError, "diagonal: dim1 and dim2 must differ"),
    (lambda x: ad.diag(x.reshape(3, 2, 2)), ShapeError, r"diag: expects a 1-D or 2-D"),
    (lambda x: x.movedim((0, 1), 0), ShapeError, "movedim: source"),
    (lambda x: x.unflatten(1, (3, 2)), ShapeError, "unflatten: shape"),
    (lambda x: ad.broadcast_tensors(x, x[:2]), ShapeError, "broadcast_tensors: shapes"),
    (lambda x: x.repeat_interleave(ad.tensor([1, 2]), 0), ValueError, "repeat_interleave"),
    (lambda x: x.index_put((ad.tensor([0]),), x[0].float(), True), TypeError, "accumulate"),
    (lambda x: x[ad.tensor([0.5])], TypeError, "getitem: index arrays must be integer"),
]


@pytest.mark.parametrize(("call", "kind", "message"), ERRORS, ids=[e[2] for e in ERRORS])
def test_errors_name_the_op(call, kind, message):
    x = ad.tensor(np.arange(12.0).reshape(3, 4))
    with pytest.raises(kind, match=message):
        call(x)
    assert x._version == 0


@pytest.mark.parametrize(
    "op, dim, index",
    [
        ("index_select", 0, [0]),
        ("index_select", -1, 0),
        ("gather", 0, 0),
        ("gather", -1, [0, 0, 0]),
    ],
)
def test_a_0d_tensor_is_one_element_along_dim_0_as_torch(op, dim, index):
    x, xt = ad.tensor(2.5, requires_grad=True), torch.tensor(2.5, requires_grad=True)
    ours = getattr(x, op)(dim, ad.tensor(index))
    theirs = getattr(xt, op)(dim, torch.tensor(index))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    (ours * 3).sum().backward()
    (theirs * 3).sum().backward()
    assert x.grad.item() == xt.grad.item()


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda x: x.index_select(0, ad.tensor([0, 0])), ShapeError),
        (lambda x: x.gather(0, ad.tensor([[0]])), ShapeError),
        (lambda x: x.gather(0, ad.tensor([1])), IndexError),
        (lambda x: x.gather(1, ad.tensor(0)), IndexError),
    ],
)
def test_a_0d_tensor_refuses_what_torch_refuses(call, error):
    with pytest.raises(error):
        call(ad.tensor(2.5))
