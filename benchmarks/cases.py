"""The benchmark cases: what is computed, on which inputs, and how much work it is.

A case knows nothing of any library. It names a *kind* that each peer adapter implements
(``benchmarks/peers/<name>.py``), describes the computation in words, and makes its inputs as
float32 numpy arrays from a seeded generator, so every peer starts from the same numbers and
must reach the same loss and gradients.

Every training step is plain SGD (``p -= LR * grad``; ``resnet18`` adds momentum ``MOMENTUM``,
as a user's training loop would) on a loss that is a mean, and returns the loss and the
gradients of every parameter so that the correctness check covers backward too.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

LR = 0.01
SEED = 0
MLP_SIZES = (784, 256, 128, 10)
CHAIN_N = 2**20
MATMUL_N = 1024
CONV = {"batch": 32, "channels": 64, "size": 32, "filters": 64}
RESBLOCK = {"batch": 16, "channels": 64, "size": 16}
CNN32 = {"batch": 32, "size": 32, "stages": (32, 64, 128), "classes": 10}
RESNET18 = {"batch": 16, "size": 64, "classes": 10}
MOMENTUM = 0.9
NMS_N = 10_000
NMS_IOU = 0.5
MACHINE_MATMUL_N = 2048
MACHINE_COPY_MIB = 256

#: Array maker: ``(rng, **params) -> {name: array}``.
InputMaker = Callable[..., dict[str, np.ndarray]]


@dataclass(frozen=True)
class Case:
    """One benchmark: a kind of computation at one size.

    Attributes
    ----------
    name : str
        Unique name shown in the table and matched by ``-k``.
    kind : str
        Key of the builder each peer adapter provides for this computation.
    description : str
        What is computed, in one line.
    inputs : InputMaker
        Makes the inputs from a ``numpy.random.Generator`` and ``params``.
    params : Mapping
        Sizes passed to ``inputs`` and readable by the builders.
    flops : float or None
        Floating-point operations of one call, for the GFLOP/s column.
    bytes : float or None
        Bytes moved by one call, for a GB/s rate where FLOPs mean nothing.
    peers : tuple of str or None
        Restricts the case to these peers (machine limits are numpy only); None for all.
    batch : int or None
        Examples per call, for time per sample in ``--scaling``.
    rtol : float
        Relative tolerance of the correctness check against the reference peer.
    """

    name: str
    kind: str
    description: str
    inputs: InputMaker
    params: Mapping[str, int | tuple[int, ...]] = field(default_factory=dict)
    flops: float | None = None
    bytes: float | None = None
    peers: tuple[str, ...] | None = None
    batch: int | None = None
    rtol: float = 1e-3

    def make_inputs(self, seed: int = SEED) -> dict[str, np.ndarray]:
        """Return this case's inputs, the same arrays for the same seed."""
        return self.inputs(np.random.default_rng(seed), **self.params)


def _normal(rng: np.random.Generator, shape: tuple[int, ...], std: float = 1.0) -> np.ndarray:
    """Float32 normal samples."""
    return (rng.standard_normal(shape) * std).astype(np.float32)


def _he(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """He-normal weights; fan-in is every axis but the first, as for PyTorch's layouts."""
    fan_in = int(np.prod(shape[1:]))
    return _normal(rng, shape, np.sqrt(2.0 / fan_in))


def _small(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Small non-zero biases, so that bias gradients are exercised on non-trivial values."""
    return rng.uniform(-0.1, 0.1, shape).astype(np.float32)


def _labels(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    """Integer class targets, int64 as PyTorch's cross_entropy wants."""
    return rng.integers(0, classes, n).astype(np.int64)


def _conv_flops(n: int, c: int, f: int, k: int, oh: int, ow: int) -> float:
    """Multiply-adds of one (N, C, H, W) x (F, C, k, k) convolution, counted as 2 FLOPs."""
    return 2.0 * n * f * oh * ow * c * k * k


def _linear_flops(n: int, sizes: tuple[int, ...]) -> list[float]:
    """FLOPs of each dense layer's forward product for a batch of n."""
    return [2.0 * n * i * o for i, o in zip(sizes[:-1], sizes[1:], strict=False)]


def _training_flops(forward: list[float]) -> float:
    """Forward + backward FLOPs of a chain of products whose first input needs no gradient.

    Backward of a product costs two more products (input and weight gradients), except for the
    first layer, whose input is data.
    """
    return 3.0 * sum(forward) - forward[0]


def jgraph_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Three 0-d float32 leaves."""
    a, b, c = _normal(rng, (3,))
    return {"a": np.array(a), "b": np.array(b), "c": np.array(c)}


def chain_inputs(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Two float32 vectors of length n; x is scaled so exp(x) stays moderate."""
    return {"x": _normal(rng, (n,), 0.5), "y": _normal(rng, (n,))}


def matmul_inputs(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Two (n, n) float32 matrices."""
    return {"a": _normal(rng, (n, n)), "b": _normal(rng, (n, n))}


def mlp_inputs(rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    """MNIST-sized batch and 784-256-128-10 weights in PyTorch's (out, in) layout."""
    inputs = {"x": _normal(rng, (batch, 784)), "y": _labels(rng, batch, 10)}
    for i, (n_in, n_out) in enumerate(zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=False), 1):
        inputs[f"w{i}"] = _he(rng, (n_out, n_in))
        inputs[f"b{i}"] = _small(rng, (n_out,))
    return inputs


def lenet_inputs(rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    """A batch of 1x28x28 images and LeNet-5 weights (two 5x5 convs, three dense layers)."""
    return {
        "x": _normal(rng, (batch, 1, 28, 28)),
        "y": _labels(rng, batch, 10),
        "c1w": _he(rng, (6, 1, 5, 5)),
        "c1b": _small(rng, (6,)),
        "c2w": _he(rng, (16, 6, 5, 5)),
        "c2b": _small(rng, (16,)),
        "f1w": _he(rng, (120, 400)),
        "f1b": _small(rng, (120,)),
        "f2w": _he(rng, (84, 120)),
        "f2b": _small(rng, (84,)),
        "f3w": _he(rng, (10, 84)),
        "f3b": _small(rng, (10,)),
    }


def conv_inputs(
    rng: np.random.Generator, batch: int, channels: int, size: int, filters: int
) -> dict[str, np.ndarray]:
    """An (N, C, S, S) batch, (F, C, 3, 3) filters and (F,) bias."""
    return {
        "x": _normal(rng, (batch, channels, size, size)),
        "w": _he(rng, (filters, channels, 3, 3)),
        "b": _small(rng, (filters,)),
    }


def pool_inputs(
    rng: np.random.Generator, batch: int, channels: int, size: int
) -> dict[str, np.ndarray]:
    """An (N, C, S, S) batch; continuous values, so no window has a tie."""
    return {"x": _normal(rng, (batch, channels, size, size))}


def resblock_inputs(
    rng: np.random.Generator, batch: int, channels: int, size: int
) -> dict[str, np.ndarray]:
    """A batch, two bias-free 3x3 conv weights and two batch-norm scale/shift pairs."""
    return {
        "x": _normal(rng, (batch, channels, size, size)),
        "w1": _he(rng, (channels, channels, 3, 3)),
        "g1": 1.0 + _small(rng, (channels,)),
        "be1": _small(rng, (channels,)),
        "w2": _he(rng, (channels, channels, 3, 3)),
        "g2": 1.0 + _small(rng, (channels,)),
        "be2": _small(rng, (channels,)),
    }


def cnn32_inputs(
    rng: np.random.Generator, batch: int, size: int, stages: tuple[int, ...], classes: int
) -> dict[str, np.ndarray]:
    """RGB images, and per stage two bias-free 3x3 conv weights (``w1``...) with batch-norm
    scale/shift pairs (``g1``, ``be1``...); then the head's ``fw``, ``fb``."""
    inputs = {"x": _normal(rng, (batch, 3, size, size)), "y": _labels(rng, batch, classes)}
    widths = [3] + [c for c in stages for _ in range(2)]
    for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:], strict=True), 1):
        inputs[f"w{i}"] = _he(rng, (c_out, c_in, 3, 3))
        inputs[f"g{i}"] = 1.0 + _small(rng, (c_out,))
        inputs[f"be{i}"] = _small(rng, (c_out,))
    features = stages[-1] * (size >> len(stages)) ** 2
    inputs["fw"] = _he(rng, (classes, features))
    inputs["fb"] = _small(rng, (classes,))
    return inputs


def _resnet18_convs(size: int) -> list[tuple[str, str, int, int, int, int]]:
    """ResNet-18's convolutions in torchvision's order, for a size x size input: (name, name of
    the batch norm after it, c_in, c_out, kernel side, output side)."""
    side = -(-size // 2)  # the 7x7 stride-2 convolution, padding 3
    convs = [("conv1", "bn1", 3, 64, 7, side)]
    side = -(-side // 2)  # the 3x3 stride-2 max pool, padding 1
    c_in = 64
    for stage, c_out in enumerate((64, 128, 256, 512), 1):
        side = side if stage == 1 else -(-side // 2)
        for block in range(2):
            p = f"layer{stage}.{block}"
            convs.append((f"{p}.conv1", f"{p}.bn1", c_in, c_out, 3, side))
            convs.append((f"{p}.conv2", f"{p}.bn2", c_out, c_out, 3, side))
            if c_in != c_out:
                convs.append((f"{p}.downsample.0", f"{p}.downsample.1", c_in, c_out, 1, side))
            c_in = c_out
    return convs


def resnet18_inputs(
    rng: np.random.Generator, batch: int, size: int, classes: int
) -> dict[str, np.ndarray]:
    """RGB images, labels, and ResNet-18's parameters under torchvision's names
    (``conv1.weight``, ``layer2.0.downsample.1.bias``, ...): bias-free He-normal convolutions,
    batch-norm scale/shift pairs, and the head's ``fc.weight``, ``fc.bias``."""
    inputs = {"x": _normal(rng, (batch, 3, size, size)), "y": _labels(rng, batch, classes)}
    for conv, bn, c_in, c_out, k, _ in _resnet18_convs(size):
        inputs[f"{conv}.weight"] = _he(rng, (c_out, c_in, k, k))
        inputs[f"{bn}.weight"] = 1.0 + _small(rng, (c_out,))
        inputs[f"{bn}.bias"] = _small(rng, (c_out,))
    inputs["fc.weight"] = _he(rng, (classes, 512))
    inputs["fc.bias"] = _small(rng, (classes,))
    return inputs


def nms_inputs(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """n float32 xyxy boxes of sides 10 to 100 in a 1000 x 1000 image, and their scores."""
    corner = rng.uniform(0, 1000, (n, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(10, 100, (n, 2))], axis=1)
    return {"boxes": boxes.astype(np.float32), "scores": rng.random(n).astype(np.float32)}


def copy_inputs(rng: np.random.Generator, mib: int) -> dict[str, np.ndarray]:
    """A float32 buffer of ``mib`` MiB; values don't matter, only that pages are touched."""
    return {"src": np.ones(mib * 2**20 // 4, dtype=np.float32)}


def mlp_case(batch: int = 128) -> Case:
    """Training step of a 784-256-128-10 ReLU MLP with cross-entropy from logits."""
    return Case(
        name="mlp" if batch == 128 else f"mlp[N={batch}]",
        kind="mlp",
        description=f"MLP 784-256-128-10 relu, cross-entropy, SGD step, batch {batch}",
        inputs=mlp_inputs,
        params={"batch": batch},
        flops=_training_flops(_linear_flops(batch, MLP_SIZES)),
        batch=batch,
    )


def lenet_case(batch: int = 64) -> Case:
    """Training step of LeNet-5 on 1x28x28 images."""
    n = batch
    forward = [
        _conv_flops(n, 1, 6, 5, 28, 28),
        _conv_flops(n, 6, 16, 5, 10, 10),
        *_linear_flops(n, (400, 120, 84, 10)),
    ]
    return Case(
        name="lenet",
        kind="lenet",
        description=(
            f"LeNet-5 conv5x5(6,pad2)-relu-pool-conv5x5(16)-relu-pool-fc120-fc84-fc10, "
            f"SGD step, batch {batch}"
        ),
        inputs=lenet_inputs,
        params={"batch": batch},
        flops=_training_flops(forward),
        batch=batch,
    )


def conv_case(backward: bool, batch: int = CONV["batch"]) -> Case:
    """3x3 convolution with padding 1 and bias, forward alone or forward + backward of its sum."""
    geometry = {**CONV, "batch": batch}
    n, c, s, f = batch, CONV["channels"], CONV["size"], CONV["filters"]
    forward = _conv_flops(n, c, f, 3, s, s)
    kind = "conv_fwdbwd" if backward else "conv_fwd"
    return Case(
        name=kind if batch == CONV["batch"] else f"{kind}[N={batch}]",
        kind=kind,
        description=(
            f"conv2d {n}x{c}x{s}x{s} * {f}x{c}x3x3 pad 1, "
            + ("sum, backward to x, w, b" if backward else "forward only (no graph)")
        ),
        inputs=conv_inputs,
        params=geometry,
        # backward of a convolution is two more of the same size (input and weight gradients)
        flops=3 * forward if backward else forward,
        batch=batch,
    )


def cnn32_case() -> Case:
    """Training step of a VGG-style CNN on 32x32 RGB images (CIFAR-10's shape)."""
    p = CNN32
    n, size, stages = p["batch"], p["size"], p["stages"]
    forward, c_in = [], 3
    for stage, c_out in enumerate(stages):
        s = size >> stage
        forward += [_conv_flops(n, c_in, c_out, 3, s, s), _conv_flops(n, c_out, c_out, 3, s, s)]
        c_in = c_out
    forward += _linear_flops(n, (stages[-1] * (size >> len(stages)) ** 2, p["classes"]))
    return Case(
        name="cnn32",
        kind="cnn32",
        description=(
            f"VGG-style CNN {size}x{size}x3, 3 x (conv3x3-BN-relu x2, maxpool) "
            f"{'-'.join(map(str, stages))}, linear, cross-entropy, SGD step, batch {n}"
        ),
        inputs=cnn32_inputs,
        params=p,
        flops=_training_flops(forward),
        batch=n,
        # as resblock's, and a ReLU input within float32 rounding of 0 lands on either side
        # with the summation order (one of 262,144 in the fifth layer, with one thread), which
        # sends a gradient of its own back through every layer before it
        rtol=3e-2,
    )


def resnet18_case() -> Case:
    """Training step of torchvision's ResNet-18 on 64x64 RGB images, SGD with momentum."""
    p = RESNET18
    n, size, classes = p["batch"], p["size"], p["classes"]
    convs = _resnet18_convs(size)
    forward = [_conv_flops(n, c_in, c_out, k, s, s) for *_, c_in, c_out, k, s in convs]
    forward += _linear_flops(n, (512, classes))
    return Case(
        name="resnet18",
        kind="resnet18",
        description=(
            f"ResNet-18 (torchvision's), {size}x{size}x3, {classes} classes, cross-entropy, "
            f"SGD step with momentum {MOMENTUM}, batch {n}"
        ),
        inputs=resnet18_inputs,
        params=p,
        flops=_training_flops(forward),
        batch=n,
        # the models are the libraries' own (nn.models, torchvision.models); numpy has none
        peers=("autodiff", "torch"),
        # as resblock's: batch norm after batch norm makes early gradients small differences
        # of large float32 sums
        rtol=3e-2,
    )


def all_cases() -> list[Case]:
    """The default suite, in the order it runs and prints."""
    n = MATMUL_N
    pool = {k: CONV[k] for k in ("batch", "channels", "size")}
    block = RESBLOCK
    block_conv = _conv_flops(
        block["batch"], block["channels"], block["channels"], 3, block["size"], block["size"]
    )
    big = MACHINE_MATMUL_N
    copy_bytes = MACHINE_COPY_MIB * 2**20
    return [
        Case(
            name="jgraph",
            kind="jgraph",
            description="J = 3*(a + b*c) on 0-d tensors, build + backward (per-graph overhead)",
            inputs=jgraph_inputs,
        ),
        Case(
            name="chain",
            kind="chain",
            description="((x*y + exp(x)).tanh()**2).mean() on 2**20 float32, forward + backward",
            inputs=chain_inputs,
            params={"n": CHAIN_N},
            # forward: mul, exp, add, tanh, square, mean; backward: 8 elementwise ops
            flops=14.0 * CHAIN_N,
        ),
        Case(
            name="matmul",
            kind="matmul",
            description=f"(a @ b).sum() with a, b {n}x{n} float32, forward + backward",
            inputs=matmul_inputs,
            params={"n": n},
            flops=3 * 2.0 * n**3,
        ),
        mlp_case(),
        mlp_case(batch=1),  # the per-op cost of the graph machinery, with small products
        lenet_case(),
        conv_case(backward=False),
        conv_case(backward=True),
        Case(
            name="maxpool",
            kind="maxpool",
            description=(
                f"max_pool2d 2x2 stride 2 on {pool['batch']}x{pool['channels']}x"
                f"{pool['size']}x{pool['size']}, sum, forward + backward"
            ),
            inputs=pool_inputs,
            params=pool,
            # one read of the input forward, one write of its gradient backward
            bytes=2.0 * 4 * pool["batch"] * pool["channels"] * pool["size"] ** 2,
        ),
        Case(
            name="resblock",
            kind="resblock",
            description=(
                f"ResNet basic block conv3x3-BN-relu-conv3x3-BN + x, relu, mean, SGD step, "
                f"{block['batch']}x{block['channels']}x{block['size']}x{block['size']}"
            ),
            inputs=resblock_inputs,
            params=block,
            flops=_training_flops([block_conv, block_conv]),
            batch=block["batch"],
            # batch norm after a convolution almost cancels the gradients of what precedes it
            # (a per-channel shift or scale is normalised away), so the first block's gradients
            # are small differences of large float32 sums: implementations that differentiate
            # batch norm op by op (autograd, tinygrad) land ~1% of the largest value away from
            # one with a fused backward (torch). A wrong rule is off by far more than 3%.
            rtol=3e-2,
        ),
        cnn32_case(),
        resnet18_case(),
        Case(
            name="nms",
            kind="nms",
            description=f"non-maximum suppression of {NMS_N} random boxes, IoU threshold {NMS_IOU}",
            inputs=nms_inputs,
            params={"n": NMS_N},
            # torch's NMS is torchvision's compiled op, which does not load with this torch
            peers=("autodiff", "numpy"),
            rtol=0.0,  # kept indices: exactly the same
        ),
        Case(
            name="machine_matmul",
            kind="machine_matmul",
            description=f"machine limit: numpy float32 {big}x{big} matmul",
            inputs=matmul_inputs,
            params={"n": big},
            flops=2.0 * big**3,
            peers=("numpy",),
        ),
        Case(
            name="machine_copy",
            kind="machine_copy",
            description=f"machine limit: numpy copy of {MACHINE_COPY_MIB} MiB (read + write)",
            inputs=copy_inputs,
            params={"mib": MACHINE_COPY_MIB},
            bytes=2.0 * copy_bytes,
            peers=("numpy",),
        ),
    ]


def scaling_cases(batches: tuple[int, ...]) -> list[Case]:
    """The conv (forward + backward) and MLP cases at each batch size, for ``--scaling``."""
    return [conv_case(backward=True, batch=n) for n in batches] + [mlp_case(n) for n in batches]
