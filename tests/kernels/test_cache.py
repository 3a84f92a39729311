"""Kernels are loaded from numba's on-disk cache in a fresh process, not recompiled."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Calls every kernel once (float32), then reports each dispatcher's cache hits and misses and the
# time from the start of the imports to the end of the calls.
CHILD = """
import importlib, json, time
start = time.perf_counter()
import numpy as np
from numba.core.dispatcher import Dispatcher
import autodiff.kernels as k

x = np.ones((2, 2, 6, 6), np.float32)
for stride in (1, 2):  # direct loops, then im2col
    y, saved = k.conv2d_forward(x, np.ones((2, 2, 3, 3), np.float32), None, stride, 1)
    k.conv2d_backward(y, saved)
wide = np.ones((2, 32, 8, 8), np.float32)  # Winograd (3x3 over 32 channels): F(2x2), F(4x4)
k._config.DIRECT_WEIGHT_GRADIENT_MAX_GROUP_WEIGHTS = 0  # Winograd's own weight gradient too
for f4 in (False, True):  # F(4x4) is off by default
    k.winograd.F4.enabled = f4
    y, saved = k.conv2d_forward(wide, np.ones((32, 32, 3, 3), np.float32), None, 1, 1)
    assert saved.algorithm is (k.winograd.F4 if f4 else k.winograd.F2)
    k.conv2d_backward(y, saved)
y, saved = k.conv2d_forward(x, np.ones((2, 1, 3, 3), np.float32), None, 1, 1, 1, 2)
k.conv2d_backward(y, saved)
y, argmax = k.max_pool2d_forward(x, 2)
k.max_pool2d_forward(x, 3, 1, 1)
k.max_pool2d_backward(y, argmax, x.shape)
k.avg_pool2d_backward(k.avg_pool2d_forward(x, 2), x.shape, 2)
k.axpby(x, 1.0, x.copy(), -0.1)
for a in (x, np.ones(2**19, np.float32)):  # the serial and the parallel ReLU
    k.relu_backward(a, k.relu_forward(a))
for m in (2, 2**10):  # the serial and the parallel outer product
    k.elementwise.outer(np.ones(m, np.float32), np.ones(2**9, np.float32))
x3 = x.reshape(2, 2, 36)
mean, var = k.batch_norm_stats(x3)
k.batch_norm_backward(x3, x3, mean, var, None, True, True)
k.batch_norm_forward(x3, mean, var, None, None)
from autodiff.kernels import cross_entropy
safe, valid, count, bad = cross_entropy.class_targets(np.array([1, 0]), -100, 3)
loss, total, p = cross_entropy.forward(np.ones((2, 3), np.float32), safe, valid)
cross_entropy.backward(p, safe, valid.astype(np.float32))
seconds = time.perf_counter() - start
stats = {}
# the ranged kernels (workers.py) and their runner: cfuncs, loaded or compiled when first made
ranged = {
    "direct._ranged_forward": k.direct._ranged_forward(np.float32),
    "direct._ranged_backward_weight": k.direct._ranged_backward_weight(np.float32),
    "winograd._ranged_correlate": k.winograd._ranged_correlate(),
    "winograd._ranged_weight": k.winograd._ranged_weight(),
    "gemm.serial_kernel": k.gemm.serial_kernel(),
    **{
        f"winograd_tiles.{name}_kernel": getattr(k.winograd_tiles, f"{name}_kernel")()
        for name in ("input_transform", "clear_spare_slots", "output_transform", "grad_transform")
    },
    "workers._runner": k.workers._runner(),
}
for name, kernel in ranged.items():
    stats[f"autodiff.kernels.{name}_impl"] = [kernel.cache_hits, 1 - kernel.cache_hits]
for module in (
    "im2col", "direct", "winograd_tiles", "pool", "depthwise", "axpby", "elementwise", "batchnorm",
    "_ranges", "cross_entropy", "gemm",
):
    module = f"autodiff.kernels.{module}"
    for name, f in vars(importlib.import_module(module)).items():
        if isinstance(f, Dispatcher):  # those called from Python (not only inside cfuncs)
            hits, misses = f.stats.cache_hits, f.stats.cache_misses
            if hits or misses:
                stats[f"{module}.{name}"] = [sum(hits.values()), sum(misses.values())]
print(json.dumps({"seconds": seconds, "stats": stats}))
"""


def run_child(cache_dir: Path) -> dict:
    """Run CHILD in a fresh interpreter with its own numba cache directory."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_process_loads_every_kernel_from_cache(tmp_path):
    cold = run_child(tmp_path)
    assert any(misses for _, misses in cold["stats"].values()), "first run should compile"
    warm = run_child(tmp_path)
    kernels = {name: hm for name, hm in warm["stats"].items() if name.endswith("_impl")}
    assert len(kernels) >= 10, warm["stats"]
    recompiled = {name: hm for name, hm in warm["stats"].items() if hm[1]}
    assert not recompiled, f"compiled instead of loaded from cache (hits, misses): {recompiled}"
    not_loaded = {name: hm for name, hm in kernels.items() if not hm[0]}
    assert not not_loaded, f"kernels not loaded from the cache: {not_loaded}"
    print(f"first calls: {cold['seconds']:.2f} s cold cache, {warm['seconds']:.2f} s warm cache")
