"""Op-table entries for the shape and indexing ops of autodiff/ops/{shape,movement,diagonals,
index,slicing}.py added for PyTorch parity (the older shape ops are in specs_core.py).

Index arguments are numpy arrays in the sample's kwargs; the torch calls convert them with `_t`.
"""

import numpy as np

import autodiff as ad
from autodiff.ops.diagonals import DiagEmbed, Diagonal
from autodiff.ops.index import ScatterExtreme, ScatterProd
from autodiff.ops.movement import Flip, Repeat, Roll, Rot90
from autodiff.ops.shape import AdvancedIndex, BasicIndex, IndexPut, IndexPutAccumulate, Permute
from autodiff.ops.slicing import Unfold
from tests.ops.harness import OpSpec, distinct, mask, sample, torch

ONE_TENSOR = {"broadcast": "takes one tensor"}
NEEDS_A_DIM = "needs at least one dim (PyTorch's 0-d case is a 1-element dim)"
NEEDS_2_DIMS = "needs a matrix (at least 2 dims), as in PyTorch"
NO_BROADCAST = "the tensors do not broadcast: src/source is addressed by the index"


def _t(index):
    """A numpy index array (or a tuple of them) as torch tensors."""
    if isinstance(index, tuple):
        return tuple(_t(i) for i in index)
    return torch.from_numpy(index) if isinstance(index, np.ndarray) else index


def _one(name, fn, ref, torch_fn, covers, samples, no_scalar=None, **extra):
    """An entry for an op of one tensor input (exempt from the broadcast sample); `no_scalar`
    is why it has no 0-d sample, if it has none."""
    exempt = ONE_TENSOR | ({"scalar": no_scalar} if no_scalar else {})
    return OpSpec(name, fn, ref, torch_fn, covers, samples, exempt=exempt, **extra)


def _weighted(pieces):
    """The pieces scaled 1, 2, 3, ...: each piece gets a gradient of its own."""
    return [p * (i + 1) for i, p in enumerate(pieces)]


# ---- numpy references --------------------------------------------------------------------------


def _np_along(index, dim):
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _np_gather(x, index, dim):
    return x[_np_along(index, dim)]


def _np_scatter(x, s, index, dim, add=False):
    out = x.copy()
    part = s[tuple(slice(n) for n in index.shape)]
    if add:
        np.add.at(out, _np_along(index, dim), part)
    else:
        out[_np_along(index, dim)] = part
    return out


def _np_scatter_reduce(x, s, index, dim, reduce, include_self=True):
    """A loop over the positions: the reduction of each one's list of elements."""
    lists = {p: ([x[p]] if include_self else []) for p in np.ndindex(x.shape)}
    for p in np.ndindex(index.shape):
        q = list(p)
        q[dim] = index[p]
        lists[tuple(q)].append(s[p])
    combine = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    out = x.copy()
    for p, values in lists.items():
        if values:
            out[p] = combine[reduce](values)
    return out


def _np_index_add(x, s, index, dim, alpha=1):
    out = x.copy()
    np.add.at(out, (slice(None),) * dim + (index,), alpha * s)
    return out


def _np_index_put(x, v, index, value=None):
    out = x.copy()
    out[index] = v if value is None else value
    return out


def _np_diag_embed(x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1] + abs(offset)
    out = np.zeros((*x.shape[:-1], n, n))
    rows = np.arange(x.shape[-1]) + max(-offset, 0)
    out[..., rows, rows + offset] = x
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


def _np_diag(x, diagonal=0):
    return np.diag(x, diagonal)


def _np_unfold(x, dimension, size, step):
    n = (x.shape[dimension] - size) // step + 1
    windows = [np.take(x, range(i * step, i * step + size), dimension) for i in range(n)]
    return np.moveaxis(np.stack(windows), (0, dimension + 1), (dimension, -1))


def _np_meshgrid(x, y, indexing="ij"):
    return np.stack(np.meshgrid(x, y, indexing=indexing))


def _np_broadcast_to(x, shape):
    lead = len(shape) - x.ndim
    return np.broadcast_to(x, [x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape)])


def _np_unflatten(x, dim, sizes):
    d = dim % x.ndim
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1 :])


def _np_torch_order(x, index):
    """x[index] by PyTorch's rule, for an index (int, ..., index array): the int first."""
    return x[index[0]][index[1:]]


def _np_put_torch_order(x, v, index):
    out = x.copy()
    out[index[0]][index[1:]] = v
    return out


def _np_accumulate(x, v, index):
    out = x.copy()
    np.add.at(out, index, v)
    return out


def _np_narrow(x, dim, start, length):
    return np.take(x, range(start % x.shape[dim], start % x.shape[dim] + length), dim)


# ---- calls that are not a plain functional -----------------------------------------------------


def _scatter(x, s, index, dim):
    return x.scatter(dim, index, s)


def _t_index_put(x, v, index):
    out = x.clone()
    out[_t(index)] = v
    return out


def _distinct_between(rng, shape):
    """Distinct values halfway between those of `distinct`: no ties with an input drawn there."""
    return distinct(rng, shape) + 0.05


def _t_scatter(x, s, index, dim):
    return x.scatter(dim, _t(index), s[tuple(slice(n) for n in index.shape)])


def _scatter_add(x, s, index, dim):
    return x.scatter_add(dim, index, s)


def _t_scatter_add(x, s, index, dim):
    return x.scatter_add(dim, _t(index), s[tuple(slice(n) for n in index.shape)])


def _scatter_reduce(x, s, index, dim, reduce, include_self=True):
    return ad.scatter_reduce(x, dim, ad.tensor(index), s, reduce, include_self=include_self)


def _t_scatter_reduce(x, s, index, dim, reduce, include_self=True):
    return x.scatter_reduce(dim, _t(index), s, reduce, include_self=include_self)


def _split(lib):
    return lambda x, sizes, dim: lib.cat(_weighted(lib.split(x, sizes, dim)), dim)


def _chunk(lib):
    return lambda x, chunks, dim: lib.cat(_weighted(lib.chunk(x, chunks, dim)), dim)


def _unbind(lib):
    return lambda x, dim: lib.stack(_weighted(lib.unbind(x, dim)))


def _np_unbind(x, dim):
    return np.stack(_weighted(np.moveaxis(x, dim, 0)))


def _np_split(x, sizes, dim):
    bounds = np.cumsum(sizes if isinstance(sizes, list) else [sizes] * (x.shape[dim] // sizes))
    return np.concatenate(_weighted(np.split(x, bounds[bounds < x.shape[dim]], dim)), dim)


def _np_chunk(x, chunks, dim):
    return _np_split(x, -(-x.shape[dim] // chunks), dim)


INDEX_34 = np.array([[2, 0, 1, 0], [1, 2, 2, 0]])  # a (2, 4) index into a (3, 4) tensor, dim 0
PERM_34 = np.array([[2, 0, 1, 2], [1, 1, 0, 0]])  # no position twice along dim 0 per column
ROWS = np.array([3, 0, 0, 2])

SPECS = [
    # ---- movement.py -----------------------------------------------------------------------------
    _one(
        "repeat",
        lambda x, sizes: x.repeat(*sizes),
        lambda x, sizes: np.tile(x, sizes),
        lambda x, sizes: x.repeat(*sizes),
        (Repeat,),
        (
            sample((), sizes=(2, 3)),
            sample((1, 3), sizes=(2, 1, 2)),
            sample((2, 3), sizes=(1, 1)),
            sample((4, 3), t=(0,), sizes=(2, 2)),
        ),
    ),
    _one(
        "tile",
        lambda x, dims: ad.tile(x, dims),
        lambda x, dims: np.tile(x, dims),
        lambda x, dims: torch.tile(x, dims),
        (Repeat,),
        (sample((), dims=(3,)), sample((1, 3), dims=(2, 1, 2)), sample((4, 3), t=(0,), dims=(2,))),
    ),
    _one(
        "repeat_interleave",
        ad.repeat_interleave,
        lambda x, repeats, dim=None: np.repeat(x, repeats, axis=dim),
        lambda x, repeats, dim=None: torch.repeat_interleave(x, _t(repeats), dim),
        (AdvancedIndex,),
        (
            sample((), repeats=3),
            sample((2, 3), repeats=2),
            sample((1, 3), repeats=np.array([1, 0, 3]), dim=1),
            sample((4, 3), t=(0,), repeats=np.array([2]), dim=0),
        ),
    ),
    _one(
        "flip",
        lambda x, dims: ad.flip(x, dims),
        lambda x, dims: np.flip(x, dims),
        lambda x, dims: torch.flip(x, dims),
        (Flip,),
        (
            sample((), dims=()),
            sample((1, 3), dims=(0, 1)),
            sample((2, 3, 4), dims=(-1, 0)),
            sample((4, 3), t=(0,), dims=(0,)),
        ),
    ),
    _one(
        "fliplr",
        ad.fliplr,
        np.fliplr,
        lambda x: torch.fliplr(x),
        (Flip,),
        (sample((1, 3)), sample((2, 3, 4)), sample((4, 3), t=(0,))),
        no_scalar=NEEDS_2_DIMS,
    ),
    _one(
        "flipud",
        ad.flipud,
        np.flipud,
        lambda x: torch.flipud(x),
        (Flip,),
        (sample((1, 3)), sample((4,)), sample((4, 3), t=(0,))),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "roll",
        ad.roll,
        lambda x, shifts, dims=None: np.roll(x, shifts, dims),
        lambda x, shifts, dims=None: torch.roll(x, shifts, dims),
        (Roll,),
        (
            sample((), shifts=1),
            sample((1, 3), shifts=2, dims=1),
            sample((3, 4), shifts=5),
            sample((2, 3, 4), shifts=(1, -2), dims=(0, 2)),
            sample((4, 3), t=(0,), shifts=-1, dims=0),
        ),
    ),
    _one(
        "rot90",
        ad.rot90,
        lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims),
        lambda x, k=1, dims=(0, 1): torch.rot90(x, k, dims),
        (Rot90,),
        (
            sample((1, 3)),
            sample((3, 4), k=2),
            sample((2, 3, 4), k=-1, dims=(2, 0)),
            sample((4, 3), t=(0,), k=3),
        ),
        no_scalar=NEEDS_2_DIMS,
    ),
    # ---- diagonals.py ----------------------------------------------------------------------------
    _one(
        "diagonal",
        ad.diagonal,
        lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
        lambda x, offset=0, dim1=0, dim2=1: torch.diagonal(x, offset, dim1, dim2),
        (Diagonal,),
        (
            sample((1, 3)),
            sample((3, 4), offset=1),
            sample((2, 3, 4), offset=-1, dim1=2, dim2=0),
            sample((4, 3), t=(0,), offset=-2),
        ),
        no_scalar=NEEDS_2_DIMS,
    ),
    _one(
        "diag_embed",
        ad.diag_embed,
        _np_diag_embed,
        lambda x, offset=0, dim1=-2, dim2=-1: torch.diag_embed(x, offset, dim1, dim2),
        (DiagEmbed,),
        (
            sample((3,)),
            sample((1, 3), offset=1),
            sample((2, 3), offset=-1, dim1=0, dim2=2),
            sample((4, 3), t=(0,), dim1=2, dim2=0),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "diag",
        ad.diag,
        _np_diag,
        lambda x, diagonal=0: torch.diag(x, diagonal),
        (DiagEmbed, AdvancedIndex),
        (
            sample((3,), diagonal=1),
            sample((1, 3)),
            sample((3, 4), diagonal=-1),
            sample((4, 3), t=(0,), diagonal=1),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "trace",
        ad.trace,
        np.trace,
        lambda x: torch.trace(x),
        (Diagonal,),
        (sample((1, 3)), sample((3, 4)), sample((4, 3), t=(0,))),
        no_scalar=NEEDS_2_DIMS,
    ),
    _one(
        "tril",
        ad.tril,
        lambda x, diagonal=0: np.tril(x, diagonal),
        lambda x, diagonal=0: torch.tril(x, diagonal),
        (),
        (
            sample((1, 3)),
            sample((3, 4), diagonal=1),
            sample((2, 3, 4), diagonal=-1),
            sample((4, 3), t=(0,)),
        ),
        no_scalar=NEEDS_2_DIMS,
    ),
    _one(
        "triu",
        ad.triu,
        lambda x, diagonal=0: np.triu(x, diagonal),
        lambda x, diagonal=0: torch.triu(x, diagonal),
        (),
        (
            sample((1, 3)),
            sample((3, 4), diagonal=-1),
            sample((2, 3, 4), diagonal=2),
            sample((4, 3), t=(0,)),
        ),
        no_scalar=NEEDS_2_DIMS,
    ),
    # ---- index.py --------------------------------------------------------------------------------
    _one(
        "gather",
        lambda x, index, dim: ad.gather(x, dim, ad.tensor(index)),
        _np_gather,
        lambda x, index, dim: torch.gather(x, dim, _t(index)),
        (AdvancedIndex,),
        (
            sample((3, 4), index=INDEX_34, dim=0),
            sample((1, 3), index=np.array([[2, 2, 0, 1]]), dim=1),
            sample((4, 3), t=(0,), index=np.array([[1], [0], [2]]), dim=-1),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    OpSpec(
        "scatter",
        lambda x, s, index, dim: _scatter(x, s, ad.tensor(index), dim),
        _np_scatter,
        _t_scatter,
        (IndexPut, BasicIndex),
        (
            sample((3, 4), (2, 4), index=PERM_34, dim=0),
            sample((1, 3), (1, 3), index=np.array([[2, 0]]), dim=1),
            sample((4, 3), (3, 3), t=(0,), index=np.array([[0, 3], [1, 2], [2, 1]]).T, dim=0),
        ),
        exempt={"scalar": NEEDS_A_DIM, "broadcast": NO_BROADCAST},
    ),
    _one(
        "scatter_value",
        lambda x, index, dim, value: ad.scatter(x, dim, ad.tensor(index), value),
        lambda x, index, dim, value: _np_index_put(x, None, _np_along(index, dim), value),
        lambda x, index, dim, value: torch.scatter(x, dim, _t(index), value),
        (IndexPut,),
        (
            sample((3, 4), index=INDEX_34, dim=0, value=2.5),
            sample((1, 3), index=np.array([[2]]), dim=1, value=-1.0),
            sample((4, 3), t=(0,), index=np.array([[1], [0]]), dim=1, value=0.0),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    OpSpec(
        "scatter_add",
        lambda x, s, index, dim: _scatter_add(x, s, ad.tensor(index), dim),
        lambda x, s, index, dim: _np_scatter(x, s, index, dim, add=True),
        _t_scatter_add,
        (IndexPutAccumulate, BasicIndex),
        (
            sample((3, 4), (2, 4), index=INDEX_34, dim=0),
            sample((1, 3), (1, 4), index=np.array([[2, 2, 0]]), dim=1),
            sample((4, 3), (4, 3), t=(0, 1), index=np.array([[0, 0, 0], [3, 3, 3]]), dim=0),
        ),
        exempt={"scalar": NEEDS_A_DIM, "broadcast": NO_BROADCAST},
    ),
    *(
        OpSpec(
            f"scatter_reduce_{reduce}",
            _scatter_reduce,
            _np_scatter_reduce,
            _t_scatter_reduce,
            covers,
            (
                sample((3, 4), (2, 4), index=INDEX_34, dim=0, reduce=reduce),
                sample((3, 4), (2, 4), index=INDEX_34, dim=0, reduce=reduce, include_self=False),
                sample((1, 3), (1, 3), index=np.array([[2, 2, 0]]), dim=1, reduce=reduce),
                sample(
                    (4, 3),
                    (2, 3),
                    t=(0,),
                    index=np.array([[0, 3], [1, 1], [2, 1]]).T,
                    dim=0,
                    reduce=reduce,
                ),
            ),
            domain=(distinct, _distinct_between),
            exempt={"scalar": NEEDS_A_DIM, "broadcast": NO_BROADCAST},
        )
        for reduce, covers in (
            ("sum", (IndexPutAccumulate,)),
            ("prod", (ScatterProd,)),
            ("mean", (IndexPutAccumulate,)),
            ("amax", (ScatterExtreme,)),
            ("amin", (ScatterExtreme,)),
        )
    ),
    _one(
        "index_select",
        lambda x, dim, index: ad.index_select(x, dim, ad.tensor(index)),
        lambda x, dim, index: np.take(x, index, dim),
        lambda x, dim, index: torch.index_select(x, dim, _t(index)),
        (AdvancedIndex,),
        (
            sample((5, 3), dim=0, index=ROWS),
            sample((1, 3), dim=1, index=np.array([2, 2, 0])),
            sample((4, 3), t=(0,), dim=0, index=ROWS),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    OpSpec(
        "index_add",
        lambda x, s, dim, index, alpha=1: ad.index_add(x, dim, ad.tensor(index), s, alpha=alpha),
        lambda x, s, dim, index, alpha=1: _np_index_add(x, s, index, dim, alpha),
        lambda x, s, dim, index, alpha=1: x.index_add(dim, _t(index), s, alpha=alpha),
        (IndexPutAccumulate,),
        (
            sample((5, 3), (4, 3), dim=0, index=ROWS),
            sample((1, 3), (1, 2), dim=1, index=np.array([2, 2]), alpha=-0.5),
            sample((4, 3), (4, 3), t=(0, 1), dim=0, index=ROWS, alpha=2.0),
        ),
        exempt={"scalar": NEEDS_A_DIM, "broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "index_copy",
        lambda x, s, dim, index: ad.index_copy(x, dim, ad.tensor(index), s),
        lambda x, s, dim, index: _np_index_put(x, s, (slice(None),) * dim + (index,)),
        lambda x, s, dim, index: x.index_copy(dim, _t(index), s),
        (IndexPut,),
        (
            sample((5, 3), (2, 3), dim=0, index=np.array([3, 0])),
            sample((1, 3), (1, 1), dim=1, index=np.array([2])),
            sample((4, 3), (4, 3), t=(0, 1), dim=0, index=np.array([1, 0, 3, 2])),
        ),
        exempt={"scalar": NEEDS_A_DIM, "broadcast": NO_BROADCAST},
    ),
    OpSpec(
        "index_fill",
        lambda x, v, dim, index: ad.index_fill(x, dim, ad.tensor(index), v),
        lambda x, v, dim, index: _np_index_put(x, v, (slice(None),) * dim + (index,)),
        lambda x, v, dim, index: x.index_fill(dim, _t(index), v),
        (IndexPut,),
        (
            sample((5, 3), (), dim=0, index=np.array([3, 0, 3])),
            sample((1, 3), (), dim=1, index=np.array([2])),
            sample((4, 3), (), t=(0,), dim=1, index=np.array([0, 2])),
        ),
        exempt={"scalar": NEEDS_A_DIM},
    ),
    OpSpec(
        "masked_fill",
        lambda x, v, m: ad.masked_fill(x, m, v),
        lambda x, v, m: np.where(m, v, x),
        lambda x, v, m: torch.masked_fill(x, _t(m), v),
        (),
        (
            sample((), (), m=np.array(True)),
            sample((3, 4), (), m=mask((3, 4))),
            sample((1, 4), (), m=mask((3, 4), 1)),
            sample((4, 3), (), t=(0,), m=mask((3,), 2)),
        ),
    ),
    _one(
        "masked_select",
        lambda x, m: ad.masked_select(x, m),
        lambda x, m: np.broadcast_to(x, np.broadcast_shapes(x.shape, m.shape))[
            np.broadcast_to(m, np.broadcast_shapes(x.shape, m.shape))
        ],
        lambda x, m: torch.masked_select(x, _t(m)),
        (AdvancedIndex,),
        (
            sample((), m=np.array(True)),
            sample((3, 4), m=mask((3, 4))),
            sample((1, 4), m=mask((3, 1), 3)),
            sample((4, 3), t=(0,), m=mask((3,), 2)),
        ),
    ),
    _one(
        "take",
        lambda x, index: ad.take(x, ad.tensor(index)),
        lambda x, index: np.take(x, index),
        lambda x, index: torch.take(x, _t(index)),
        (AdvancedIndex,),
        (
            sample((), index=np.array([0, 0])),
            sample((1, 3), index=np.array([[2, -1], [0, 0]])),
            sample((4, 3), t=(0,), index=np.array([11, 0, 5])),
        ),
    ),
    _one(
        "take_along_dim",
        lambda x, index, dim=None: ad.take_along_dim(x, ad.tensor(index), dim),
        lambda x, index, dim=None: np.take_along_axis(
            x if dim is not None else x.reshape(-1), index, dim if dim is not None else 0
        ),
        lambda x, index, dim=None: torch.take_along_dim(x, _t(index), dim),
        (AdvancedIndex,),
        (
            sample((), index=np.array([0])),
            sample((3, 4), index=np.array([[0], [3], [-1]]), dim=1),
            sample((1, 4), index=np.array([[0, 3], [1, 1]]), dim=1),
            sample((4, 3), t=(0,), index=np.array([[3, 0, -1]]), dim=0),
        ),
    ),
    OpSpec(
        "index_put_accumulate",
        lambda x, v, index: ad.index_put(x, index, v, accumulate=True),
        _np_accumulate,
        lambda x, v, index: x.index_put(_t(index), v, accumulate=True),
        (IndexPutAccumulate,),
        (
            sample((3,), (), index=(np.array([0, 0, 2]),)),
            sample((4, 3), (3,), index=(np.array([0, 2, 0]),)),
            sample((4, 3), (2,), index=(np.array([1, 1]), np.array([0, 0]))),
            sample((1, 3), (2, 3), t=(1,), index=(np.array([0, 0]),)),
            sample((4, 3), (2, 3), t=(0, 1), index=(np.array([3, 3]),)),
        ),
    ),
    # ---- slicing.py ------------------------------------------------------------------------------
    _one(
        "narrow",
        ad.narrow,
        _np_narrow,
        lambda x, dim, start, length: torch.narrow(x, dim, start, length),
        (BasicIndex,),
        (
            sample((1, 3), dim=1, start=1, length=2),
            sample((4, 3), dim=0, start=-3, length=2),
            sample((4, 3), t=(0,), dim=1, start=0, length=1),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "select",
        ad.select,
        lambda x, dim, index: np.take(x, index, dim),
        lambda x, dim, index: torch.select(x, dim, index),
        (BasicIndex,),
        (
            sample((1, 3), dim=0, index=0),
            sample((4, 3), dim=1, index=-1),
            sample((4, 3), t=(0,), dim=0, index=2),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "split",
        _split(ad),
        _np_split,
        _split(torch),
        (BasicIndex,),
        (
            sample((1, 3), sizes=2, dim=1),
            sample((5, 3), sizes=[1, 0, 4], dim=0),
            sample((4, 3), t=(0,), sizes=1, dim=-1),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "chunk",
        _chunk(ad),
        _np_chunk,
        _chunk(torch),
        (BasicIndex,),
        (
            sample((1, 3), chunks=2, dim=1),
            sample((6, 3), chunks=4, dim=0),
            sample((4, 3), t=(0,), chunks=3, dim=0),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "unbind",
        _unbind(ad),
        _np_unbind,
        _unbind(torch),
        (BasicIndex,),
        (sample((1, 3), dim=1), sample((2, 3, 4), dim=-1), sample((4, 3), t=(0,), dim=0)),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "unfold",
        lambda x, dimension, size, step: x.unfold(dimension, size, step),
        _np_unfold,
        lambda x, dimension, size, step: x.unfold(dimension, size, step),
        (Unfold,),
        (
            sample((1, 5), dimension=1, size=2, step=1),
            sample((7, 2), dimension=0, size=3, step=2),
            sample((2, 6, 3), dimension=1, size=1, step=3),
            sample((4, 3), t=(0,), dimension=0, size=4, step=1),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    # ---- shape.py --------------------------------------------------------------------------------
    _one(
        "unflatten",
        ad.unflatten,
        _np_unflatten,
        lambda x, dim, sizes: torch.unflatten(x, dim, sizes),
        (),
        (
            sample((1, 6), dim=1, sizes=(2, 3)),
            sample((4, 6, 2), dim=-2, sizes=(3, -1)),
            sample((4, 3), t=(0,), dim=0, sizes=(2, 1, 2)),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "movedim",
        ad.movedim,
        lambda x, source, destination: np.moveaxis(x, source, destination) if x.ndim else x,
        lambda x, source, destination: torch.movedim(x, source, destination),
        (Permute,),
        (
            sample((), source=0, destination=-1),
            sample((1, 3), source=0, destination=1),
            sample((2, 3, 4), source=(0, 1), destination=(2, 0)),
            sample((4, 3), t=(0,), source=-1, destination=0),
        ),
    ),
    _one(
        "swapaxes",
        ad.swapaxes,
        lambda x, axis0, axis1: np.swapaxes(x, axis0, axis1),
        lambda x, axis0, axis1: torch.swapaxes(x, axis0, axis1),
        (Permute,),
        (
            sample((1, 3), axis0=0, axis1=1),
            sample((2, 3, 4), axis0=-1, axis1=0),
            sample((4, 3), t=(0,), axis0=1, axis1=0),
        ),
        no_scalar=NEEDS_A_DIM,
    ),
    _one(
        "t",
        ad.t,
        lambda x: x.T,
        lambda x: torch.t(x),
        (Permute,),
        (sample(()), sample((1, 3)), sample((3,)), sample((4, 3), t=(0,))),
    ),
    _one(
        "squeeze_dims",
        lambda x, dim: ad.squeeze(x, dim),
        lambda x, dim: np.squeeze(x, tuple(d for d in dim if x.ndim and x.shape[d] == 1)),
        lambda x, dim: torch.squeeze(x, dim),
        (),
        (
            sample((), dim=(0,)),
            sample((1, 3, 1), dim=(0, 1, 2)),
            sample((1, 3, 1), dim=(-1,)),
            sample((3, 1, 2), t=(0,), dim=(1, 2)),
        ),
    ),
    _one(
        "broadcast_to",
        ad.broadcast_to,
        _np_broadcast_to,
        lambda x, shape: torch.broadcast_to(x, shape),
        (),
        (
            sample((), shape=(2, 3)),
            sample((1, 3), shape=(2, 4, -1)),
            sample((3, 2), t=(0,), shape=(4, 3, 2)),
        ),
    ),
    OpSpec(
        "broadcast_tensors",
        lambda x, y: ad.stack(ad.broadcast_tensors(x, y)),
        lambda x, y: np.stack(np.broadcast_arrays(x, y)),
        lambda x, y: torch.stack(torch.broadcast_tensors(x, y)),
        (),
        (sample((), (2, 3)), sample((3, 1), (1, 4)), sample((4, 3), (3,), t=(0,))),
    ),
    OpSpec(
        "meshgrid",
        lambda x, y, indexing="ij": ad.stack(ad.meshgrid(x, y, indexing=indexing)),
        _np_meshgrid,
        lambda x, y, indexing="ij": torch.stack(torch.meshgrid(x, y, indexing=indexing)),
        (),
        (
            sample((), (3,)),
            sample((1,), (3,), indexing="xy"),
            sample((4,), (3,), indexing="ij"),
        ),
        exempt={"non-contiguous": "takes 1-D tensors, which are always contiguous here"},
    ),
    OpSpec(
        "getitem_torch_order",
        lambda x, index: x[index],
        _np_torch_order,
        lambda x, index: x[_t(index)],
        (BasicIndex, AdvancedIndex),
        (
            sample((2, 3, 4), index=(0, slice(None), np.array([1, 0, 1]))),
            sample((1, 3, 4), index=(-1, slice(1, None), np.array([3]))),
            sample((4, 3, 2), t=(0,), index=(1, slice(None), np.array([[0, 1]]))),
        ),
        exempt={"scalar": "needs 2 dims and an index array", **ONE_TENSOR},
    ),
    OpSpec(
        "index_put_torch_order",
        lambda x, v, index: ad.index_put(x, index, v),
        _np_put_torch_order,
        _t_index_put,
        (BasicIndex, IndexPut),
        (
            sample((2, 3, 4), (3, 2), index=(0, slice(None), np.array([1, 3]))),
            sample((1, 3, 4), (1, 1), index=(-1, slice(None), np.array([3]))),
            sample((4, 3, 2), (3, 1), t=(0,), index=(1, slice(None), np.array([0]))),
        ),
        exempt={"scalar": "needs 2 dims and an index array"},
    ),
]
