"""Weight initialisers, as `torch.nn.init`: each fills a tensor in place and returns it.

Fans follow PyTorch's weight layout: a linear weight is (out_features, in_features) and a conv
weight (c_out, c_in, kh, kw), so fan_in = c_in * kh * kw and fan_out = c_out * kh * kw.

The course's forms, for a layer with n = fan_in inputs:

- Xavier, Var(w) = 1/n (tanh nets): `kaiming_normal_(w, nonlinearity="linear")`, std 1/sqrt(n).
- Xavier/Glorot, Var(w) = 2/(n_in + n_out): `xavier_normal_(w)` (or `xavier_uniform_(w)`, the
  uniform distribution with that variance, U(-a, a) with a = sqrt(6/(n_in + n_out))).
- He, Var(w) = 2/n (ReLU nets): `kaiming_normal_(w, nonlinearity="relu")`, std sqrt(2/n); the
  course's `randn(shape) * sqrt(2/n)`.
- Small random: `normal_(w, 0, 0.01)`; zeros for biases: `zeros_(b)`.

Every random initialiser takes `generator`: a numpy Generator, an int seed (a fresh Generator,
so the same seed gives the same values), or None for the library's global generator (reseeded
by `autodiff.manual_seed`). Values are drawn in the tensor's dtype and written into its array
(`t.data`) without recording a graph; the dtype and the array object are kept. A plain ndarray
may be passed instead of a Tensor. float32 normals come from Box-Muller, as torch's do.

While `nn.utils.skip_init` builds a module, every initialiser here leaves its tensor untouched.
"""

import contextlib
import contextvars
import functools
import math

import numpy as np

from autodiff import dtypes
from autodiff.random import resolve
from autodiff.tensor import Tensor

# True while `nn.utils.skip_init` builds a module: every initialiser then leaves its tensor as is
_skipping = contextvars.ContextVar("nn.init skipping", default=False)

# values per Box-Muller step: its temporaries stay in cache
_BOX_MULLER_BLOCK = 1 << 16

_LINEAR_GAINS = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain (std multiplier) for a nonlinearity, as in PyTorch.

    linear, conv and sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu with negative slope
    `param` (0.01 by default): sqrt(2 / (1 + param**2)); selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


@contextlib.contextmanager
def _skipped():
    """Within: every initialiser below returns its tensor untouched (`nn.utils.skip_init`)."""
    token = _skipping.set(True)
    try:
        yield
    finally:
        _skipping.reset(token)


def _initialiser(fill):
    """`fill(tensor, ...)`, which does nothing inside `_skipped()`."""

    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        return tensor if _skipping.get() else fill(tensor, *args, **kwargs)

    return wrapper


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in * k and out * k."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(shape {tuple(shape)})"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _array(tensor, op):
    """The array to write into, checked to be floating for the random initialisers."""
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: expected a Tensor or ndarray, got {type(tensor).__name__}")
    return array


def _fill(tensor, values):
    """Write `values` into the tensor's array in place, outside the graph (as PyTorch's
    initialisers write under no_grad); a graph that saved the tensor then refuses it."""
    array = _array(tensor, "init")
    if values is not array:  # the random initialisers draw into the array itself
        array[...] = values
    if isinstance(tensor, Tensor):
        tensor.mark_written()
    return tensor


def _float_array(tensor, op):
    array = _array(tensor, op)
    if not dtypes.is_floating(array.dtype):
        raise TypeError(
            f"{op}: only float32 and float64 tensors can be initialised randomly, got "
            f"{array.dtype} (shape {array.shape})"
        )
    return array


def _uniform(tensor, low, high, generator, op):
    u = _drawn(tensor, op, lambda gen, out: gen.random(dtype=out.dtype.type, out=out), generator)
    u *= high - low
    u += low
    return _fill(tensor, u)


def _normal(tensor, mean, std, generator, op):
    z = _drawn(tensor, op, _standard_normal, generator)
    z *= std
    z += mean
    return _fill(tensor, z)


def _drawn(tensor, op, draw, generator):
    """The tensor's own array filled by `draw(generator, out)`, or, when that array is not
    contiguous, a new one: drawing in place spares VGG a copy of each 400 MB layer."""
    array = _float_array(tensor, op)
    out = array if array.flags.c_contiguous and array.flags.writeable else np.empty_like(array)
    draw(resolve(generator), out)
    return out


def _standard_normal(gen, out):
    """Fill the C-contiguous array `out` with N(0, 1) draws from the numpy Generator `gen`.

    float32 by Box-Muller on float32 uniforms, as torch's CPU `normal_`: numpy's float32
    ziggurat is no quicker than its float64 one, while its vectorised float32 log, sqrt, cos and
    sin make Box-Muller several times quicker (VGG's build is mostly these draws). Uniforms u
    have 24 bits, so 1 - u is in (0, 1] and |z| <= sqrt(48 ln 2) = 5.77, as torch's. Pairs are
    (value i, value i + n // 2); an odd last value is drawn by numpy, as are other dtypes.
    """
    if out.dtype != np.float32:
        gen.standard_normal(dtype=out.dtype.type, out=out)
        return
    flat = out.reshape(-1)
    gen.random(dtype=np.float32, out=flat)
    half = flat.size // 2
    cos = np.empty(min(half, _BOX_MULLER_BLOCK), np.float32)
    for start in range(0, half, _BOX_MULLER_BLOCK):
        stop = min(start + _BOX_MULLER_BLOCK, half)
        radius, angle = flat[start:stop], flat[half + start : half + stop]
        np.subtract(1, radius, out=radius)
        np.log(radius, out=radius)
        radius *= -2
        np.sqrt(radius, out=radius)
        angle *= 2 * np.pi
        np.cos(angle, out=cos[: stop - start])
        np.sin(angle, out=angle)
        angle *= radius
        np.multiply(radius, cos[: stop - start], out=radius)
    if flat.size % 2:
        flat[-1] = gen.standard_normal(dtype=np.float32)


@_initialiser
def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


@_initialiser
def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


@_initialiser
def constant_(tensor, val: float):
    """Fill with `val`."""
    return _fill(tensor, val)


@_initialiser
def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with values drawn from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _uniform(tensor, a, b, generator, "uniform_")


@_initialiser
def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with values drawn from N(mean, std**2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _normal(tensor, mean, std, generator, "normal_")


@_initialiser
def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    The variance is gain**2 * 2 / (fan_in + fan_out). Shape (out, in, *kernel), 2-D or more.
    """
    if _array(tensor, "xavier_uniform_").size == 0:
        return tensor  # nothing to fill, and the fans may be 0
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(tensor, -bound, bound, generator, "xavier_uniform_")


@_initialiser
def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    if _array(tensor, "xavier_normal_").size == 0:
        return tensor  # nothing to fill, and the fans may be 0
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator, "xavier_normal_")


@_initialiser
def kaiming_uniform_(
    tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
):
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan), gain from `calculate_gain`.

    Parameters
    ----------
    a : float
        Negative slope of the leaky ReLU that follows (0: plain ReLU, gain sqrt(2)).
    mode : 'fan_in' or 'fan_out'
        Preserve the variance of activations (fan_in) or of gradients (fan_out).
    nonlinearity : str
        'relu' or 'leaky_relu' as recommended; any name `calculate_gain` knows.
    """
    if _array(tensor, "kaiming_uniform_").size == 0:
        return tensor  # nothing to fill, and the fan may be 0
    fan = _calculate_correct_fan(tensor, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _uniform(tensor, -bound, bound, generator, "kaiming_uniform_")


@_initialiser
def kaiming_normal_(
    tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None
):
    """He normal: N(0, std**2), std = gain / sqrt(fan); with ReLU, Var = 2 / fan_in."""
    if _array(tensor, "kaiming_normal_").size == 0:
        return tensor  # nothing to fill, and the fan may be 0
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _normal(tensor, 0.0, std, generator, "kaiming_normal_")


@_initialiser
def trunc_normal_(
    tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator=None
):
    """Fill with values drawn from N(mean, std**2) truncated to [a, b].

    Drawn by rejection (values outside [a, b] are drawn again), which gives the truncated
    normal exactly; PyTorch inverts the CDF instead, the same distribution.
    """
    if not a <= b:
        raise ValueError(f"trunc_normal_: expected a <= b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_: std must be non-negative, got {std}")
    array = _float_array(tensor, "trunc_normal_")
    rng = resolve(generator)
    values = np.empty(array.shape, array.dtype)
    todo = np.ones(array.shape, bool)
    while todo.any():
        drawn = mean + std * rng.standard_normal(int(todo.sum()), dtype=array.dtype.type)
        values[todo] = drawn
        todo[todo] = (drawn < a) | (drawn > b)
    return _fill(tensor, values)


@_initialiser
def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the main diagonal); any shape (n, m)."""
    array = _array(tensor, "eye_")
    if array.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {array.shape}")
    return _fill(tensor, np.eye(*array.shape, dtype=array.dtype))


@_initialiser
def dirac_(tensor, groups: int = 1):
    """Fill a conv weight (c_out, c_in, *kernel), 3-D to 5-D, so the convolution is the
    identity: weight[g * c + i, i, centre] = 1 for each of the `groups` blocks of c = c_out //
    groups output channels and i < min(c, c_in); all else 0."""
    array = _array(tensor, "dirac_")
    if array.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3-D, 4-D and 5-D tensors are supported, got {array.shape}")
    if array.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 of shape {array.shape} must be divisible by {groups=}")
    per_group = array.shape[0] // groups
    d = np.arange(min(per_group, array.shape[1]))
    out_channels = (np.arange(groups)[:, None] * per_group + d).ravel()
    values = np.zeros(array.shape, array.dtype)
    centre = tuple(n // 2 for n in array.shape[2:])
    values[(out_channels, np.tile(d, groups), *centre)] = 1
    return _fill(tensor, values)


@_initialiser
def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times `gain`, as PyTorch: the Q of the QR
    decomposition of a normal (rows, numel / rows) matrix, signs fixed by R's diagonal, so
    it is uniform over orthogonal matrices. Rows (or columns, whichever are fewer) are
    orthonormal; dims after the second are flattened. 2-D or more."""
    array = _float_array(tensor, "orthogonal_")
    if array.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dims, got {array.shape}")
    if array.size == 0:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    flat = resolve(generator).standard_normal((rows, cols), dtype=array.dtype.type)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(array.shape))


@_initialiser
def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill a 2-D tensor with N(0, std**2) values, then zero ceil(sparsity * rows) random
    entries of each column (PyTorch's sparse initialisation)."""
    array = _float_array(tensor, "sparse_")
    if array.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape {array.shape}")
    rng = resolve(generator)
    rows, cols = array.shape
    values = std * rng.standard_normal(array.shape, dtype=array.dtype.type)
    zeroed = rng.random((rows, cols)).argsort(axis=0)[: math.ceil(sparsity * rows)]
    values[zeroed, np.arange(cols)] = 0
    return _fill(tensor, values)
