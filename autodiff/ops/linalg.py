"""Matrix product with numpy's `matmul` semantics: 1-D, 2-D and batched operands."""

import numpy as np

from autodiff.function import Function
from autodiff.kernels.blas import matmul as _matmul

__all__ = ["linear", "matmul"]


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
    ValueError
        The feature sizes do not agree, or w or b has the wrong rank.
    """
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} {x.dtype} does not fit weight of shape "
            f"{w.shape} {w.dtype}: expected (*, in_features) and (out_features, in_features)"
        )
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        raise TypeError(
            f"linear: input {x.shape} {x.dtype}, weight {w.shape} {w.dtype} and bias "
            f"{None if b is None else (b.shape, b.dtype)} must share one float dtype"
        )
    if b is not None and b.shape != w.shape[:1]:
        raise ValueError(
            f"linear: bias must have shape {w.shape[:1]} for weight of shape {w.shape}, got "
            f"{b.shape} {b.dtype}"
        )
    return Linear.apply(x, w, b)


def matmul(x, y):
    """x @ y; see `MatMul`. Shapes must agree in the contracted dim (0-d operands are refused)."""
    xs, ys = _shape(x), _shape(y)
    if not xs or not ys:
        raise ValueError(f"matmul: both operands need at least one dim; got {xs} and {ys}")
    k_x, k_y = xs[-1], ys[-2] if len(ys) > 1 else ys[0]
    if k_x != k_y:
        raise ValueError(
            f"matmul: shapes {xs} ({_dtype(x)}) and {ys} ({_dtype(y)}) do not agree: "
            f"{k_x} != {k_y} in the contracted dim"
        )
    return MatMul.apply(x, y)


def _as_matrices(x, y):
    return (x[None, :] if x.ndim == 1 else x), (y[:, None] if y.ndim == 1 else y)


def _shape(a):
    return np.shape(a.data if isinstance(a, Tensor) else a)


def _dtype(a):
    return getattr(a, "dtype", type(a).__name__)


from autodiff.tensor import Tensor  # noqa: E402
