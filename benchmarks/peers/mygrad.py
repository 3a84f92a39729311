"""The mygrad peer: a numpy-backed dynamic-graph library, the closest in design to autodiff.

mygrad has no optimizer, so training steps update ``p.data`` in place; its ``nnet`` module has
N-d convolution, max pooling and batch norm but no convolution bias, added by broadcasting.
"""

import mygrad as mg
import numpy as np
from mygrad.nnet import batchnorm, conv_nd, max_pool, relu, softmax_crossentropy

from benchmarks.cases import LR, Case
from benchmarks.peers import Peer, Step

Arrays = dict[str, np.ndarray]


def _train(params: dict[str, mg.Tensor], loss_fn) -> Step:
    """Loss, backward, ``p.data -= LR * p.grad``."""

    def step():
        loss = loss_fn()
        loss.backward()
        for p in params.values():
            p.data -= LR * p.grad
        return {"loss": loss, **{k: p.grad for k, p in params.items()}}

    return step


def _conv(x, w, b=None, padding=0):
    """conv_nd with an optional per-filter bias."""
    y = conv_nd(x, w, stride=1, padding=padding)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _pool(x):
    return max_pool(x, (2, 2), 2)


def _linear(x, w, b):
    return x @ w.T + b


def _backward(a: Arrays, names: tuple[str, ...], fn, out: str = "loss") -> Step:
    """``fn(*tensors)`` and its backward; returns the value as ``out`` and each grad."""
    leaves = {k: mg.tensor(a[k]) for k in names}

    def step():
        value = fn(*leaves.values())
        value.backward()
        return {out: value, **{k: t.grad for k, t in leaves.items()}}

    return step


def jgraph(case: Case, a: Arrays) -> Step:
    """J = 3*(a + b*c) on 0-d tensors."""
    return _backward(a, ("a", "b", "c"), lambda x, y, z: 3 * (x + y * z), out="J")


def chain(case: Case, a: Arrays) -> Step:
    """mean(tanh(x*y + exp(x))**2)."""
    return _backward(a, ("x", "y"), lambda x, y: (mg.tanh(x * y + mg.exp(x)) ** 2).mean())


def matmul(case: Case, a: Arrays) -> Step:
    """sum(a @ b)."""
    return _backward(a, ("a", "b"), lambda x, y: (x @ y).sum())


def mlp(case: Case, a: Arrays) -> Step:
    x, t = a["x"], a["y"]
    p = {k: mg.tensor(v) for k, v in a.items() if k[0] in "wb"}

    def loss():
        h = relu(_linear(x, p["w1"], p["b1"]))
        h = relu(_linear(h, p["w2"], p["b2"]))
        return softmax_crossentropy(_linear(h, p["w3"], p["b3"]), t)

    return _train(p, loss)


def lenet(case: Case, a: Arrays) -> Step:
    x, t = a["x"], a["y"]
    p = {k: mg.tensor(v) for k, v in a.items() if k not in ("x", "y")}
    n = x.shape[0]

    def loss():
        h = _pool(relu(_conv(x, p["c1w"], p["c1b"], padding=2)))
        h = _pool(relu(_conv(h, p["c2w"], p["c2b"])))
        h = relu(_linear(h.reshape(n, -1), p["f1w"], p["f1b"]))
        h = relu(_linear(h, p["f2w"], p["f2b"]))
        return softmax_crossentropy(_linear(h, p["f3w"], p["f3b"]), t)

    return _train(p, loss)


def conv_fwd(case: Case, a: Arrays) -> Step:
    x, w, b = a["x"], a["w"], a["b"]

    def step():
        with mg.no_autodiff:
            return {"y": _conv(x, w, b, padding=1)}

    return step


def conv_fwdbwd(case: Case, a: Arrays) -> Step:
    """sum(conv(x, w) + b), gradients to x, w, b."""
    return _backward(a, ("x", "w", "b"), lambda x, w, b: _conv(x, w, b, padding=1).sum())


def maxpool(case: Case, a: Arrays) -> Step:
    """sum(maxpool(x))."""
    return _backward(a, ("x",), lambda x: _pool(x).sum())


def resblock(case: Case, a: Arrays) -> Step:
    x = a["x"]
    p = {k: mg.tensor(v) for k, v in a.items() if k != "x"}

    def loss():
        h = relu(batchnorm(_conv(x, p["w1"], padding=1), gamma=p["g1"], beta=p["be1"], eps=1e-5))
        h = batchnorm(_conv(h, p["w2"], padding=1), gamma=p["g2"], beta=p["be2"], eps=1e-5)
        return relu(h + x).mean()

    return _train(p, loss)


def _to_numpy(v: object) -> np.ndarray:
    return v.data if isinstance(v, mg.Tensor) else np.asarray(v)


PEER = Peer(
    name="mygrad",
    version=mg.__version__,
    builders={
        fn.__name__: fn
        for fn in (jgraph, chain, matmul, mlp, lenet, conv_fwd, conv_fwdbwd, maxpool, resblock)
    },
    to_numpy=_to_numpy,
)
