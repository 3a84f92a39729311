"""The cases written once against the PyTorch API, shared by the torch and autodiff peers.

autodiff follows PyTorch's names (``F.conv2d``, ``loss.backward()``, ``optim.SGD``...), so one
text of each model serves both libraries and they cannot drift apart: a :class:`TorchLike`
binds it to a library. Models are written with functional ops on explicit parameter tensors
made from the case's arrays, so every peer starts from the same weights.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from types import ModuleType

import numpy as np

from benchmarks.cases import LR, MOMENTUM, Case
from benchmarks.peers import Builder, Step

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class TorchLike:
    """The few entry points of a PyTorch-like library the cases use.

    ``functional``, ``sgd`` and ``models`` are called only by the cases that need them, so a
    library whose ``nn`` or ``optim`` is missing still runs the cases that use tensors alone.

    Attributes
    ----------
    tensor : Callable
        ``(array, requires_grad) -> tensor``, a leaf holding (a copy of) the array.
    no_grad : Callable
        Returns the context manager that disables graph recording.
    functional : Callable
        Returns the ``nn.functional`` module (may raise ImportError).
    sgd : Callable
        ``(params, lr, momentum=0.0) -> optimizer`` with ``zero_grad()`` and ``step()``.
    models : Callable
        Returns the module of model constructors with torchvision's names and layouts
        (``resnet18(num_classes=...)``); may raise ImportError.
    """

    tensor: Callable[[np.ndarray, bool], object]
    no_grad: Callable[[], AbstractContextManager]
    functional: Callable[[], ModuleType]
    sgd: Callable[..., object]
    models: Callable[[], ModuleType]

    def leaves(self, a: Arrays, names: tuple[str, ...]) -> dict[str, object]:
        """Name -> tensor requiring grad, for the named arrays."""
        return {k: self.tensor(a[k], True) for k in names}


def _train(
    api: TorchLike, params: dict[str, object], loss_fn: Callable[[], object], momentum: float = 0.0
) -> Step:
    """A training step as users write it: zero_grad, loss, backward, SGD step."""
    opt = api.sgd(list(params.values()), LR, momentum)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        return {"loss": loss, **{k: p.grad for k, p in params.items()}}

    return step


def _backward(leaves: dict[str, object], fn: Callable[..., object], out: str = "loss") -> Step:
    """``fn(*leaves)`` and its backward; returns the value as ``out`` and each leaf's grad.

    Last call's gradients are dropped first, so backward assigns rather than accumulates.
    """

    def step():
        for t in leaves.values():
            t.grad = None
        value = fn(*leaves.values())
        value.backward()
        return {out: value, **{k: t.grad for k, t in leaves.items()}}

    return step


def jgraph(api: TorchLike, case: Case, a: Arrays) -> Step:
    """J = 3*(a + b*c) on 0-d leaves: a new five-node graph and its backward per call."""
    return _backward(api.leaves(a, ("a", "b", "c")), lambda x, y, z: 3 * (x + y * z), out="J")


def chain(api: TorchLike, case: Case, a: Arrays) -> Step:
    """((x*y + x.exp()).tanh()**2).mean(), backward to x and y."""
    return _backward(api.leaves(a, ("x", "y")), lambda x, y: ((x * y + x.exp()).tanh() ** 2).mean())


def matmul(api: TorchLike, case: Case, a: Arrays) -> Step:
    """(a @ b).sum(), backward to both."""
    return _backward(api.leaves(a, ("a", "b")), lambda x, y: (x @ y).sum())


def mlp(api: TorchLike, case: Case, a: Arrays) -> Step:
    """F.linear-relu x2, F.linear, F.cross_entropy, SGD."""
    F = api.functional()
    x, t = api.tensor(a["x"], False), api.tensor(a["y"], False)
    p = {k: api.tensor(v, True) for k, v in a.items() if k[0] in "wb"}

    def loss():
        h = F.relu(F.linear(x, p["w1"], p["b1"]))
        h = F.relu(F.linear(h, p["w2"], p["b2"]))
        return F.cross_entropy(F.linear(h, p["w3"], p["b3"]), t)

    return _train(api, p, loss)


def lenet(api: TorchLike, case: Case, a: Arrays) -> Step:
    """LeNet-5 with F.conv2d, F.relu, F.max_pool2d, F.linear, F.cross_entropy, SGD."""
    F = api.functional()
    x, t = api.tensor(a["x"], False), api.tensor(a["y"], False)
    p = {k: api.tensor(v, True) for k, v in a.items() if k not in ("x", "y")}
    n = a["x"].shape[0]

    def loss():
        h = F.max_pool2d(F.relu(F.conv2d(x, p["c1w"], p["c1b"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p["c2w"], p["c2b"])), 2)
        h = F.relu(F.linear(h.reshape(n, -1), p["f1w"], p["f1b"]))
        h = F.relu(F.linear(h, p["f2w"], p["f2b"]))
        return F.cross_entropy(F.linear(h, p["f3w"], p["f3b"]), t)

    return _train(api, p, loss)


def conv_fwd(api: TorchLike, case: Case, a: Arrays) -> Step:
    """F.conv2d under no_grad: the kernel alone, no graph."""
    F = api.functional()
    x, w, b = (api.tensor(a[k], False) for k in ("x", "w", "b"))

    def step():
        with api.no_grad():
            return {"y": F.conv2d(x, w, b, padding=1)}

    return step


def conv_fwdbwd(api: TorchLike, case: Case, a: Arrays) -> Step:
    """F.conv2d(...).sum(), backward to x, w and b."""
    F = api.functional()
    leaves = api.leaves(a, ("x", "w", "b"))
    return _backward(leaves, lambda x, w, b: F.conv2d(x, w, b, padding=1).sum())


def maxpool(api: TorchLike, case: Case, a: Arrays) -> Step:
    """F.max_pool2d(x, 2).sum(), backward to x."""
    F = api.functional()
    return _backward(api.leaves(a, ("x",)), lambda x: F.max_pool2d(x, 2).sum())


def _conv_bn(F: ModuleType, h: object, p: dict[str, object], i: int) -> object:
    """Bias-free 3x3 convolution ``w{i}``, then F.batch_norm in training mode (batch
    statistics, no running stats) with scale ``g{i}`` and shift ``be{i}``."""
    h = F.conv2d(h, p[f"w{i}"], padding=1)
    return F.batch_norm(h, None, None, p[f"g{i}"], p[f"be{i}"], training=True, eps=1e-5)


def resblock(api: TorchLike, case: Case, a: Arrays) -> Step:
    """Basic block: conv-BN-relu-conv-BN, plus the input, relu, mean, SGD."""
    F = api.functional()
    x = api.tensor(a["x"], False)
    p = {k: api.tensor(v, True) for k, v in a.items() if k != "x"}

    def loss():
        h = _conv_bn(F, F.relu(_conv_bn(F, x, p, 1)), p, 2)
        return F.relu(h + x).mean()

    return _train(api, p, loss)


def cnn32(api: TorchLike, case: Case, a: Arrays) -> Step:
    """VGG-style: stages of (conv-BN-relu) x2 and a 2x2 max-pool, F.linear, cross-entropy."""
    F = api.functional()
    x, t = api.tensor(a["x"], False), api.tensor(a["y"], False)
    p = {k: api.tensor(v, True) for k, v in a.items() if k not in ("x", "y")}
    n, layers = a["x"].shape[0], 2 * len(case.params["stages"])

    def loss():
        h = x
        for i in range(1, layers + 1):
            h = F.relu(_conv_bn(F, h, p, i))
            if i % 2 == 0:
                h = F.max_pool2d(h, 2)
        return F.cross_entropy(F.linear(h.reshape(n, -1), p["fw"], p["fb"]), t)

    return _train(api, p, loss)


def resnet18(api: TorchLike, case: Case, a: Arrays) -> Step:
    """The library's own ResNet-18 (``models().resnet18``) in training mode with the case's
    parameters, F.cross_entropy, SGD with momentum."""
    F = api.functional()
    x, t = api.tensor(a["x"], False), api.tensor(a["y"], False)
    model = api.models().resnet18(num_classes=case.params["classes"])
    params = dict(model.named_parameters())
    weights = {k: api.tensor(v, False) for k, v in a.items() if k not in ("x", "y")}
    if set(weights) != set(params):
        raise ValueError(f"resnet18: parameter names differ: {set(weights) ^ set(params)}")
    model.load_state_dict(weights, strict=False)  # buffers keep their initial 0 and 1
    return _train(api, params, lambda: F.cross_entropy(model(x), t), MOMENTUM)


_CASES = (
    jgraph,
    chain,
    matmul,
    mlp,
    lenet,
    conv_fwd,
    conv_fwdbwd,
    maxpool,
    resblock,
    cnn32,
    resnet18,
)


def builders(api: TorchLike) -> dict[str, Builder]:
    """Case kind -> builder bound to ``api``."""
    return {fn.__name__: partial(fn, api) for fn in _CASES}
