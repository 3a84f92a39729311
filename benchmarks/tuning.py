"""What each runtime setting and tuning constant buys, measured: ``python -m benchmarks.tuning``.

Each experiment compares variants of one setting (``autodiff/runtime.py``) or constant
(``autodiff/kernels/_config.py`` and the kernels' own) on a few workloads. Every measurement runs
in a fresh interpreter with the user's environment plus the variant's (numpy imported first, a
plain ``for`` loop of steps), variants alternating A B B A across runs; a cell is the median over
runs of each process's median step time. The figures that used to sit in the comments beside
each constant come from here.

    python -m benchmarks.tuning                    # every experiment
    python -m benchmarks.tuning spin one_pool      # some of them
    python -m benchmarks.tuning --runs 5 --seconds 2 --threads 1

Other processes on the machine add noise: compare variants within one run of the script, and
repeat it before trusting a difference of less than about 10%.
"""

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

BIG = 10**12  # a threshold no workload reaches


@dataclass(frozen=True)
class Variant:
    """One choice: ``env`` added to the fresh interpreter's environment, ``attrs``
    (``"module:attribute" -> value``) assigned before the workload is built, and ``params``
    added to the workload's."""

    label: str
    env: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """Variants of one setting, each timed on every workload ``(name, params)``."""

    name: str
    question: str
    variants: tuple[Variant, ...]
    workloads: tuple[tuple[str, dict], ...]
    env: dict = field(default_factory=dict)


def _runtime(setting: str, on: str = "on") -> tuple[Variant, ...]:
    """Off and on of one ``autodiff.runtime`` setting through its environment switch."""
    return (
        Variant("off", {"AUTODIFF_RUNTIME": f"{setting}=off"}),
        Variant(on, {"AUTODIFF_RUNTIME": f"{setting}={on}"}),
    )


def _attr(name: str, *values, labels=None) -> tuple[Variant, ...]:
    """One variant per value of the attribute ``name`` (``"module:attribute"``)."""
    labels = labels or [str(v) for v in values]
    return tuple(Variant(lab, attrs={name: v}) for lab, v in zip(labels, values, strict=True))


_CONFIG = "autodiff.kernels._config"
# neither Winograd (F(4x4) nor F(2x2)) takes a layer with these
_NO_WINOGRAD = {f"{_CONFIG}:WINOGRAD_MIN_CHANNELS": BIG, f"{_CONFIG}:WINOGRAD2_MIN_CHANNELS": BIG}
_IM2COL_ONLY = {**_NO_WINOGRAD, f"{_CONFIG}:DIRECT_MAX_GROUP_WEIGHTS": 0}
_STEPS = (("lenet", {"batch": 64}), ("mlp", {"batch": 128}))
_PARALLEL_MIN = "autodiff.kernels.elementwise:PARALLEL_MIN"


def _conv(n, c, size, f, k, pad, backward=True, attrs=None) -> tuple[str, dict]:
    """A conv workload: (n, c, size, size) input, f k x k filters; ``attrs`` as a Variant's."""
    params = dict(shape=(n, c, size, size), filters=f, k=k, pad=pad, backward=backward)
    return ("conv", {**params, "attrs": attrs or {}})


_TILE = "autodiff.kernels.winograd:_TILE_BUFFER_BYTES"
_TILE_AVAILABLE = "autodiff.kernels.gemm:AVAILABLE"
_MIN_RUN = f"{_CONFIG}:DIRECT_WEIGHT_GRADIENT_MIN_RUN"
_WINOGRAD_ON = {"autodiff.kernels.winograd:F4.enabled": True}  # off by default (float32 accuracy)
_DIRECT_ONLY = {**_NO_WINOGRAD, f"{_CONFIG}:DIRECT_MAX_GROUP_WEIGHTS": BIG}
# (batch, channels, size) of 3x3 convolutions with as many filters as channels
_WINOGRAD_SHAPES = (
    (32, 16, 32), (32, 64, 32), (32, 128, 12), (16, 256, 16),
    (32, 32, 8), (32, 128, 8), (32, 256, 8), (8, 512, 16),
)  # fmt: skip


EXPERIMENTS = (
    Experiment(
        "defaults",
        "autodiff.runtime: every setting off, the defaults, every setting on",
        (
            Variant(
                "all off", {"AUTODIFF_RUNTIME": "spin=off,one_pool=off,malloc=off,buffers=off"}
            ),
            Variant("defaults", {"AUTODIFF_RUNTIME": ""}),
            Variant("all on", {"AUTODIFF_RUNTIME": "spin=on,one_pool=on,malloc=on,buffers=on"}),
        ),
        _STEPS,
    ),
    Experiment(
        "spin",
        "runtime spin: numba's idle OpenMP workers spin SPIN_COUNT times, or libgomp's default",
        _runtime("spin"),
        (*_STEPS, _conv(32, 64, 32, 64, 3, 1), ("resnet18", {"batch": 16})),
    ),
    Experiment(
        "spin_count",
        "runtime spin: how many times numba's idle workers spin before they sleep (SPIN_COUNT)",
        tuple(Variant(f"{n}", {"AUTODIFF_RUNTIME": f"spin={n}"}) for n in (1000, 10000, 100000)),
        (*_STEPS, _conv(32, 64, 32, 64, 3, 1), ("resnet18", {"batch": 16})),
    ),
    Experiment(
        "one_pool",
        "runtime one_pool: OpenBLAS's jobs on numba's threads, or on OpenBLAS's own workers",
        _runtime("one_pool"),
        (
            *_STEPS,
            _conv(32, 64, 32, 64, 3, 1, attrs=_IM2COL_ONLY),
            ("resnet18", {"batch": 16}),
        ),
    ),
    Experiment(
        "malloc", "runtime malloc: glibc keeps freed heap memory", _runtime("malloc"), _STEPS
    ),
    Experiment(
        "buffers",
        "runtime buffers: the kernels reuse their large output arrays once free",
        _runtime("buffers"),
        (*_STEPS, ("resnet18", {"batch": 16})),
    ),
    Experiment(
        "cols_budget",
        "_config.COLS_BUDGET_BYTES: im2col chunks of 32 MiB, or the whole batch in one",
        _attr(f"{_CONFIG}:COLS_BUDGET_BYTES", 32 * 2**20, 256 * 2**20, labels=["32M", "256M"]),
        (_conv(32, 64, 32, 64, 3, 1, attrs=_IM2COL_ONLY),),
    ),
    Experiment(
        "im2col",
        "im2col.TAPS_MAX_PIXELS: im2col and col2im by a table of taps or row by row (convolutions "
        "forced onto im2col + GEMM, forward + backward)",
        _attr("autodiff.kernels.im2col:TAPS_MAX_PIXELS", BIG, 0, labels=["taps", "rows"]),
        tuple(
            _conv(n, c, size, f, k, pad, attrs=_IM2COL_ONLY)
            for n, c, size, f, k, pad in (
                (16, 512, 2, 512, 3, 1),
                (16, 256, 4, 256, 3, 1),
                (16, 128, 8, 128, 3, 1),
                (16, 64, 16, 64, 3, 1),
                (32, 32, 32, 32, 3, 1),
                (16, 3, 64, 64, 7, 3),
            )
        ),
    ),
    Experiment(
        "direct",
        "_config.DIRECT_MAX_GROUP_WEIGHTS: direct loops or im2col + GEMM (forward + backward)",
        _attr(f"{_CONFIG}:DIRECT_MAX_GROUP_WEIGHTS", BIG, 0, labels=["direct", "im2col"]),
        (
            _conv(64, 6, 14, 16, 5, 0),
            _conv(16, 3, 64, 32, 7, 3),
            _conv(32, 16, 16, 32, 5, 2),
            _conv(32, 16, 16, 64, 5, 2),
        ),
    ),
    Experiment(
        "direct_weight_gradient",
        "conv.choose_weight_gradient: after an im2col forward, the weight gradient by direct "
        "loops (runs of any length, or of 128 values and more: _config."
        "DIRECT_WEIGHT_GRADIENT_MIN_RUN) or im2col, with BLAS; or by im2col on the register "
        "tile (forward + backward)",
        (
            *(
                Variant(label, attrs={_MIN_RUN: run, _TILE_AVAILABLE: False})
                for label, run in (("any", 0), ("128", 128), ("never, BLAS", BIG))
            ),
            Variant("never, tile", attrs={_MIN_RUN: BIG}),
        ),
        tuple(
            _conv(n, c, size, c, 3, 1, attrs=_IM2COL_ONLY)
            for n, c, size in ((16, 128, 8), (32, 128, 8), (16, 128, 4), (64, 128, 4), (8, 64, 16))
        ),
    ),
    Experiment(
        "direct_chunk",
        "_config.DIRECT_CHUNK_BYTES: forward on one thread, 16 -> 16 3x3 forced onto direct",
        _attr(f"{_CONFIG}:DIRECT_CHUNK_BYTES", 2**20, 2**18, 2**16, labels=["1M", "256K", "64K"]),
        (_conv(32, 16, 32, 16, 3, 1, backward=False, attrs=_DIRECT_ONLY),),
        env={"NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    ),
    Experiment(
        "winograd",
        "_config.WINOGRAD_MIN_*: 3x3 convolutions (forward; forward + backward) by Winograd or "
        "im2col",
        (
            Variant(
                "winograd", attrs={**_WINOGRAD_ON, f"{_CONFIG}:WINOGRAD_MIN_PIXELS_PER_CHANNEL": 0}
            ),
            Variant("im2col", attrs=_NO_WINOGRAD),
        ),
        tuple(
            _conv(n, c, size, c, 3, 1, backward, {f"{_CONFIG}:DIRECT_MAX_GROUP_WEIGHTS": 0})
            for n, c, size in _WINOGRAD_SHAPES
            for backward in (False, True)
        ),
    ),
    Experiment(
        "tile_buffer",
        "winograd._TILE_BUFFER_BYTES: transformed-tile buffer per chunk (forward + backward)",
        _attr(_TILE, 2**19, 2**20, 2 * 2**20, 4 * 2**20, labels=["512K", "1M", "2M", "4M"]),
        (
            _conv(32, 64, 32, 64, 3, 1),
            _conv(16, 64, 16, 64, 3, 1),
            _conv(32, 128, 16, 128, 3, 1),
            _conv(32, 64, 32, 64, 3, 1, attrs=_WINOGRAD_ON),
            ("resnet18", {"batch": 16}),
        ),
    ),
    Experiment(
        "gemm",
        "gemm.AVAILABLE: the register tile (Winograd's and im2col's products), or BLAS",
        _attr(_TILE_AVAILABLE, True, False, labels=["tile", "BLAS"]),
        (
            _conv(32, 64, 32, 64, 3, 1, backward=False),
            _conv(32, 64, 32, 64, 3, 1),
            _conv(32, 128, 16, 128, 3, 1),
            _conv(16, 256, 4, 256, 3, 1, attrs=_IM2COL_ONLY),
            ("resnet18", {"batch": 16}),
        ),
    ),
    Experiment(
        "torch",
        "torch in the process, a parallel torch op (a batch of images resized) before each step: "
        "imported first, torch brings its own OpenMP runtime; imported after autodiff's first "
        "step, it shares numba's; 'no torch' runs the step alone",
        (
            Variant("no torch", params={"torch": "never"}),
            Variant("torch imported first", params={"torch": "before"}),
            Variant("torch imported after", params={"torch": "after"}),
        ),
        (
            ("with_torch", {"workload": "lenet", "batch": 64}),
            ("with_torch", {"workload": "resnet18", "batch": 16}),
        ),
    ),
    Experiment(
        "elementwise_parallel",
        "elementwise.PARALLEL_MIN: elements from which the one-pass kernels (ReLU, tanh and "
        "sigmoid gradients, ...) run on numba's threads",
        _attr(_PARALLEL_MIN, 2**14, 2**16, 2**18, BIG, labels=["2^14", "2^16", "2^18", "never"]),
        (("mlp", {"batch": 256}), *(("chain", {"n": n}) for n in (2**15, 2**17, 2**19))),
    ),
    Experiment(
        "axpby",
        "kernels.axpby: p <- p - lr * g in one pass, or numpy's p -= lr * g",
        (Variant("axpby", params={"numpy": False}), Variant("numpy", params={"numpy": True})),
        (("update", {"shape": (256, 784)}),),
    ),
)


# Workloads: each returns a function running one step; they run in the worker process.


def _model_step(model, x, y):
    """One SGD step of ``model`` on ``(x, y)`` with cross-entropy, as a training loop runs it."""
    import nn
    import optim

    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def lenet(batch: int):
    """LeNet-5 on (batch, 1, 28, 28) images, as ``python -m benchmarks``' lenet case."""
    import autodiff as ad
    import nn

    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip
    return _model_step(model, ad.randn(batch, 1, 28, 28), ad.randint(0, 10, (batch,)))


def mlp(batch: int, sizes=(784, 256, 128, 10)):
    """A ReLU MLP of ``sizes`` on a (batch, sizes[0]) batch."""
    import autodiff as ad
    import nn

    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    return _model_step(model, ad.randn(batch, sizes[0]), ad.randint(0, sizes[-1], (batch,)))


def resnet18(batch: int, size: int = 64):
    """ResNet-18 (``nn.models``) on (batch, 3, size, size) images, 10 classes, as ``python -m
    benchmarks``' resnet18 case: big products between numba kernels."""
    import autodiff as ad
    from nn.models import resnet18 as build

    x, y = ad.randn(batch, 3, size, size), ad.randint(0, 10, (batch,))
    return _model_step(build(num_classes=10), x, y)


def chain(n: int):
    """``((x*y + x.exp()).tanh()**2).mean()`` on n float32 elements, forward and backward to x
    and y, as ``python -m benchmarks``' chain case."""
    import autodiff as ad

    x, y = ad.randn(n, requires_grad=True), ad.randn(n, requires_grad=True)

    def step():
        ((x * y + x.exp()).tanh() ** 2).mean().backward()
        x.grad = y.grad = None

    return step


def conv(shape, filters, k, pad, backward):
    """``conv2d`` forward (and backward) of a float32 batch through ``autodiff.nn.functional``."""
    import autodiff as ad
    from nn import functional as F

    x = ad.randn(*shape, requires_grad=backward)
    w = ad.randn(filters, shape[1], k, k, requires_grad=backward)
    b = ad.randn(filters, requires_grad=backward)

    def step():
        y = F.conv2d(x, w, b, padding=pad)
        if backward:
            y.backward(ad.ones_like(y))
            x.grad = w.grad = b.grad = None

    return step


def update(shape, numpy):
    """An SGD update of one float32 parameter, by ``kernels.axpby`` or numpy."""
    from autodiff.kernels import axpby

    p, g = np.ones(shape, np.float32), np.ones(shape, np.float32)
    if numpy:
        return lambda: p.__isub__(np.float32(0.01) * g)
    return lambda: axpby(p, 1.0, g, -0.01)


def with_torch(workload: str, torch: str, **params):
    """``workload``'s step in a process with torch: imported ``"before"`` autodiff's first step
    or ``"after"`` it, a torch op on a (32, 3, 64, 64) batch before each step; or ``"never"``."""
    if torch == "never":
        return WORKLOADS[workload](**params)
    if torch == "before":
        import torch as th
    step = WORKLOADS[workload](**params)
    step()  # numba's OpenMP runtime starts here
    if torch == "after":
        import torch as th
    images = th.randn(32, 3, 64, 64)

    def step_with_torch():
        th.nn.functional.interpolate(images, size=(32, 32), mode="bilinear")
        step()

    return step_with_torch


WORKLOADS = {
    "with_torch": with_torch,
    "lenet": lenet,
    "mlp": mlp,
    "resnet18": resnet18,
    "chain": chain,
    "conv": conv,
    "update": update,
}


def _worker(spec: dict) -> dict:
    """Build and time one workload in this process; returns the median step time (s)."""
    params = {**spec["params"], **spec["variant_params"]}
    for name, value in {**params.pop("attrs", {}), **spec["attrs"]}.items():
        module, path = name.split(":")  # "module:attribute" or "module:object.attribute"
        *owners, attr = path.split(".")
        owner = importlib.import_module(module)
        for part in owners:
            owner = getattr(owner, part)
        setattr(owner, attr, value)
    step = WORKLOADS[spec["workload"]](**params)
    for _ in range(3):  # compile or load the kernels, warm the caches
        step()
    times, end = [], time.perf_counter() + spec["seconds"]
    while len(times) < 5 or time.perf_counter() < end:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "steps": len(times)}


def _measure(experiment: Experiment, variant: Variant, workload, args) -> float:
    """Median step time of ``workload`` under ``variant``, in a fresh interpreter."""
    name, params = workload
    env = {**os.environ, **experiment.env, **variant.env}
    if args.threads:
        env.update(NUMBA_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    spec = {
        "workload": name,
        "params": params,
        "variant_params": variant.params,
        "attrs": variant.attrs,
        "seconds": args.seconds,
    }
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.tuning", "--worker", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"{_label(workload)} [{variant.label}] failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])["median"]


def run(experiment: Experiment, args) -> str:
    """A markdown table: one row per workload, one column per variant (median over runs)."""
    rows = []
    for workload in experiment.workloads:
        order = list(experiment.variants)
        times = {v.label: [] for v in order}
        for r in range(args.runs):
            for variant in order if r % 2 == 0 else order[::-1]:  # A B, B A, A B ...
                times[variant.label].append(_measure(experiment, variant, workload, args))
        rows.append((_label(workload), *(_cell(times[v.label]) for v in order)))
        print(f"  {' | '.join(rows[-1])}", file=sys.stderr)
    header = ("workload", *(v.label for v in experiment.variants))
    lines = [
        f"## {experiment.name}: {experiment.question}",
        "",
        _row(header),
        _row(["---"] * len(header)),
    ]
    return "\n".join(lines + [_row(r) for r in rows]) + "\n"


def _cell(times: list[float]) -> str:
    """``median (fastest)`` of per-process medians, in ms."""
    return f"{statistics.median(times) * 1e3:.3f} ({min(times) * 1e3:.3f}) ms"


def _label(workload) -> str:
    name, params = workload
    shown = {k: v for k, v in params.items() if k != "attrs"}
    return f"{name} " + " ".join(f"{k}={v}" for k, v in shown.items())


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ", ".join(e.name for e in EXPERIMENTS)
    parser.add_argument("experiments", nargs="*", help=f"names (default: all): {names}")
    parser.add_argument("--runs", type=int, default=3, help="processes per variant and workload")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per process")
    parser.add_argument("--threads", type=int, help="NUMBA_NUM_THREADS and OPENBLAS_NUM_THREADS")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0
    known = {e.name: e for e in EXPERIMENTS}
    unknown = set(args.experiments) - set(known)
    if unknown:
        parser.error(f"unknown experiments {sorted(unknown)}; known: {sorted(known)}")
    chosen = [known[n] for n in args.experiments] if args.experiments else list(EXPERIMENTS)
    load = os.getloadavg()[0]
    threads = args.threads or "default"
    print(f"# python -m benchmarks.tuning {' '.join(sys.argv[1:] if argv is None else argv)}\n")
    print(f"{args.runs} runs x {args.seconds} s, threads {threads}, load average {load:.2f}; each")
    print("cell: median over processes of each process's median step (fastest process)\n")
    for experiment in chosen:
        print(f"{experiment.name} ...", file=sys.stderr)
        print(run(experiment, args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
