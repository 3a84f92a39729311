"""Op-table entries for the products of autodiff/ops/linalg.py, einsum, and autodiff.linalg."""

import math

import numpy as np

import autodiff as ad
from autodiff.linalg import Det, Inv, SingularValueNorm, Solve, VectorNorm
from autodiff.ops.einsum import Einsum
from autodiff.ops.linalg import MatMul
from autodiff.ops.reduce import Extreme
from tests.ops.harness import OpSpec, distinct, nonzero, normal, sample, torch

INF = math.inf
SCALAR_PRODUCT = "products need vectors or matrices (torch refuses 0-d operands)"
FIXED_RANKS = "the operands' ranks are fixed, so no broadcasting"


def well_conditioned(rng, shape):
    """Square matrices (in the last two dims) of normal values plus n times the identity."""
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


# ---- numpy references ----------------------------------------------------------------------------


def _np_vector_norm(x, ord=2, dim=None, keepdim=False):
    a = np.abs(x)
    axis = None if dim is None or x.ndim == 0 else dim
    if ord == INF:
        return a.max(axis=axis, keepdims=keepdim)
    if ord == -INF:
        return a.min(axis=axis, keepdims=keepdim)
    if ord == 0:
        return (a != 0).sum(axis=axis, keepdims=keepdim).astype(x.dtype)
    return (a**ord).sum(axis=axis, keepdims=keepdim) ** (1 / ord)


def _np_matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False):
    return np.linalg.norm(x, ord, axis=dim, keepdims=keepdim)


def _np_norm(x, p="fro", dim=None, keepdim=False):
    if p == "nuc":
        return _np_matrix_norm(x, "nuc", (0, 1) if dim is None else dim, keepdim)
    return _np_vector_norm(x, 2 if p == "fro" else p, dim, keepdim)


def _np_addmm(x, a, b, beta=1, alpha=1):
    return beta * x + alpha * (a @ b)


def _np_addmv(x, a, v, beta=1, alpha=1):
    return beta * x + alpha * (a @ v)


def _np_addbmm(x, a, b, beta=1, alpha=1):
    return beta * x + alpha * (a @ b).sum(axis=0)


def _np_solve(a, b, left=True):
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def _np_einsum(eq, *operands):
    """np.einsum, also summing over "..." when the output leaves it out (numpy refuses)."""
    inputs, arrow, output = eq.partition("->")
    if not arrow or "..." not in inputs or "..." in output:
        return np.einsum(eq, *operands)
    y = np.einsum(f"{inputs}->...{output}", *operands)
    return y.sum(axis=tuple(range(y.ndim - len(output))))


def _einsum(fn):
    return lambda *operands, eq: fn(eq, *operands)


def _entry(name, fn, ref, torch_fn, covers, samples, **extra):
    return OpSpec(name, fn, ref, torch_fn, covers, samples, **extra)


SPECS = [
    _entry(
        "matmul_vectors",
        ad.matmul,
        np.matmul,
        lambda x, y: x @ y,
        (MatMul,),
        (
            sample((4,), (4,)),
            sample((2, 3, 4), (4,)),
            sample((4,), (2, 4, 3)),
            sample((1, 4), (4,)),
            sample((3, 4), (4,), t=(0,)),
        ),
        rtol=1e-4,
        exempt={"scalar": SCALAR_PRODUCT},
    ),
    _entry(
        "einsum",
        _einsum(ad.einsum),
        _einsum(_np_einsum),
        _einsum(lambda eq, *ts: torch.einsum(eq, *ts)),
        (Einsum,),
        (
            sample((3, 4), (4, 2), eq="ij,jk->ik"),
            sample((3, 4), (4, 2), eq="ij,jk"),
            sample((3, 3), eq="ii->i"),
            sample((3, 3), eq="ii"),
            sample((3, 3, 2), eq="iij->j"),
            sample((2, 3), eq="ij->"),
            sample((2, 3), eq="ji"),
            sample((4,), (3,), eq="i,j->ij"),
            sample((4,), (4,), eq="i,i"),
            sample((), (), eq=",->"),
            sample((3,), (), eq="i,->i"),
            sample((2, 3, 4), (2, 4, 5), eq="bij,bjk->bik", t=(1,)),
            sample((2, 3, 4), (4, 5), eq="...ij,...jk"),
            sample((2, 1, 3, 4), (5, 4, 2), eq="...ij,...jk->...ik"),
            sample((2, 3, 4), eq="...ij->ij"),
            sample((2, 3), (1, 4), eq="ij,jk->ik"),
            sample((2, 3), (3, 4), (2, 4), eq="ij,jk,ik->k"),
            sample((2, 3), (4, 3, 5), (2, 5), eq="bn,anm,bm->ba"),
            sample((4, 3), (3, 4), eq="ij,ji->", t=(0,)),
            sample((2, 3), (2, 3), eq="Ab,Ab->A"),
        ),
        rtol=1e-4,
    ),
    _entry(
        "mm",
        ad.mm,
        np.matmul,
        lambda x, y: torch.mm(x, y),
        (MatMul,),
        (sample((3, 4), (4, 2)), sample((1, 4), (4, 1)), sample((4, 3), (3, 2), t=(0, 1))),
        rtol=1e-4,
        exempt={"scalar": SCALAR_PRODUCT, "broadcast": "mm does not broadcast, as in torch"},
    ),
    _entry(
        "bmm",
        ad.bmm,
        np.matmul,
        lambda x, y: torch.bmm(x, y),
        (MatMul,),
        (
            sample((2, 3, 4), (2, 4, 5)),
            sample((1, 1, 4), (1, 4, 2)),
            sample((2, 4, 3), (2, 3, 2), t=(0,)),
        ),  # fmt: skip
        rtol=1e-4,
        exempt={"scalar": SCALAR_PRODUCT, "broadcast": "bmm does not broadcast, as in torch"},
    ),
    _entry(
        "mv",
        ad.mv,
        np.matmul,
        lambda x, y: torch.mv(x, y),
        (MatMul,),
        (sample((3, 4), (4,)), sample((1, 4), (4,)), sample((4, 3), (3,), t=(0,))),
        rtol=1e-4,
        exempt={"scalar": SCALAR_PRODUCT},
    ),
    _entry(
        "dot",
        ad.dot,
        np.dot,
        lambda x, y: torch.dot(x, y),
        (MatMul,),
        (sample((5,), (5,)), sample((1,), (1,))),
        rtol=1e-4,
        exempt={
            "scalar": SCALAR_PRODUCT,
            "broadcast": FIXED_RANKS,
            "non-contiguous": "a 1-D transposed view is contiguous",
        },
    ),
    _entry(
        "vdot",
        ad.vdot,
        np.vdot,
        lambda x, y: torch.vdot(x, y),
        (MatMul,),
        (sample((5,), (5,)), sample((1,), (1,))),
        rtol=1e-4,
        exempt={
            "scalar": SCALAR_PRODUCT,
            "broadcast": FIXED_RANKS,
            "non-contiguous": "a 1-D transposed view is contiguous",
        },
    ),
    _entry(
        "outer",
        ad.outer,
        np.outer,
        lambda x, y: torch.outer(x, y),
        (),
        (sample((4,), (3,)), sample((1,), (3,))),
        exempt={
            "scalar": "outer takes 1-D tensors, as in torch",
            "non-contiguous": "a 1-D transposed view is contiguous",
        },
    ),
    _entry(
        "inner",
        ad.inner,
        np.inner,
        lambda x, y: torch.inner(x, y),
        (MatMul,),
        (
            sample((4,), (4,)),
            sample((2, 3), (4, 3)),
            sample((), (2, 3)),
            sample((1, 3), (2, 1, 3)),
            sample((2, 3), (3,), t=(0,)),
        ),
        rtol=1e-4,
    ),
    _entry(
        "addmm",
        ad.addmm,
        _np_addmm,
        lambda x, a, b, **kw: torch.addmm(x, a, b, **kw),
        (MatMul,),
        (
            sample((3, 2), (3, 4), (4, 2)),
            sample((2,), (3, 4), (4, 2), beta=0.5, alpha=2.0),
            sample((), (3, 4), (4, 2), alpha=-1.5),
            sample((1, 2), (1, 4), (4, 2), beta=2.0),
            sample((3, 2), (3, 4), (4, 2), t=(1, 2)),
        ),
        rtol=1e-4,
    ),
    _entry(
        "addmv",
        ad.addmv,
        _np_addmv,
        lambda x, a, v, **kw: torch.addmv(x, a, v, **kw),
        (MatMul,),
        (
            sample((3,), (3, 4), (4,)),
            sample((), (3, 4), (4,), beta=0.5, alpha=2.0),
            sample((1,), (1, 4), (4,)),
            sample((3,), (3, 4), (4,), t=(1,)),
        ),
        rtol=1e-4,
    ),
    _entry(
        "baddbmm",
        ad.baddbmm,
        _np_addmm,
        lambda x, a, b, **kw: torch.baddbmm(x, a, b, **kw),
        (MatMul,),
        (
            sample((2, 3, 2), (2, 3, 4), (2, 4, 2)),
            sample((3, 2), (2, 3, 4), (2, 4, 2), beta=0.5, alpha=2.0),
            sample((), (2, 3, 4), (2, 4, 2), beta=-1.0),
            sample((1, 1, 2), (1, 3, 4), (1, 4, 2)),
            sample((2, 3, 2), (2, 3, 4), (2, 4, 2), t=(1,)),
        ),
        rtol=1e-4,
    ),
    _entry(
        "addbmm",
        ad.addbmm,
        _np_addbmm,
        lambda x, a, b, **kw: torch.addbmm(x, a, b, **kw),
        (MatMul,),
        (
            sample((3, 2), (2, 3, 4), (2, 4, 2)),
            sample((2,), (2, 3, 4), (2, 4, 2), beta=0.5, alpha=2.0),
            sample((), (1, 3, 4), (1, 4, 2)),
            sample((3, 2), (2, 3, 4), (2, 4, 2), t=(1,)),
        ),
        rtol=1e-4,
    ),
    _entry(
        "tensordot",
        ad.tensordot,
        lambda a, b, dims=2: np.tensordot(a, b, dims),
        lambda a, b, dims=2: torch.tensordot(a, b, dims),
        (MatMul,),
        (
            sample((2, 3, 4), (3, 4, 5)),
            sample((2, 3, 4), (4, 3, 5), dims=([1, 2], [1, 0])),
            sample((2, 3), (3, 1), dims=0),
            sample((2, 3), (3, 4), dims=1),
            sample((3, 2), (3, 4), dims=([0], [0]), t=(0,)),
        ),
        rtol=1e-4,
        exempt={"scalar": "dims must name dims of both operands"},
    ),
    _entry(
        "kron",
        ad.kron,
        np.kron,
        lambda x, y: torch.kron(x.contiguous(), y),  # torch's fails on a transposed x
        (),
        (
            sample((2, 3), (4, 2)),
            sample((2, 3), (4,)),
            sample((), (2, 2)),
            sample((1, 3), (2, 1)),
            sample((3, 2), (2, 2), t=(0,)),
        ),
    ),
    # ---- norms -----------------------------------------------------------------------------------
    _entry(
        "norm",
        ad.norm,
        _np_norm,
        lambda x, **kw: torch.norm(x, **kw),
        (VectorNorm, SingularValueNorm),
        (
            sample(()),
            sample((3, 4)),
            sample((3, 4), p=1, dim=1),
            sample((3, 4), p=3, dim=(0, 1)),
            sample((3, 4), p=0.5, dim=0, keepdim=True),
            sample((2, 3, 4), p=1.5, dim=-1),
            sample((2, 3, 4), p="fro", dim=(0, 2), keepdim=True),
            sample((1, 4), p=2, dim=1),
            sample((4, 3), p=4, t=(0,)),
            sample((3, 4), p="nuc"),
            sample((3, 4, 2), p="nuc", dim=(0, 1)),
        ),
        domain=nonzero,
        rtol=1e-4,
        exempt={"broadcast": "takes one tensor"},
    ),
    _entry(
        "norm_extremes",
        ad.norm,
        _np_norm,
        lambda x, **kw: torch.norm(x, **kw),
        (VectorNorm,),
        (
            sample((), p=INF),
            sample((3, 4), p=INF),
            sample((3, 4), p=-INF, dim=1),
            sample((1, 4), p=INF, dim=0, keepdim=True),
            sample((4, 3), p=-INF, dim=(0, 1), t=(0,)),
        ),
        domain=distinct,
        exempt={"broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.vector_norm",
        ad.linalg.vector_norm,
        _np_vector_norm,
        lambda x, **kw: torch.linalg.vector_norm(x, **kw),
        (VectorNorm,),
        (
            sample(()),
            sample((3, 4)),
            sample((3, 4), ord=1, dim=1),
            sample((3, 4), ord=-2, dim=0, keepdim=True),
            sample((2, 3, 4), ord=2.5, dim=(0, 2)),
            sample((1, 4), ord=0.5, dim=1),
            sample((4, 3), ord=2, dim=-1, t=(0,)),
        ),
        domain=nonzero,
        rtol=1e-4,
        exempt={"broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.matrix_norm",
        ad.linalg.matrix_norm,
        _np_matrix_norm,
        lambda x, **kw: torch.linalg.matrix_norm(x, **kw),
        (SingularValueNorm, Extreme, VectorNorm),
        (
            sample((3, 4)),
            sample((3, 4), ord="nuc"),
            sample((2, 3, 4), ord=2),
            sample((3, 4), ord=-2, keepdim=True),
            sample((3, 4), ord=1),
            sample((2, 3, 4), ord=-1, dim=(0, 2)),
            sample((3, 4), ord=INF, keepdim=True),
            sample((3, 2, 4), ord=-INF, dim=(2, 0)),
            sample((1, 4), ord=INF),
            sample((4, 3), ord="nuc", t=(0,)),
        ),
        domain=distinct,
        rtol=1e-4,
        exempt={"scalar": "matrix norms need 2 dims", "broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.norm",
        ad.linalg.norm,
        lambda x, ord=None, dim=None, keepdim=False: (
            np.linalg.norm(x.reshape(-1) if dim is None and ord is None else x, ord, dim, keepdim)
            if x.ndim
            else np.abs(x)
        ),
        lambda x, **kw: torch.linalg.norm(x, **kw),
        (VectorNorm, SingularValueNorm),
        (
            sample(()),
            sample((2, 3, 4)),
            sample((3, 4), ord=3, dim=1),
            sample((3, 4), ord="nuc"),
            sample((2, 3, 4), ord="fro", dim=(0, 1)),
            sample((4,), ord=1),
            sample((1, 4), ord=2),
            sample((4, 3), ord=-INF, dim=(1, 0), t=(0,)),
        ),
        domain=distinct,
        rtol=1e-4,
        exempt={"broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.det",
        ad.linalg.det,
        np.linalg.det,
        lambda x: torch.linalg.det(x),
        (Det,),
        (sample((3, 3)), sample((2, 4, 4)), sample((1, 1)), sample((3, 3), t=(0,))),
        domain=well_conditioned,
        rtol=1e-4,
        exempt={"scalar": "needs square matrices", "broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.inv",
        ad.linalg.inv,
        np.linalg.inv,
        lambda x: torch.linalg.inv(x),
        (Inv,),
        (sample((3, 3)), sample((2, 4, 4)), sample((1, 1)), sample((3, 3), t=(0,))),
        domain=well_conditioned,
        rtol=1e-4,
        exempt={"scalar": "needs square matrices", "broadcast": "takes one tensor"},
    ),
    _entry(
        "linalg.solve",
        ad.linalg.solve,
        _np_solve,
        lambda a, b, **kw: torch.linalg.solve(a, b, **kw),
        (Solve,),
        (
            sample((3, 3), (3, 2)),
            sample((3, 3), (3,)),
            sample((2, 3, 3), (2, 3)),
            sample((2, 3, 3), (3, 1)),
            sample((1, 1), (1, 4)),
            sample((3, 3), (2, 3), left=False),
            sample((3, 3), (3, 2), t=(0, 1)),
        ),
        domain=(well_conditioned, normal),
        rtol=1e-4,
        exempt={"scalar": "needs square matrices"},
    ),
]
