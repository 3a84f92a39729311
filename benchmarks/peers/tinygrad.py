"""The tinygrad peer: lazy tensors compiled to kernels (clang on the CPU), run eagerly here.

Every step ends by realizing its outputs, so the time includes the computation and not just
the building of a lazy graph. Gradients come from ``loss.gradient(*params)``, which computes
only the ones asked for; SGD assigns ``p - LR * g`` in place. The first call compiles every
kernel, hence its long "first call"; later calls reuse the compiled kernels but still schedule
each step (no TinyJit, so the comparison stays with eager libraries).
"""

import importlib.metadata

import numpy as np
from tinygrad import Device, Tensor
from tinygrad.helpers import NUM_CPU_THREADS

from benchmarks.cases import LR, Case
from benchmarks.peers import Peer, Step

try:
    _DEVICE = Device.DEFAULT
except RuntimeError as exc:  # e.g. the CPU backend needs clang on PATH
    raise ImportError(f"tinygrad has no usable device ({exc})") from exc

Arrays = dict[str, np.ndarray]


def _t(a: np.ndarray) -> Tensor:
    """A realized tensor holding a copy of the array."""
    return Tensor(a).realize()


def _backward(a: Arrays, names: tuple[str, ...], fn, out: str = "loss") -> Step:
    """``fn(*tensors)`` and its gradients, realized together; the value is returned as ``out``."""
    leaves = {k: _t(a[k]) for k in names}

    def step():
        value = fn(*leaves.values())
        grads = value.gradient(*leaves.values())
        Tensor.realize(value, *grads)
        return {out: value, **dict(zip(leaves, grads, strict=True))}

    return step


def _train(params: dict[str, Tensor], loss_fn) -> Step:
    """Loss, gradients, ``p.assign(p - LR * g)``, all realized together."""

    def step():
        loss = loss_fn()
        grads = dict(zip(params, loss.gradient(*params.values()), strict=True))
        for k, p in params.items():
            p.assign(p.detach() - LR * grads[k])
        Tensor.realize(loss, *grads.values(), *params.values())
        return {"loss": loss, **grads}

    return step


def _bn(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Training-mode batch norm with batch statistics and the biased variance."""
    mean = x.mean(axis=(0, 2, 3))
    var = ((x - mean.reshape(1, -1, 1, 1)) ** 2).mean(axis=(0, 2, 3))
    return x.batchnorm(gamma, beta, mean, (var + eps).rsqrt())


def _linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return x.linear(w.T, b)


def jgraph(case: Case, a: Arrays) -> Step:
    """J = 3*(a + b*c) on 0-d tensors."""
    return _backward(a, ("a", "b", "c"), lambda x, y, z: 3 * (x + y * z), out="J")


def chain(case: Case, a: Arrays) -> Step:
    """((x*y + x.exp()).tanh()**2).mean()."""
    return _backward(a, ("x", "y"), lambda x, y: ((x * y + x.exp()).tanh() ** 2).mean())


def matmul(case: Case, a: Arrays) -> Step:
    """(a @ b).sum()."""
    return _backward(a, ("a", "b"), lambda x, y: (x @ y).sum())


def mlp(case: Case, a: Arrays) -> Step:
    """Three dense layers, relu, sparse categorical cross-entropy, SGD."""
    x, t = _t(a["x"]), _t(a["y"])
    p = {k: _t(v) for k, v in a.items() if k[0] in "wb"}

    def loss():
        h = _linear(x, p["w1"], p["b1"]).relu()
        h = _linear(h, p["w2"], p["b2"]).relu()
        return _linear(h, p["w3"], p["b3"]).sparse_categorical_crossentropy(t)

    return _train(p, loss)


def lenet(case: Case, a: Arrays) -> Step:
    """LeNet-5, SGD."""
    x, t = _t(a["x"]), _t(a["y"])
    p = {k: _t(v) for k, v in a.items() if k not in ("x", "y")}
    n = a["x"].shape[0]

    def loss():
        h = x.conv2d(p["c1w"], p["c1b"], padding=2).relu().max_pool2d((2, 2))
        h = h.conv2d(p["c2w"], p["c2b"]).relu().max_pool2d((2, 2))
        h = _linear(h.reshape(n, -1), p["f1w"], p["f1b"]).relu()
        h = _linear(h, p["f2w"], p["f2b"]).relu()
        return _linear(h, p["f3w"], p["f3b"]).sparse_categorical_crossentropy(t)

    return _train(p, loss)


def conv_fwd(case: Case, a: Arrays) -> Step:
    """conv2d, realized; no gradient is asked for, so no backward graph is built."""
    x, w, b = (_t(a[k]) for k in ("x", "w", "b"))
    return lambda: {"y": x.conv2d(w, b, padding=1).realize()}


def conv_fwdbwd(case: Case, a: Arrays) -> Step:
    """conv2d(...).sum(), gradients to x, w, b."""
    return _backward(a, ("x", "w", "b"), lambda x, w, b: x.conv2d(w, b, padding=1).sum())


def maxpool(case: Case, a: Arrays) -> Step:
    """max_pool2d(x).sum(), gradient to x."""
    return _backward(a, ("x",), lambda x: x.max_pool2d((2, 2)).sum())


def resblock(case: Case, a: Arrays) -> Step:
    """Basic block with batch statistics, mean, SGD."""
    x = _t(a["x"])
    p = {k: _t(v) for k, v in a.items() if k != "x"}

    def loss():
        h = _bn(x.conv2d(p["w1"], padding=1), p["g1"], p["be1"]).relu()
        h = _bn(h.conv2d(p["w2"], padding=1), p["g2"], p["be2"])
        return (h + x).relu().mean()

    return _train(p, loss)


def _to_numpy(v: object) -> np.ndarray:
    return v.numpy() if isinstance(v, Tensor) else np.asarray(v)


def _configure(threads: int) -> None:
    """Cap the CPU backend's worker threads."""
    NUM_CPU_THREADS.value = threads


PEER = Peer(
    name="tinygrad",
    version=importlib.metadata.version("tinygrad"),
    builders={
        fn.__name__: fn
        for fn in (jgraph, chain, matmul, mlp, lenet, conv_fwd, conv_fwdbwd, maxpool, resblock)
    },
    to_numpy=_to_numpy,
    configure=_configure,
)
