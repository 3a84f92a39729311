"""Op-table entries for pooling and unpooling, 1-D and 2-D (see tests/ops/specs.py).

The references loop over output cells and gather each window's real taps from PyTorch's
definitions: output length (L + 2p - d (k - 1) - 1) / s + 1, rounded down, or up with ceil_mode
unless the last window would start in the right padding; an average divides by the window's
extent within the padded input (count_include_pad), by its real taps, or by divisor_override;
adaptive cell i covers [floor(i L / o), ceil((i + 1) L / o)). The samples cover odd sizes,
ceil_mode windows that start in the padding or overhang it, dilation > 1 and unbatched input.
"""

import math

import numpy as np

import autodiff as ad
from autodiff.ops.pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
    MaxUnpool2d,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from tests.ops.harness import OpSpec, distinct, sample, torch


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _out_len(n, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    if not ceil_mode:
        return (n + 2 * p - span) // s + 1
    o = math.ceil((n + 2 * p - span) / s) + 1
    return o - 1 if (o - 1) * s >= n + p else o


def _taps(o, n, k, s, p, d):
    """The real positions of window o, and its extent within the padded input."""
    begin = o * s - p
    real = [begin + i * d for i in range(k) if 0 <= begin + i * d < n]
    return real, min(begin + (k - 1) * d + 1, n + p) - begin


def _ref_pool2d(
    x,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    *,
    avg=False,
    count_include_pad=True,
    divisor_override=None,
):
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    geometry = list(zip(x.shape[2:], kernel, stride, _pair(padding), _pair(dilation)))
    oh, ow = (_out_len(*g, ceil_mode) for g in geometry)
    y = np.empty((*x.shape[:2], oh, ow))
    for i in range(oh):
        rows, h_extent = _taps(i, *geometry[0])
        for j in range(ow):
            cols, w_extent = _taps(j, *geometry[1])
            window = x[:, :, rows][:, :, :, cols]
            if not avg:
                y[:, :, i, j] = window.max(axis=(2, 3))
                continue
            divisor = divisor_override or (
                h_extent * w_extent if count_include_pad else len(rows) * len(cols)
            )
            y[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return y[0] if unbatched else y


def _ref_adaptive(reduce):
    def ref(x, output_size):
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        h, w = x.shape[2:]
        oh, ow = (n if o is None else o for o, n in zip(_pair(output_size), (h, w)))
        y = np.empty((*x.shape[:2], oh, ow))
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * h // oh, -(-(i + 1) * h // oh))
                cols = slice(j * w // ow, -(-(j + 1) * w // ow))
                y[:, :, i, j] = reduce(x[:, :, rows, cols], axis=(2, 3))
        return y[0] if unbatched else y

    return ref


def _as_1d(ref_2d):
    """A 2-D reference applied to (N, C, 1, L); int arguments become (1, k), (0, p)."""

    def ref(x, *args, **kw):
        ones = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_size": 1}
        kw = {k: v if k not in ones or v is None else (ones[k], v) for k, v in kw.items()}
        args = [(1, a) if isinstance(a, int) else a for a in args]
        return ref_2d(x[..., None, :], *args, **kw)[..., 0, :]

    return ref


def _unpool_indices(shape, kernel_size, stride=None, padding=0):
    """Deterministic int64 indices for max_unpool2d: a tap of each window in the output plane."""
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    h, w = shape[-2:]
    out = [(n - 1) * s - 2 * p + k for n, s, p, k in zip((h, w), stride, _pair(padding), kernel)]
    rng = np.random.default_rng(h * 31 + w)
    rows = np.arange(h)[:, None] * stride[0] - _pair(padding)[0]
    cols = np.arange(w)[None, :] * stride[1] - _pair(padding)[1]
    rows = np.clip(rows + rng.integers(0, kernel[0], (*shape[:-2], h, 1)), 0, out[0] - 1)
    cols = np.clip(cols + rng.integers(0, kernel[1], (*shape[:-2], 1, w)), 0, out[1] - 1)
    return (rows * out[1] + cols).astype(np.int64), tuple(out)


def _ref_unpool2d(x, kernel_size, stride=None, padding=0):
    index, (oh, ow) = _unpool_indices(x.shape, kernel_size, stride, padding)
    y = np.zeros((*x.shape[:-2], oh * ow))
    np.put_along_axis(y, index.reshape(*x.shape[:-2], -1), x.reshape(*x.shape[:-2], -1), -1)
    return y.reshape(*x.shape[:-2], oh, ow)


def _max_unpool2d(x, **kw):
    return max_unpool2d(x, ad.tensor(_unpool_indices(x.shape, **kw)[0]), **kw)


def _torch_max_unpool2d(x, **kw):
    index = torch.from_numpy(_unpool_indices(x.shape, **kw)[0])
    return torch.nn.functional.max_unpool2d(x, index, **kw)


def _unpool1d_indices(shape, kernel_size, stride=None):
    index, _ = _unpool_indices(
        (*shape[:-1], 1, shape[-1]), (1, kernel_size), stride and (1, stride)
    )
    return index[..., 0, :]


_NCHW = {"scalar": "needs (N, C, H, W) input", "broadcast": "one tensor input"}
_MAX_POOL_SAMPLES = (
    sample((2, 3, 4, 6), kernel_size=2),
    sample((1, 1, 5, 7), t=(0,), kernel_size=3, stride=2, padding=1),
    sample((2, 2, 6, 5), kernel_size=(2, 3), stride=(1, 2)),
    sample((1, 2, 5, 5), kernel_size=2, ceil_mode=True),
    sample((2, 1, 6, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    sample((1, 2, 7, 6), kernel_size=3, stride=(2, 1), dilation=2, padding=1),
    sample((1, 1, 7, 4), kernel_size=3, stride=2, dilation=2, ceil_mode=True),
    sample((3, 5, 5), kernel_size=2, stride=1),
)

SPECS = [
    OpSpec(
        name="max_pool2d",
        fn=max_pool2d,
        ref=_ref_pool2d,
        torch_fn=lambda x, **kw: torch.nn.functional.max_pool2d(x, **kw),
        covers=(MaxPool2d,),
        samples=_MAX_POOL_SAMPLES,
        domain=distinct,
        exempt=_NCHW,
    ),
    OpSpec(
        name="max_pool2d_with_indices",
        fn=lambda x, **kw: max_pool2d(x, **kw, return_indices=True)[0],
        ref=_ref_pool2d,
        torch_fn=lambda x, **kw: torch.nn.functional.max_pool2d(x, **kw, return_indices=True)[0],
        covers=(MaxPool2d,),
        samples=(
            sample((2, 1, 5, 5), t=(0,), kernel_size=2, ceil_mode=True),
            sample((1, 3, 6, 7), kernel_size=3, padding=1, dilation=(1, 2)),
        ),
        domain=distinct,
        exempt=_NCHW,
    ),
    OpSpec(
        name="avg_pool2d",
        fn=avg_pool2d,
        ref=lambda x, *a, **kw: _ref_pool2d(x, *a, **kw, avg=True),
        torch_fn=lambda x, **kw: torch.nn.functional.avg_pool2d(x, **kw),
        covers=(AvgPool2d,),
        samples=(
            sample((2, 3, 4, 6), kernel_size=2),
            sample((1, 1, 5, 7), t=(0,), kernel_size=3, stride=2, padding=1),
            sample((2, 2, 6, 5), kernel_size=(2, 3), stride=(1, 2)),
            sample((1, 2, 5, 5), kernel_size=2, ceil_mode=True),
            sample((2, 1, 6, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            sample((1, 2, 6, 7), kernel_size=3, stride=2, padding=1, count_include_pad=False),
            sample(
                (1, 2, 5, 6),
                kernel_size=3,
                stride=2,
                padding=1,
                ceil_mode=True,
                count_include_pad=False,
            ),
            sample((2, 2, 5, 5), kernel_size=2, stride=1, padding=1, divisor_override=3),
            sample((3, 5, 4), kernel_size=(3, 2), ceil_mode=True),
        ),
        exempt=_NCHW,
    ),
    OpSpec(
        name="adaptive_avg_pool2d",
        fn=adaptive_avg_pool2d,
        ref=_ref_adaptive(np.mean),
        torch_fn=lambda x, **kw: torch.nn.functional.adaptive_avg_pool2d(x, **kw),
        covers=(AdaptiveAvgPool2d,),
        samples=(
            sample((2, 3, 4, 5), output_size=1),
            sample((1, 2, 6, 4), t=(0,), output_size=(3, 2)),
            sample((2, 1, 5, 7), output_size=(2, 3)),
            sample((1, 2, 5, 3), output_size=(7, 4)),
            sample((2, 5, 7), output_size=(None, 3)),
        ),
        exempt=_NCHW,
    ),
    OpSpec(
        name="adaptive_max_pool2d",
        fn=adaptive_max_pool2d,
        ref=_ref_adaptive(np.max),
        torch_fn=lambda x, **kw: torch.nn.functional.adaptive_max_pool2d(x, **kw),
        covers=(AdaptiveMaxPool2d,),
        samples=(
            sample((2, 3, 4, 5), output_size=1),
            sample((1, 2, 6, 4), t=(0,), output_size=(3, 2)),
            sample((2, 1, 5, 7), output_size=(2, 3)),
            sample((1, 2, 5, 3), output_size=(7, 4)),
            sample((2, 5, 7), output_size=(None, 3)),
        ),
        domain=distinct,
        exempt=_NCHW,
    ),
    OpSpec(
        name="max_unpool2d",
        fn=_max_unpool2d,
        ref=_ref_unpool2d,
        torch_fn=_torch_max_unpool2d,
        covers=(MaxUnpool2d,),
        samples=(
            sample((2, 3, 2, 3), kernel_size=2),
            sample((1, 2, 3, 3), t=(0,), kernel_size=3, stride=3, padding=1),
            sample((2, 1, 3, 2), kernel_size=(2, 3), stride=(3, 2)),
        ),
        exempt=_NCHW,
    ),
    OpSpec(
        name="max_pool1d",
        fn=max_pool1d,
        ref=_as_1d(_ref_pool2d),
        torch_fn=lambda x, **kw: torch.nn.functional.max_pool1d(x, **kw),
        covers=(MaxPool2d,),
        samples=(
            sample((2, 1, 7), kernel_size=2),
            sample((2, 2, 9), t=(0,), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            sample((2, 8), kernel_size=3, stride=1, dilation=3),
        ),
        domain=distinct,
        exempt=_NCHW,
    ),
    OpSpec(
        name="avg_pool1d",
        fn=avg_pool1d,
        ref=_as_1d(lambda x, *a, **kw: _ref_pool2d(x, *a, **kw, avg=True)),
        torch_fn=lambda x, **kw: torch.nn.functional.avg_pool1d(x, **kw),
        covers=(AvgPool2d,),
        samples=(
            sample((2, 1, 7), kernel_size=2),
            sample((2, 2, 9), t=(0,), kernel_size=3, stride=2, padding=1, ceil_mode=True),
            sample((2, 8), kernel_size=3, padding=1, count_include_pad=False),
        ),
        exempt=_NCHW,
    ),
    OpSpec(
        name="adaptive_avg_pool1d",
        fn=adaptive_avg_pool1d,
        ref=_as_1d(_ref_adaptive(np.mean)),
        torch_fn=lambda x, **kw: torch.nn.functional.adaptive_avg_pool1d(x, **kw),
        covers=(AdaptiveAvgPool2d,),
        samples=(sample((1, 3, 7), output_size=3), sample((2, 9), t=(0,), output_size=4)),
        exempt=_NCHW,
    ),
    OpSpec(
        name="adaptive_max_pool1d",
        fn=adaptive_max_pool1d,
        ref=_as_1d(_ref_adaptive(np.max)),
        torch_fn=lambda x, **kw: torch.nn.functional.adaptive_max_pool1d(x, **kw),
        covers=(AdaptiveMaxPool2d,),
        samples=(sample((1, 3, 7), output_size=3), sample((2, 9), t=(0,), output_size=4)),
        domain=distinct,
        exempt=_NCHW,
    ),
    OpSpec(
        name="max_unpool1d",
        fn=lambda x, **kw: max_unpool1d(x, ad.tensor(_unpool1d_indices(x.shape, **kw)), **kw),
        ref=lambda x, **kw: _ref_unpool2d(
            x[:, :, None], (1, kw["kernel_size"]), kw.get("stride") and (1, kw["stride"])
        )[:, :, 0],
        torch_fn=lambda x, **kw: torch.nn.functional.max_unpool1d(
            x, torch.from_numpy(_unpool1d_indices(x.shape, **kw)), **kw
        ),
        covers=(MaxUnpool2d,),
        samples=(
            sample((2, 3, 4), kernel_size=2),
            sample((1, 2, 3), t=(0,), kernel_size=2, stride=3),
        ),
        exempt=_NCHW,
    ),
]
