"""The numpy peer: every case with a hand-written forward and backward pass, no graph at all.

It is the floor a framework's overhead is measured against, and the reference of the
correctness check where torch is not installed.
"""

import numpy as np

from benchmarks.cases import LR, NMS_IOU, Case
from benchmarks.peers import Peer, Step
from benchmarks.peers import numpy_layers as L

Arrays = dict[str, np.ndarray]


def _sgd(params: Arrays, grads: Arrays) -> None:
    """In-place ``p -= LR * g`` for every named parameter."""
    for name, g in grads.items():
        params[name] -= LR * g


def jgraph(case: Case, a: Arrays) -> Step:
    """J = 3*(a + b*c) and its three partial derivatives, by hand."""
    x, y, z = a["a"], a["b"], a["c"]

    def step():
        return {"J": 3 * (x + y * z), "a": np.float32(3), "b": 3 * z, "c": 3 * y}

    return step


def chain(case: Case, a: Arrays) -> Step:
    """loss = mean(tanh(x*y + exp(x))**2), gradients by the chain rule."""
    x, y = a["x"], a["y"]
    n = x.size

    def step():
        ex = np.exp(x)
        t = np.tanh(x * y + ex)
        loss = (t * t).mean()
        gu = (2 / n) * t * (1 - t * t)
        return {"loss": loss, "x": gu * (y + ex), "y": gu * x}

    return step


def matmul(case: Case, a: Arrays) -> Step:
    """sum(a @ b): the gradients are row sums of b and column sums of a, by BLAS products."""
    x, y = a["a"], a["b"]

    def step():
        out = x @ y
        g = np.ones_like(out)
        return {"loss": out.sum(), "a": g @ y.T, "b": x.T @ g}

    return step


def mlp(case: Case, a: Arrays) -> Step:
    """Three dense layers, relu between, cross-entropy, SGD."""
    x, t = a["x"], a["y"]
    p = {k: v for k, v in a.items() if k[0] in "wb"}

    def step():
        h1 = np.maximum(L.linear_forward(x, p["w1"], p["b1"]), 0)
        h2 = np.maximum(L.linear_forward(h1, p["w2"], p["b2"]), 0)
        loss, g = L.cross_entropy(L.linear_forward(h2, p["w3"], p["b3"]), t)
        g, gw3, gb3 = L.linear_backward(g, h2, p["w3"])
        g, gw2, gb2 = L.linear_backward(L.relu_backward(g, h2), h1, p["w2"])
        _, gw1, gb1 = L.linear_backward(L.relu_backward(g, h1), x, p["w1"], need_gx=False)
        grads = {"w1": gw1, "b1": gb1, "w2": gw2, "b2": gb2, "w3": gw3, "b3": gb3}
        _sgd(p, grads)
        return {"loss": loss, **grads}

    return step


def lenet(case: Case, a: Arrays) -> Step:
    """LeNet-5: im2col convolutions, argmax pooling, dense layers, cross-entropy, SGD."""
    x, t = a["x"], a["y"]
    p = {k: v for k, v in a.items() if k not in ("x", "y")}
    n = x.shape[0]

    def step():
        c1, cols1 = L.conv2d_forward(x, p["c1w"], p["c1b"], pad=2)
        r1 = np.maximum(c1, 0)
        p1, idx1 = L.max_pool2d_forward(r1, 2)
        c2, cols2 = L.conv2d_forward(p1, p["c2w"], p["c2b"], pad=0)
        r2 = np.maximum(c2, 0)
        p2, idx2 = L.max_pool2d_forward(r2, 2)
        flat = p2.reshape(n, -1)
        h1 = np.maximum(L.linear_forward(flat, p["f1w"], p["f1b"]), 0)
        h2 = np.maximum(L.linear_forward(h1, p["f2w"], p["f2b"]), 0)
        loss, g = L.cross_entropy(L.linear_forward(h2, p["f3w"], p["f3b"]), t)

        g, g_f3w, g_f3b = L.linear_backward(g, h2, p["f3w"])
        g, g_f2w, g_f2b = L.linear_backward(L.relu_backward(g, h2), h1, p["f2w"])
        g, g_f1w, g_f1b = L.linear_backward(L.relu_backward(g, h1), flat, p["f1w"])
        g = L.max_pool2d_backward(g.reshape(p2.shape), idx2, 2)
        g, g_c2w, g_c2b = L.conv2d_backward(L.relu_backward(g, r2), cols2, p1.shape, p["c2w"], 0)
        g = L.max_pool2d_backward(g, idx1, 2)
        _, g_c1w, g_c1b = L.conv2d_backward(
            L.relu_backward(g, r1), cols1, x.shape, p["c1w"], 2, need_gx=False
        )
        grads = {
            "c1w": g_c1w,
            "c1b": g_c1b,
            "c2w": g_c2w,
            "c2b": g_c2b,
            "f1w": g_f1w,
            "f1b": g_f1b,
            "f2w": g_f2w,
            "f2b": g_f2b,
            "f3w": g_f3w,
            "f3b": g_f3b,
        }
        _sgd(p, grads)
        return {"loss": loss, **grads}

    return step


def conv_fwd(case: Case, a: Arrays) -> Step:
    """im2col convolution, forward only."""
    x, w, b = a["x"], a["w"], a["b"]

    def step():
        return {"y": L.conv2d_forward(x, w, b, pad=1)[0]}

    return step


def conv_fwdbwd(case: Case, a: Arrays) -> Step:
    """im2col convolution, sum, and its col2im backward."""
    x, w, b = a["x"], a["w"], a["b"]

    def step():
        y, cols = L.conv2d_forward(x, w, b, pad=1)
        gx, gw, gb = L.conv2d_backward(np.ones_like(y), cols, x.shape, w, pad=1)
        return {"loss": y.sum(), "x": gx, "w": gw, "b": gb}

    return step


def maxpool(case: Case, a: Arrays) -> Step:
    """2x2 max pooling, sum, backward."""
    x = a["x"]

    def step():
        y, idx = L.max_pool2d_forward(x, 2)
        return {"loss": y.sum(), "x": L.max_pool2d_backward(np.ones_like(y), idx, 2)}

    return step


def resblock(case: Case, a: Arrays) -> Step:
    """relu(bn(conv(relu(bn(conv(x))))) + x), mean, SGD, all by hand."""
    x = a["x"]
    p = {k: v for k, v in a.items() if k != "x"}

    def step():
        c1, cols1 = L.conv2d_forward(x, p["w1"], None, pad=1)
        n1, bn1 = L.batch_norm_forward(c1, p["g1"], p["be1"])
        r1 = np.maximum(n1, 0)
        c2, cols2 = L.conv2d_forward(r1, p["w2"], None, pad=1)
        n2, bn2 = L.batch_norm_forward(c2, p["g2"], p["be2"])
        out = np.maximum(n2 + x, 0)
        loss = out.mean()

        g = L.relu_backward(np.full_like(out, 1 / out.size), out)
        g, g_g2, g_be2 = L.batch_norm_backward(g, bn2, p["g2"])
        g, g_w2, _ = L.conv2d_backward(g, cols2, r1.shape, p["w2"], pad=1)
        g, g_g1, g_be1 = L.batch_norm_backward(L.relu_backward(g, r1), bn1, p["g1"])
        _, g_w1, _ = L.conv2d_backward(g, cols1, x.shape, p["w1"], pad=1, need_gx=False)
        grads = {"w1": g_w1, "g1": g_g1, "be1": g_be1, "w2": g_w2, "g2": g_g2, "be2": g_be2}
        _sgd(p, grads)
        return {"loss": loss, **grads}

    return step


def cnn32(case: Case, a: Arrays) -> Step:
    """Stages of (conv-BN-relu) x2 and max-pool, a dense head, cross-entropy, SGD, by hand."""
    x, t = a["x"], a["y"]
    p = {k: v for k, v in a.items() if k not in ("x", "y")}
    n, layers = x.shape[0], 2 * len(case.params["stages"])

    def step():
        h, saved = x, []
        for i in range(1, layers + 1):
            c, cols = L.conv2d_forward(h, p[f"w{i}"], None, pad=1)
            b, bn = L.batch_norm_forward(c, p[f"g{i}"], p[f"be{i}"])
            r = np.maximum(b, 0)
            saved.append((h.shape, cols, bn, r))
            h = r
            if i % 2 == 0:
                h, idx = L.max_pool2d_forward(r, 2)
                saved.append(idx)
        flat = h.reshape(n, -1)
        loss, g = L.cross_entropy(L.linear_forward(flat, p["fw"], p["fb"]), t)

        g, gw, gb = L.linear_backward(g, flat, p["fw"])
        grads = {"fw": gw, "fb": gb}
        g = g.reshape(h.shape)
        for i in range(layers, 0, -1):
            if i % 2 == 0:
                g = L.max_pool2d_backward(g, saved.pop(), 2)
            shape, cols, bn, r = saved.pop()
            g, grads[f"g{i}"], grads[f"be{i}"] = L.batch_norm_backward(
                L.relu_backward(g, r), bn, p[f"g{i}"]
            )
            g, grads[f"w{i}"], _ = L.conv2d_backward(
                g, cols, shape, p[f"w{i}"], pad=1, need_gx=i > 1
            )
        _sgd(p, grads)
        return {"loss": loss, **grads}

    return step


def nms(case: Case, a: Arrays) -> Step:
    """Greedy NMS as a vectorised loop: per kept box, the IoU with every box still alive."""
    boxes, scores = a["boxes"], a["scores"]

    def step():
        order = np.argsort(-scores, kind="stable")
        x1, y1, x2, y2 = boxes[order].T
        areas = (x2 - x1) * (y2 - y1)
        alive, keep = np.arange(len(order)), []
        while alive.size:
            i, rest = alive[0], alive[1:]
            keep.append(i)
            w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
            h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
            inter = w * h
            alive = rest[~(inter / (areas[i] + areas[rest] - inter) > NMS_IOU)]
        return {"keep": order[np.array(keep, np.int64)]}

    return step


def machine_matmul(case: Case, a: Arrays) -> Step:
    """One float32 BLAS product: the machine's practical FLOP rate."""
    x, y = a["a"], a["b"]

    def step():
        return {"out": x @ y}

    return step


def machine_copy(case: Case, a: Arrays) -> Step:
    """One large copy into a preallocated buffer: the machine's memory bandwidth."""
    src = a["src"]
    dst = np.empty_like(src)

    def step():
        np.copyto(dst, src)
        return {"head": dst[:1024]}

    return step


PEER = Peer(
    name="numpy",
    version=np.__version__,
    builders={
        "jgraph": jgraph,
        "chain": chain,
        "matmul": matmul,
        "mlp": mlp,
        "lenet": lenet,
        "conv_fwd": conv_fwd,
        "conv_fwdbwd": conv_fwdbwd,
        "maxpool": maxpool,
        "resblock": resblock,
        "cnn32": cnn32,
        "nms": nms,
        "machine_matmul": machine_matmul,
        "machine_copy": machine_copy,
    },
)
