"""Products of vectors, matrices and batches of them, PyTorch's top-level linear algebra.

`MatMul` (numpy's `matmul` semantics: 1-D, 2-D and batched operands) and `Linear` are the two
primitives with gradient rules; `mm`, `bmm`, `mv`, `dot`, `addmm`, `tensordot`, `kron`, ... are
compositions that check the shapes PyTorch's versions accept. As in PyTorch, the operands of a
product share one dtype (no promotion: a float32 matrix times a float64 one is a TypeError),
integer products stay integer, and bool products are refused. `norm` is `torch.norm`, which
dispatches to `autodiff.linalg.vector_norm` and `matrix_norm`.
"""

import math

import numpy as np

from autodiff.errors import ShapeError
from autodiff.function import Function
from autodiff.kernels.blas import matmul as _matmul
from autodiff.ops._args import dim as _dim
from autodiff.ops._args import is_tensor, promote

__all__ = [
    "linear",
    "matmul",
    "mm",
    "bmm",
    "mv",
    "dot",
    "vdot",
    "inner",
    "outer",
    "ger",
    "addmm",
    "addmv",
    "addbmm",
    "baddbmm",
    "tensordot",
    "kron",
    "norm",
]


class MatMul(Function):
    """x @ y. A 1-D x is a row (1, k) and a 1-D y a column (k, 1), removed again afterwards,
    so one rule covers every case; the engine sums gradients over broadcast batch dims."""

    @staticmethod
    def forward(ctx, x, y):
        x2, y2 = _as_matrices(x, y)
        out = _matmul(x2, y2)
        ctx.save(x, y)
        ctx.out_shape = out.shape
        ctx.x_vector, ctx.y_vector = x.ndim == 1, y.ndim == 1
        if ctx.x_vector:
            out = out[..., 0, :]
        if ctx.y_vector:
            out = out[..., 0]
        return out

    @staticmethod
    def backward(ctx, g):
        x2, y2 = _as_matrices(*ctx.saved)
        g2 = g.reshape(ctx.out_shape)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = _matmul(g2, np.swapaxes(y2, -1, -2))
            gx = gx[..., 0, :] if ctx.x_vector else gx
        if ctx.needs_input_grad[1]:
            gy = _matmul(np.swapaxes(x2, -1, -2), g2)
            gy = gy[..., 0] if ctx.y_vector else gy
        return gx, gy


class Linear(Function):
    """x @ w.T + b for x (..., in), w (out, in), b (out,) or None.

    Its own rule for speed: composed as matmul + transpose + add, the weight gradient would come
    out transposed (non-contiguous, so the optimizer update runs strided) and the bias gradient
    would go through the engine's broadcast undo; here gw = g.T @ x is contiguous by construction.
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save(x, w)
        y = _matmul(x, w.T)
        if b is not None:
            y += b  # y is new, so adding in place saves a temporary
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])  # batch dims flattened: (M, out)
        gx = _matmul(g, w) if need_x else None
        gw = _matmul(g2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


def linear(x, w, b=None):
    """x @ w.T + b, PyTorch's `F.linear`.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
    w : Tensor, shape (out_features, in_features)
    b : Tensor, shape (out_features,), optional

    Returns
    -------
    Tensor, shape (..., out_features)

    Raises
    ------
    TypeError
        x or w is not a Tensor (a list, an ndarray), or b is neither a Tensor nor None; or
        their dtypes differ.
    ShapeError (a ValueError)
        The feature sizes do not agree, or w or b has the wrong rank.
    """
    if not (is_tensor(x) and is_tensor(w) and (b is None or is_tensor(b))):
        got = ", ".join(type(t).__name__ for t in (x, w, b))
        raise TypeError(
            f"linear: input, weight and bias must be Tensors (bias may be None), got {got}"
        )
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} {x.dtype} does not fit weight of shape "
            f"{w.shape} {w.dtype}: expected (*, in_features) and (out_features, in_features)"
        )
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        raise TypeError(
            f"linear: input {x.shape} {x.dtype}, weight {w.shape} {w.dtype} and bias "
            f"{None if b is None else (b.shape, b.dtype)} must share one float dtype"
        )
    if b is not None and b.shape != w.shape[:1]:
        raise ShapeError(
            f"linear: bias must have shape {w.shape[:1]} for weight of shape {w.shape}, got "
            f"{b.shape} {b.dtype}"
        )
    return Linear.apply(x, w, b)


# ---- products -----------------------------------------------------------------------------------


def matmul(input, other):
    """input @ other with numpy's (and PyTorch's) rules for 1-D and batched operands.

    Parameters
    ----------
    input : Tensor, shape (k,), (n, k) or (*batch, n, k)
    other : Tensor, shape (k,), (k, m) or (*batch, k, m)
        Batch dims broadcast. A 1-D operand is a vector: 1-D @ 1-D is 0-d, (n, k) @ (k,) is
        (n,), (k,) @ (*batch, k, m) is (*batch, m).

    Raises
    ------
    ShapeError
        A 0-d operand, or the contracted sizes differ.
    TypeError
        The dtypes differ (PyTorch does not promote in products), or they are bool.
    """
    xs, ys = _shape(input), _shape(other)
    if not xs or not ys:
        raise ShapeError(
            f"matmul: both operands need at least one dim; got {_describe(input, other)}"
        )
    _check_dtypes("matmul", input, other)
    k_x, k_y = xs[-1], ys[-2] if len(ys) > 1 else ys[0]
    if k_x != k_y:
        raise ShapeError(
            f"matmul: {_describe(input, other)} do not agree: {k_x} != {k_y} in the contracted dim"
        )
    if len(xs) > 2 or len(ys) > 2:
        _broadcast("matmul", xs[:-2], ys[:-2], input, other)
    return MatMul.apply(input, other)


def mm(input, mat2):
    """(n, k) @ (k, m) -> (n, m); both operands must be matrices (no broadcasting)."""
    _check_ndims("mm", (2, 2), input, mat2)
    return matmul(input, mat2)


def bmm(input, mat2):
    """(b, n, k) @ (b, k, m) -> (b, n, m); the batch sizes must be equal (no broadcasting)."""
    _check_ndims("bmm", (3, 3), input, mat2)
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ: {_describe(input, mat2)}")
    return matmul(input, mat2)


def mv(input, vec):
    """(n, k) @ (k,) -> (n,)."""
    _check_ndims("mv", (2, 1), input, vec)
    return matmul(input, vec)


def dot(input, tensor):
    """Inner product of two 1-D tensors of the same length: a 0-d tensor."""
    _check_ndims("dot", (1, 1), input, tensor)
    return matmul(input, tensor)


def vdot(input, other):
    """`dot` (the conjugation of the first operand is a no-op: there are no complex dtypes)."""
    _check_ndims("vdot", (1, 1), input, other)
    return matmul(input, other)


def inner(input, other):
    """Sum of products over the last dim of both: shape input.shape[:-1] + other.shape[:-1].

    A 0-d operand multiplies the other elementwise, as in PyTorch.
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def outer(input, vec2):
    """Outer product of 1-D tensors (n,) and (m,): shape (n, m). Dtypes promote, as in
    PyTorch (it is an elementwise product)."""
    _check_ndims("outer", (1, 1), input, vec2)
    x, y = promote(input, vec2)
    return x.reshape(-1, 1) * y


def ger(input, vec2):
    """`outer`, under its older name."""
    return outer(input, vec2)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to (n, m). With beta == 0 the
    input is ignored (nan and inf in it do not propagate), as in PyTorch."""
    _check_ndims("addmm", (2, 2), mat1, mat2)
    return _scaled_sum("addmm", input, matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec); input broadcasts to (n,)."""
    _check_ndims("addmv", (2, 1), mat, vec)
    return _scaled_sum("addmv", input, matmul(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2); input broadcasts to (b, n, m)."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum over b of batch1[b] @ batch2[b]; input broadcasts to (n, m).

    The sum of the b products is one (n, b*k) @ (b*k, m) product.
    """
    _check_ndims("addbmm", (3, 3), batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise ShapeError(f"addbmm: batch sizes differ: {_describe(batch1, batch2)}")
    b, n, k = batch1.shape
    rows = batch1.permute(1, 0, 2).reshape(n, b * k)
    return _scaled_sum("addbmm", input, mm(rows, batch2.reshape(b * k, -1)), beta, alpha)


def tensordot(a, b, dims=2):
    """Sum of products over `dims`: the last `dims` dims of a with the first `dims` of b, or
    the dims listed in a pair of sequences `([dims of a], [dims of b])`.

    Returns the free dims of a followed by the free dims of b. Composed as permute, reshape and
    one matrix product.
    """
    if isinstance(dims, int | np.integer):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: dims={dims} does not fit {_describe(a, b)}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_dim("tensordot", a, d) for d in dims_a]
    dims_b = [_dim("tensordot", b, d) for d in dims_b]
    if [a.shape[i] for i in dims_a] != [b.shape[i] for i in dims_b]:
        raise ShapeError(
            f"tensordot: contracted dims {dims_a} and {dims_b} differ in size: {_describe(a, b)}"
        )
    free_a = [i for i in range(a.ndim) if i not in dims_a]
    free_b = [i for i in range(b.ndim) if i not in dims_b]
    k = math.prod(a.shape[i] for i in dims_a)
    left = a.permute(*free_a, *dims_a).reshape(-1, k)
    right = b.permute(*dims_b, *free_b).reshape(k, -1)
    out_shape = [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b]
    return mm(left, right).reshape(*out_shape)


def kron(input, other):
    """Kronecker product: block (i, j) of the result is input[i, j] * other. The operand with
    fewer dims gets leading size-1 dims; the result has shape input.shape * other.shape."""
    x, y = promote(input, other)
    n = max(x.ndim, y.ndim)
    xs = (1,) * (n - x.ndim) + x.shape
    ys = (1,) * (n - y.ndim) + y.shape
    # interleave: x as (a0, 1, a1, 1, ...) times y as (1, b0, 1, b1, ...)
    xi = x.reshape(*(s for a in xs for s in (a, 1)))
    yi = y.reshape(*(s for b in ys for s in (1, b)))
    return (xi * yi).reshape(*(a * b for a, b in zip(xs, ys, strict=True)))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """`torch.norm`: a vector norm, or a matrix norm for p="nuc" (and "fro" over > 2 dims).

    Parameters
    ----------
    input : Tensor, float32 or float64
    p : int, float, inf, -inf, "fro" or "nuc"
        A number is the vector p-norm over `dim` (all dims when None, also for 2-D input);
        "fro" is the 2-norm over `dim`; "nuc" the sum of the singular values of the matrices
        in `dim` (two dims; (0, 1) when None).
    dim : int or tuple of ints, optional
    keepdim : bool
    dtype : dtype, optional
        Compute (and return) in this float dtype.

    Raises
    ------
    TypeError
        An integer or bool input.
    """
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        dim = tuple(range(input.ndim)) if dim is None else dim
        return matrix_norm(input, p, dim, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)


# ---- checks -------------------------------------------------------------------------------------


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, skipping the factors equal to 1, and input when beta
    is 0. The input must broadcast to the product's shape and share its dtype."""
    _check_dtypes(op, input, product)
    if _broadcast(op, input.shape, product.shape, input, product) != product.shape:
        raise ShapeError(
            f"{op}: input does not broadcast to the product: {_describe(input, product)}"
        )
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:
        return scaled
    return scaled + (input if beta == 1 else input * beta)


def _check_ndims(op, ndims, *operands):
    if tuple(_ndim(a) for a in operands) != ndims:
        wanted = " and ".join(f"{n}-D" for n in ndims)
        raise ShapeError(f"{op}: expected {wanted} tensors, got {_describe(*operands)}")


def _check_dtypes(op, *operands):
    kinds = {_dtype(a) for a in operands}
    if len(kinds) > 1:
        raise TypeError(
            f"{op}: expected operands of the same dtype (products do not promote), got "
            f"{_describe(*operands)}; convert one with .to(dtype)"
        )
    if kinds == {np.dtype(bool)}:
        raise TypeError(f"{op}: not implemented for bool tensors ({_describe(*operands)})")


def _broadcast(op, xs, ys, *operands):
    try:
        return np.broadcast_shapes(xs, ys)
    except ValueError:
        raise ShapeError(f"{op}: batch dims do not broadcast: {_describe(*operands)}") from None


def _describe(*operands):
    return " and ".join(f"{_shape(a)} ({_dtype(a)})" for a in operands)


def _as_matrices(x, y):
    return (x[None, :] if x.ndim == 1 else x), (y[:, None] if y.ndim == 1 else y)


def _shape(a):
    return np.shape(a.data if isinstance(a, Tensor) else a)


def _ndim(a):
    return len(_shape(a))


def _dtype(a):
    return a.dtype if isinstance(a, Tensor | np.ndarray) else np.asarray(a).dtype


from autodiff.linalg import matrix_norm, vector_norm  # noqa: E402 - it imports this module's ops
from autodiff.tensor import Tensor  # noqa: E402
