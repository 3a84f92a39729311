"""Matrix product with numpy's `matmul` semantics: 1-D, 2-D and batched operands."""

import numpy as np

from autodiff.function import Function


class MatMul(Function):
    """x @ y. A 1-D x is a row (1, k) and a 1-D y a column (k, 1), removed again afterwards,
    so one rule covers every case; the engine sums gradients over broadcast batch dims."""

    @staticmethod
    def forward(ctx, x, y):
        x2, y2 = _as_matrices(x, y)
        out = np.matmul(x2, y2)
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
            gx = np.matmul(g2, np.swapaxes(y2, -1, -2))
            gx = gx[..., 0, :] if ctx.x_vector else gx
        if ctx.needs_input_grad[1]:
            gy = np.matmul(np.swapaxes(x2, -1, -2), g2)
            gy = gy[..., 0] if ctx.y_vector else gy
        return gx, gy


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
