"""The HIPS autograd peer: differentiates plain numpy functions by tracing each call.

autograd has no neural-network ops, so convolution is written here the way an autograd user
would: the padded input is sliced once per kernel offset, the slices stacked, and one
``tensordot`` does the products; max pooling is a reshape and a max. Gradients come from
``value_and_grad`` of a function of a dict of parameters; SGD updates the arrays in place.
"""

import importlib.metadata

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

from benchmarks.cases import LR, Case
from benchmarks.peers import Peer, Step

Arrays = dict[str, np.ndarray]


def _conv(x, w, b=None, padding=0):
    """Stride-1 cross-correlation of (N, C, H, W) with (F, C, KH, KW), stacked-slice im2col."""
    f, c, kh, kw = w.shape
    if padding:
        x = anp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), "constant")
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    cols = anp.stack(
        [x[:, :, i : i + oh, j : j + ow] for i in range(kh) for j in range(kw)], axis=2
    )  # (N, C, KH*KW, OH, OW)
    y = anp.transpose(
        anp.tensordot(cols, anp.reshape(w, (f, c, kh * kw)), ([1, 2], [1, 2])), (0, 3, 1, 2)
    )
    return y if b is None else y + anp.reshape(b, (1, -1, 1, 1))


def _pool(x):
    """2x2 max pooling, stride 2."""
    n, c, h, w = x.shape
    return anp.max(anp.reshape(x, (n, c, h // 2, 2, w // 2, 2)), axis=(3, 5))


def _relu(x):
    return anp.maximum(x, 0)


def _linear(x, w, b):
    return anp.dot(x, w.T) + b


def _cross_entropy(logits, targets):
    """Mean softmax cross-entropy from logits, max-shifted for stability."""
    z = logits - anp.max(logits, axis=1, keepdims=True)
    lse = anp.log(anp.sum(anp.exp(z), axis=1))
    return anp.mean(lse - z[np.arange(z.shape[0]), targets])


def _batch_norm(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm over N, H, W with the biased variance."""
    mean = anp.mean(x, axis=(0, 2, 3), keepdims=True)
    xc = x - mean
    var = anp.mean(xc * xc, axis=(0, 2, 3), keepdims=True)
    return xc / anp.sqrt(var + eps) * anp.reshape(gamma, (1, -1, 1, 1)) + anp.reshape(
        beta, (1, -1, 1, 1)
    )


def _backward(fn, params: Arrays, out: str = "loss") -> Step:
    """Value (returned as ``out``) and gradients of ``fn(params)``, without updating."""
    value_grad = value_and_grad(fn)

    def step():
        value, grads = value_grad(params)
        return {out: value, **grads}

    return step


def _train(loss_fn, params: Arrays) -> Step:
    """Loss and gradients of ``loss_fn(params)``, then ``p -= LR * g`` in place."""
    value_grad = value_and_grad(loss_fn)

    def step():
        loss, grads = value_grad(params)
        for k, g in grads.items():
            params[k] -= LR * g
        return {"loss": loss, **grads}

    return step


def jgraph(case: Case, a: Arrays) -> Step:
    """J = 3*(a + b*c), traced per call."""
    return _backward(lambda p: 3 * (p["a"] + p["b"] * p["c"]), a, out="J")


def chain(case: Case, a: Arrays) -> Step:
    """mean(tanh(x*y + exp(x))**2)."""
    return _backward(lambda p: anp.mean(anp.tanh(p["x"] * p["y"] + anp.exp(p["x"])) ** 2), a)


def matmul(case: Case, a: Arrays) -> Step:
    """sum(a @ b)."""
    return _backward(lambda p: anp.sum(anp.dot(p["a"], p["b"])), a)


def mlp(case: Case, a: Arrays) -> Step:
    """Three dense layers, relu, cross-entropy, SGD."""
    x, t = a["x"], a["y"]

    def loss(p):
        h = _relu(_linear(x, p["w1"], p["b1"]))
        h = _relu(_linear(h, p["w2"], p["b2"]))
        return _cross_entropy(_linear(h, p["w3"], p["b3"]), t)

    return _train(loss, {k: v for k, v in a.items() if k[0] in "wb"})


def lenet(case: Case, a: Arrays) -> Step:
    """LeNet-5 with stacked-slice convolutions, SGD."""
    x, t = a["x"], a["y"]
    n = x.shape[0]

    def loss(p):
        h = _pool(_relu(_conv(x, p["c1w"], p["c1b"], padding=2)))
        h = _pool(_relu(_conv(h, p["c2w"], p["c2b"])))
        h = _relu(_linear(anp.reshape(h, (n, -1)), p["f1w"], p["f1b"]))
        h = _relu(_linear(h, p["f2w"], p["f2b"]))
        return _cross_entropy(_linear(h, p["f3w"], p["f3b"]), t)

    return _train(loss, {k: v for k, v in a.items() if k not in ("x", "y")})


def conv_fwd(case: Case, a: Arrays) -> Step:
    """The convolution on plain arrays: no tracing without a grad call."""
    x, w, b = a["x"], a["w"], a["b"]
    return lambda: {"y": _conv(x, w, b, padding=1)}


def conv_fwdbwd(case: Case, a: Arrays) -> Step:
    """sum(conv(x, w) + b), gradients to x, w, b."""
    return _backward(lambda p: anp.sum(_conv(p["x"], p["w"], p["b"], padding=1)), a)


def maxpool(case: Case, a: Arrays) -> Step:
    """sum(maxpool(x))."""
    return _backward(lambda p: anp.sum(_pool(p["x"])), a)


def resblock(case: Case, a: Arrays) -> Step:
    """Basic block with batch statistics, mean, SGD."""
    x = a["x"]

    def loss(p):
        h = _relu(_batch_norm(_conv(x, p["w1"], padding=1), p["g1"], p["be1"]))
        h = _batch_norm(_conv(h, p["w2"], padding=1), p["g2"], p["be2"])
        return anp.mean(_relu(h + x))

    return _train(loss, {k: v for k, v in a.items() if k != "x"})


PEER = Peer(
    name="autograd",
    version=importlib.metadata.version("autograd"),
    builders={
        fn.__name__: fn
        for fn in (jgraph, chain, matmul, mlp, lenet, conv_fwd, conv_fwdbwd, maxpool, resblock)
    },
)
