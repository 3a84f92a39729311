"""The convolution figures behind the algorithm registry: ``python -m benchmarks.conv_tuning``.

Figures (all by default, or name some):

* ``algorithms``: each algorithm of ``autodiff.kernels.conv.ALGORITHMS`` forced on the layers
  that matter (LeNet-5's, the benchmark's 3x3, the ResNet block's, the issue's 9x9 example, a
  depthwise layer): forward, input gradient, weight gradient. Why the registry's order is what
  it is, and what Winograd F(4x4) (``winograd``, off by default) would buy over F(2x2)
  (``F2``).
* ``gemm_layouts``: the operand layouts of the weight-gradient GEMMs (im2col's makes
  ``gy2 @ cols.T`` in the weights' layout, Winograd's stores its gradient tiles filters
  innermost).
* ``accuracy``: float32 error against float64 of torch and of each algorithm, relative to
  torch's, on the op table's convolutions, the issue's example and the layers above; the rule
  (tests/kernels/test_conv_accuracy.py) is at most twice torch's for the algorithm taken.

The other conv constants (``_config.COLS_BUDGET_BYTES``, ``DIRECT_*``, ``WINOGRAD_*``, the
Winograd tile buffer) have their experiments in ``python -m benchmarks.tuning``. Timings run in
this process, float32, with the threads the environment gives; the candidates of one row take
turns (A B B A) so that load from other processes hits them alike. Repeat a run before trusting
a difference under about 10%.
"""

import argparse
import os
import sys
import warnings

import numpy as np

from autodiff.kernels import conv, depthwise, direct, im2col_gemm, winograd
from autodiff.kernels._checks import ConvGeometry, conv_geometry
from autodiff.ops.conv import conv2d
from benchmarks import timing

BUDGET = timing.Budget(seconds=1.5, min_repeats=5, max_repeats=200, sample_seconds=0.02, warmup=1)

_3X3 = (winograd.F4, winograd.F2, direct, im2col_gemm)

# (label, (N, C, S), (F, k), padding, groups, algorithms able to run it)
LAYERS = (
    ("LeNet conv1", (64, 1, 28), (6, 5), 2, 1, (direct, depthwise, im2col_gemm)),
    ("LeNet conv2", (64, 6, 14), (16, 5), 0, 1, (direct, im2col_gemm)),
    ("benchmark 3x3", (32, 64, 32), (64, 3), 1, 1, _3X3),
    ("ResNet block 3x3", (16, 64, 16), (64, 3), 1, 1, _3X3),
    ("issue 9x9", (8, 32, 9), (32, 3), 1, 1, _3X3),
    ("cnn32 stage 1", (32, 32, 32), (32, 3), 1, 1, _3X3),
    ("cnn32 stage 2", (32, 64, 16), (64, 3), 1, 1, _3X3),
    ("cnn32 stage 3", (32, 128, 8), (128, 3), 1, 1, _3X3),
    ("16 channels 3x3", (32, 16, 32), (16, 3), 1, 1, _3X3),
    ("resnet18 layer2 3x3", (16, 128, 8), (128, 3), 1, 1, _3X3),
    ("resnet18 layer3 3x3", (16, 256, 4), (256, 3), 1, 1, _3X3),
    ("resnet18 layer4 3x3", (16, 512, 2), (512, 3), 1, 1, _3X3),
    ("depthwise 3x3", (32, 64, 32), (64, 3), 1, 64, (depthwise, direct, im2col_gemm)),
)


def layer(shape, filters, padding, groups, seed=0) -> tuple[ConvGeometry, list]:
    """Geometry and float32 ``x, w, b, gy`` of one ``LAYERS`` row."""
    (n, c, s), (f, k) = shape, filters
    g = conv_geometry("conv2d", (n, c, s, s), (f, c // groups, k, k), np.float32, 1, padding, 1,
                      groups)  # fmt: skip
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(a).astype(np.float32) for a in (g.x_shape, g.w_shape)]
    arrays += [rng.standard_normal(f).astype(np.float32)]
    return g, arrays + [rng.standard_normal(g.y_shape).astype(np.float32)]


def _medians(fns: dict) -> dict[str, float]:
    """Median seconds per call of each function, timed in turns."""
    first = {name: timing.time_call(fn)[0] for name, fn in fns.items()}
    timings, failed = timing.interleave(fns, first, BUDGET)
    if failed:
        raise RuntimeError(f"failed: {failed}")
    return {name: t.median for name, t in timings.items()}


def algorithms() -> list[str]:
    """Milliseconds per pass, each algorithm forced; the registry's own choice marked."""
    lines = _table_head("layer", "algorithm", "forward", "input grad", "weight grad", "total")
    for label, shape, filters, padding, groups, candidates in LAYERS:
        g, arrays = layer(shape, filters, padding, groups)
        chosen = conv.choose(g)
        for a, ms in _pass_times(g, *arrays, candidates).items():
            mark = " (taken)" if a is chosen else ""
            cells = [f"{v * 1e3:.2f}" for v in (*ms, sum(ms))]
            lines.append(_row(label, _name(a) + mark, *cells))
    return lines


def _pass_times(g, x, w, b, gy, candidates) -> dict:
    """Algorithm -> seconds of (forward, input gradient, weight gradient)."""
    passes = (
        lambda a: a.forward(x, w, b, g),
        lambda a: a.backward_input(gy, w, g),
        lambda a: a.backward_weight(gy, x, g),
    )
    times = {a: [] for a in candidates}
    for run in passes:
        got = _medians({_name(a): (lambda a=a, run=run: run(a)) for a in candidates})
        for a in candidates:
            times[a].append(got[_name(a)])
    return times


def gemm_layouts() -> list[str]:
    """Weight-gradient products in both operand layouts: im2col's on the benchmark 3x3 layer's
    chunk and on ResNet-18's last layer (where the other layout's transposed copy shows)."""
    rng = np.random.default_rng(0)
    rand = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    cols, gy2 = rand(64 * 9, 14 * 32 * 32), rand(64, 14 * 32 * 32)  # one 32 MiB im2col chunk
    deep_cols, deep_gy2 = rand(512 * 9, 16 * 2 * 2), rand(512, 16 * 2 * 2)  # 512 ch, 2x2, batch 16
    v, g, g_t = rand(36, 64, 3 * 81), rand(36, 3 * 81, 64), rand(36, 64, 3 * 81)  # 3 samples
    rows = {
        "im2col gw, 64 ch 32x32: gy2 @ cols^T (used), other (cols @ gy2^T)^T copied": {
            "used": lambda: gy2 @ cols.T,
            "other": lambda: np.ascontiguousarray((cols @ gy2.T).T),
        },
        "im2col gw, 512 ch 2x2: gy2 @ cols^T (used), other (cols @ gy2^T)^T copied": {
            "used": lambda: deep_gy2 @ deep_cols.T,
            "other": lambda: np.ascontiguousarray((deep_cols @ deep_gy2.T).T),
        },
        "winograd gu: v @ g, filters innermost (used), other v @ g^T": {
            "used": lambda: np.matmul(v, g),
            "other": lambda: np.matmul(v, g_t.transpose(0, 2, 1)),
        },
    }
    lines = _table_head("product", "used (ms)", "other (ms)", "other / used")
    for label, fns in rows.items():
        got = _medians(fns)
        used, other = got["used"] * 1e3, got["other"] * 1e3
        lines.append(_row(label, f"{used:.3f}", f"{other:.3f}", f"{other / used:.2f}"))
    return lines


def accuracy() -> list[str]:
    """Worst float32 error over y, gx, gw as a multiple of torch's (``-``: cannot run there)."""
    from tests.kernels import test_conv_accuracy as acc

    cases = [*acc.CASES, *(_accuracy_case(acc, row) for row in LAYERS if row[4] == 1)]
    names = [_name(a) for a in conv.ALGORITHMS]
    lines = _table_head("case", "torch error", "taken", *names)
    for case in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch on even kernels with padding="same"
            rows = acc.measure(case)
        bar = np.maximum(rows["torch"], acc.FLOOR)
        ratio = {k: "-" if rows[k] is None else f"{(rows[k] / bar).max():.1f}x" for k in names}
        taken = ", ".join(sorted(rows["used"]))
        lines.append(_row(case.name, f"{rows['torch'].max():.1e}", taken, *ratio.values()))
    return lines


def _accuracy_case(acc, row):
    """A ``LAYERS`` row as a test_conv_accuracy case (float64 inputs, He-scaled weights)."""
    label, (n, c, s), (f, k), padding, _, _ = row
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, c, s, s)), rng.standard_normal((f, c, k, k))]
    arrays[1] *= np.sqrt(2 / (c * k * k))

    def torch_fn(x, w):
        import torch

        return torch.conv2d(x, w, padding=padding)

    return acc.Case(label, arrays, lambda x, w: conv2d(x, w, padding=padding), torch_fn)


FIGURES = {"algorithms": algorithms, "gemm_layouts": gemm_layouts, "accuracy": accuracy}


def _name(algorithm) -> str:
    return algorithm.__name__.rpartition(".")[2]


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table_head(*names) -> list[str]:
    return [_row(*names), _row(*["---"] * len(names))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="*", help=f"any of {', '.join(FIGURES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.figures) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}; known: {', '.join(FIGURES)}")
    print(f"# python -m benchmarks.conv_tuning, load average {os.getloadavg()[0]:.2f}\n")
    for name in args.figures or FIGURES:
        print(f"## {name}: {FIGURES[name].__doc__}\n", flush=True)
        print("\n".join(FIGURES[name]()) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
