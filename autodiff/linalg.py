"""`torch.linalg`: vector and matrix norms, determinant, inverse and linear solve.

`import autodiff as torch` makes `torch.linalg.norm(x)` work: this module is `autodiff.linalg`.
Inputs must be float32 or float64 (as in PyTorch, integer inputs are refused); batch dims lead,
matrices are the last two dims. Every function is differentiable.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.ops._args import dim as _dim
from autodiff.ops._args import dims as _dims
from autodiff.ops._args import require_float
from autodiff.ops.elementwise import to_dtype
from autodiff.ops.linalg import matmul
from autodiff.ops.reduce import Extreme, reduced_shape

__all__ = ["norm", "vector_norm", "matrix_norm", "det", "inv", "solve", "matmul"]


class VectorNorm(Function):
    """(sum |x|**p)**(1/p) over `axes`, with max |x| for p = inf and min for -inf, and the count
    of non-zeros for p = 0.

    Its own rule (PyTorch's): composed as sqrt(sum(x * x)) the gradient at a zero vector would
    be 0 / 0 = nan, where PyTorch gives the subgradient 0; with p = inf, ties share the gradient.
    """

    @staticmethod
    def forward(ctx, x, ord, axes=None, keepdim=False):
        a = np.abs(x)
        if ord == math.inf:
            n = a.max(axis=axes, keepdims=True)
        elif ord == -math.inf:
            n = a.min(axis=axes, keepdims=True)
        elif ord == 0:
            n = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            n = a.sum(axis=axes, keepdims=True)
        elif ord == 2:
            n = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            with np.errstate(divide="ignore"):  # 0 ** negative p is inf, as in PyTorch
                n = ((a**ord).sum(axis=axes, keepdims=True)) ** (1 / ord)
        out = n if keepdim else n.reshape(reduced_shape(x.shape, axes))
        ctx.save(x, out)
        ctx.ord, ctx.axes = ord, axes
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        p = ctx.ord
        kept = _kept(x.shape, ctx.axes)
        n, g = out.reshape(kept), g.reshape(kept)
        zero = np.zeros((), x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                return np.zeros_like(x)
            if p == 1:
                return np.sign(x) * g
            if p == 2:
                return np.where(n == 0, zero, g / n) * x
            if math.isinf(p):
                a = np.abs(x)
                winners = (a == n) | np.isnan(a)
                share = g / winners.sum(axis=ctx.axes, keepdims=True).astype(x.dtype)
                return np.sign(x) * winners * share
            a = np.abs(x)
            if p < 1:
                scaled = np.where(x == 0, zero, np.sign(x) * a ** (p - 1))
                return scaled * g * n ** (1 - p)
            scale = np.where(n == 0, zero, g / n ** (p - 1))
            if p < 2:
                return np.sign(x) * a ** (p - 1) * scale
            return x * a ** (p - 2) * scale


class SingularValueNorm(Function):
    """Sum ("nuc"), largest ("max") or smallest ("min") singular value of the matrices in the
    last two dims of x. Gradient: U V^T for the sum, u_i v_i^T for singular value i."""

    @staticmethod
    def forward(ctx, x, which):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        ctx.u, ctx.vh, ctx.which = u, vh, which
        if which == "nuc":
            return s.sum(axis=-1)
        return s[..., 0] if which == "max" else s[..., -1]

    @staticmethod
    def backward(ctx, g):
        u, vh = ctx.u, ctx.vh
        if ctx.which != "nuc":
            i = 0 if ctx.which == "max" else -1
            u, vh = u[..., :, i : i + 1 or None], vh[..., i : i + 1 or None, :]
        return g[..., None, None] * (u @ vh)


class Det(Function):
    """Determinant of the matrices in the last two dims.

    Gradient: the cofactor matrix, adj(x)^T, taken from the SVD x = U S V^T as
    adj(x) = det(U) det(V) V diag(prod_{j != i} s_j) U^T, which holds for singular x too.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return np.linalg.det(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        u, s, vh = np.linalg.svd(x)
        others = np.where(np.eye(s.shape[-1], dtype=bool), 1, s[..., None, :]).prod(axis=-1)
        sign = np.linalg.det(u) * np.linalg.det(vh)
        adj = sign[..., None, None] * (np.swapaxes(vh, -1, -2) * others[..., None, :])
        adj = adj @ np.swapaxes(u, -1, -2)
        return g[..., None, None] * np.swapaxes(adj, -1, -2)


class Inv(Function):
    """Inverse of the matrices in the last two dims; gradient -inv^T g inv^T."""

    @staticmethod
    def forward(ctx, x):
        out = np.linalg.inv(x)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved
        yt = np.swapaxes(y, -1, -2)
        return -(yt @ g @ yt)


class Solve(Function):
    """X with a @ X = b, for a (..., n, n) and b (..., n, k); batch dims broadcast.

    Gradient: gb = solve(a^T, g) and ga = -gb X^T.
    """

    @staticmethod
    def forward(ctx, a, b):
        out = np.linalg.solve(a, b)
        ctx.save(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved
        gb = np.linalg.solve(np.swapaxes(a, -1, -2), g)
        ga = -(gb @ np.swapaxes(out, -1, -2)) if ctx.needs_input_grad[0] else None
        return ga, gb


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector p-norm of x over `dim` (all dims when None or ()), `torch.linalg.vector_norm`.

    Parameters
    ----------
    x : Tensor, float32 or float64, any shape
    ord : int or float
        p; inf is max |x|, -inf min |x|, 0 the number of non-zeros.
    dim : int or tuple of ints, optional
    keepdim : bool
        Keep the reduced dims as size 1.
    dtype : dtype, optional
        Convert x to this float dtype first.

    Returns
    -------
    Tensor of x's dtype (or `dtype`), x's shape without `dim`.

    Raises
    ------
    TypeError
        x is not float, or ord is not a number.
    ShapeError
        inf or negative norms of an empty tensor (they have no identity).
    """
    x = _float_input("linalg.vector_norm", x, dtype)
    if isinstance(ord, str) or not isinstance(ord, int | float | np.number):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    axes = _dims("linalg.vector_norm", x, None if dim == () else dim)
    if (ord < 0 or math.isinf(ord)) and x.data.size == 0:
        raise ShapeError(
            f"linalg.vector_norm: cannot compute the {ord} norm of an empty tensor of shape "
            f"{x.shape} {x.dtype}: the reduction has no identity"
        )
    return VectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: N803
    """A matrix norm of the matrices in the two dims `dim`, `torch.linalg.matrix_norm`.

    Parameters
    ----------
    A : Tensor, float32 or float64, shape (*, m, n) for the default `dim`
    ord : "fro", "nuc", inf, -inf, 1, -1, 2 or -2
        Frobenius; nuclear (sum of singular values); max (min) absolute row sum; max (min)
        absolute column sum; largest (smallest) singular value.
    dim : pair of ints
    keepdim : bool
    dtype : dtype, optional

    Returns
    -------
    Tensor, A's shape without the two dims of `dim`.
    """
    A = _float_input("linalg.matrix_norm", A, dtype)  # noqa: N806
    if A.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: A must have at least 2 dims, got {A.shape}")
    if isinstance(dim, int) or len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    rows, cols = (_dim("linalg.matrix_norm", A, d) for d in dim)
    if rows == cols:
        raise ShapeError(f"linalg.matrix_norm: dim {dim!r} names one dim twice")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        which = "nuc" if ord == "nuc" else ("max" if ord == 2 else "min")
        rest = [i for i in range(A.ndim) if i not in (rows, cols)]
        out = SingularValueNorm.apply(A.permute(*rest, rows, cols), which=which)
        return out.reshape(*_kept(A.shape, (rows, cols))) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        summed, extreme = (rows, cols) if abs(ord) == 1 else (cols, rows)
        sums = abs(A).sum(summed, keepdim=True)
        out = Extreme.apply(sums, axes=(extreme,), keepdim=True, largest=ord > 0)
        return out if keepdim else out.reshape(*reduced_shape(A.shape, (rows, cols)))
    raise ValueError(f"linalg.matrix_norm: order {ord!r} is not supported")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: N803
    """A vector or matrix norm, `torch.linalg.norm`.

    With an int `dim` (or one dim), the vector norm `ord` (2 by default); with two dims, the
    matrix norm `ord` ("fro" by default). With dim None: the 2-norm of all elements if ord is
    None, else the vector norm of a 1-D A or the matrix norm of a 2-D A.
    """
    if isinstance(dim, int) or (dim is not None and len(dim) == 1):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(
        f"linalg.norm: with ord={ord!r} and no dim, A must be 1-D or 2-D, got shape {A.shape}"
    )


def det(A):  # noqa: N803
    """Determinant of A (*, n, n): shape (*)."""
    return Det.apply(_square("linalg.det", A))


def inv(A):  # noqa: N803
    """Inverse of A (*, n, n); a singular matrix raises ValueError (numpy's LinAlgError)."""
    return Inv.apply(_square("linalg.inv", A))


def solve(A, B, *, left=True):  # noqa: N803
    """X with A @ X = B (or X @ A = B when left=False), `torch.linalg.solve`.

    A is (*, n, n); B is (*, n, k), or a vector (*, n) when it is 1-D or has A's shape without
    its last dim (PyTorch's rule); batch dims broadcast. The result has B's shape.
    """
    _square("linalg.solve", A)
    B = _float_input("linalg.solve", B, None)  # noqa: N806
    if A.dtype != B.dtype:
        raise TypeError(f"linalg.solve: A {A.shape} {A.dtype} and B {B.shape} {B.dtype} differ")
    if not left:  # X A = B is A^T X^T = B^T
        if B.ndim < 2:
            raise ShapeError(f"linalg.solve: left=False needs B of shape (*, k, n), got {B.shape}")
        return _mt(solve(_mt(A), _mt(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    b = B.unsqueeze(-1) if vector else B
    if b.ndim < 2 or b.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.solve: A {A.shape} and B {B.shape} do not fit")
    out = Solve.apply(A, b)
    return out.squeeze(-1) if vector else out


def _mt(x):
    return x.transpose(-2, -1)


def _square(op, A):  # noqa: N803
    A = _float_input(op, A, None)  # noqa: N806
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: A must be a batch of square matrices, got shape {A.shape}")
    return A


def _float_input(op, x, dtype):
    if dtype is not None:
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"{op}: dtype must be a float dtype, got {dtype}")
        x = to_dtype(x, np.dtype(dtype))
    return require_float(op, x)


def _kept(shape, axes):
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))
