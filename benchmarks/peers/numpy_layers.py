"""Hand-written forward and backward passes in numpy: the baseline with no framework at all.

Each ``*_forward`` returns its output and what its ``*_backward`` needs; arrays stay float32
throughout (numpy 2 keeps the dtype of float32 arrays combined with Python scalars). These are
written for speed the way a careful numpy user would: one large BLAS product per convolution or
dense layer, views instead of copies where the layout allows, and no Python loops over data.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_NCHW_SUM = (0, 2, 3)


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x @ w.T + b`` for x (N, I), w (O, I), b (O,); returns (N, O)."""
    return x @ w.T + b


def linear_backward(
    gy: np.ndarray, x: np.ndarray, w: np.ndarray, need_gx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients (gx, gw, gb) of :func:`linear_forward`; gx is None when not needed."""
    gx = gy @ w if need_gx else None
    return gx, gy.T @ x, gy.sum(axis=0)


def relu_backward(gy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient of relu from its output; zero where the output is 0, as in PyTorch."""
    return gy * (y > 0)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[np.float32, np.ndarray]:
    """Mean softmax cross-entropy of (N, K) logits and (N,) int targets, and its gradient.

    Subtracts the row maximum before exponentiating, so large logits don't overflow.
    """
    n = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = (np.log(s[:, 0]) - z[rows, targets]).mean()
    grad = e / s
    grad[rows, targets] -= 1
    grad /= n
    return loss, grad


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, pad: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stride-1 cross-correlation by im2col.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,), or None
    pad : int
        Zero padding on each side of H and W.

    Returns
    -------
    y : ndarray, shape (N, F, OH, OW), C-contiguous
    cols : ndarray, shape (C*KH*KW, N*OH*OW)
        The unfolded input, kept for the weight gradient.
    """
    n = x.shape[0]
    f, c, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, OH, OW, KH, KW), a view
    oh, ow = windows.shape[2:4]
    # this layout makes the one copy below run along contiguous image rows
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
    y = w.reshape(f, -1) @ cols
    if b is not None:
        y += b[:, None]
    return np.ascontiguousarray(y.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)), cols


def conv2d_backward(
    gy: np.ndarray,
    cols: np.ndarray,
    x_shape: tuple[int, ...],
    w: np.ndarray,
    pad: int,
    need_gx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients (gx, gw, gb) of :func:`conv2d_forward`; gx is None when not needed.

    The input gradient is col2im: the unfolded gradient is added back window offset by window
    offset, KH*KW strided adds over the whole batch rather than a loop over pixels.
    """
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    oh, ow = gy.shape[2:]
    gy2 = gy.transpose(1, 0, 2, 3).reshape(f, n * oh * ow)
    gw = (gy2 @ cols.T).reshape(w.shape)
    gb = gy.sum(axis=_NCHW_SUM)
    if not need_gx:
        return None, gw, gb
    gcols = (w.reshape(f, -1).T @ gy2).reshape(c, kh, kw, n, oh, ow)
    gxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=gy.dtype)
    for i in range(kh):
        for j in range(kw):
            gxp[:, :, i : i + oh, j : j + ow] += gcols[:, i, j].transpose(1, 0, 2, 3)
    gx = gxp[:, :, pad : pad + h, pad : pad + wd] if pad else gxp
    return gx, gw, gb


def max_pool2d_forward(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k x k max pooling with stride k on (N, C, H, W), H and W multiples of k.

    Returns the (N, C, H/k, W/k) output and the position of each maximum in its window; ties
    go to the first position, as in PyTorch, so one element per window gets the gradient.
    """
    n, c, h, w = x.shape
    oh, ow = h // k, w // k
    windows = x.reshape(n, c, oh, k, ow, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, -1)
    idx = windows.argmax(axis=-1)[..., None]
    return np.take_along_axis(windows, idx, axis=-1)[..., 0], idx


def max_pool2d_backward(gy: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Gradient of :func:`max_pool2d_forward`: each output's gradient goes to its maximum."""
    n, c, oh, ow = gy.shape
    gwin = np.zeros((n, c, oh, ow, k * k), dtype=gy.dtype)
    np.put_along_axis(gwin, idx, gy[..., None], axis=-1)
    return gwin.reshape(n, c, oh, ow, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh * k, -1)


def batch_norm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Training-mode batch norm over N, H, W of (N, C, H, W), biased variance.

    Returns the output and (xhat, 1/std) for the backward pass.
    """
    mean = x.mean(axis=_NCHW_SUM, keepdims=True)
    xc = x - mean
    inv_std = 1 / np.sqrt((xc * xc).mean(axis=_NCHW_SUM, keepdims=True) + eps)
    xhat = xc * inv_std
    return xhat * gamma[:, None, None] + beta[:, None, None], (xhat, inv_std)


def batch_norm_backward(
    gy: np.ndarray, saved: tuple[np.ndarray, np.ndarray], gamma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (gx, ggamma, gbeta) of :func:`batch_norm_forward`.

    Uses the closed form ``gx = (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) / std``,
    which folds the gradients through the batch mean and variance into two reductions.
    """
    xhat, inv_std = saved
    gbeta = gy.sum(axis=_NCHW_SUM)
    ggamma = (gy * xhat).sum(axis=_NCHW_SUM)
    gxhat = gy * gamma[:, None, None]
    gx = inv_std * (
        gxhat
        - gxhat.mean(axis=_NCHW_SUM, keepdims=True)
        - xhat * (gxhat * xhat).mean(axis=_NCHW_SUM, keepdims=True)
    )
    return gx, ggamma, gbeta
