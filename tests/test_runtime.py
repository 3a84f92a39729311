"""autodiff.runtime: nothing outside autodiff changes on import; each setting is opt-in."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import autodiff
from autodiff import runtime
from autodiff.kernels import _config, blas, elementwise

# Trains a few steps of a small CNN in a fresh interpreter and prints, as JSON, the variables
# that changed in os.environ, how often libc's mallopt was looked up, and runtime.settings().
FRESH = r"""
import ctypes, json, os
before = dict(os.environ)
looked_up = []
class SpyCDLL(ctypes.CDLL):
    def __getattr__(self, name):
        if name == "mallopt":
            looked_up.append(name)
        return super().__getattr__(name)
ctypes.CDLL = SpyCDLL
import numpy as np
import autodiff as ad
import nn
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3),
                      nn.Flatten(), nn.Linear(16 * 26 * 26, 10))
for _ in range(2):
    nn.functional.cross_entropy(model(ad.randn(4, 1, 28, 28)), ad.tensor([1, 2, 3, 4])).backward()
changed = {k: os.environ.get(k) for k in set(before) | set(os.environ)
           if before.get(k) != os.environ.get(k)}
print(json.dumps({"changed": changed, "mallopt": len(looked_up),
                  "settings": ad.runtime.settings()}))
"""


USER_POLICY = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
DEFAULTS = {
    "spin": None,
    "one_pool": True,
    "malloc": False,
    "buffers": True,
    "winograd": False,
}


def _fresh(code: str = FRESH, **env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in (runtime.ENV, *USER_POLICY)}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture
def restore_one_pool():
    saved = _config.BLAS_ON_NUMBA_THREADS
    yield
    _config.BLAS_ON_NUMBA_THREADS = saved


def test_import_and_training_change_nothing_outside_autodiff():
    got = _fresh()
    assert got["changed"] == {}
    assert got["mallopt"] == 0
    assert got["settings"] == DEFAULTS


def test_the_environment_switch_changes_settings_and_leaves_the_environment_as_it_was():
    got = _fresh(AUTODIFF_RUNTIME="spin=off, malloc=on ,one_pool=off,buffers=off,winograd=on")
    expected = {"spin": None, "one_pool": False, "malloc": True, "buffers": False, "winograd": True}
    assert got["settings"] == expected
    assert got["changed"] == {}
    assert got["mallopt"] == 1
    assert _fresh(AUTODIFF_RUNTIME="spin=20000")["settings"]["spin"] == 20000


@pytest.mark.parametrize("name,value", [("GOMP_SPINCOUNT", "500"), ("OMP_WAIT_POLICY", "passive")])
def test_the_users_own_openmp_policy_wins(name, value):
    got = _fresh(**{name: value})
    assert got["settings"]["spin"] is None
    assert got["changed"] == {}


POOL_FIRST = r"""
import json, warnings
import numba
numba.get_num_threads()  # something else started numba's pool before autodiff's import
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import autodiff
print(json.dumps({"warnings": [str(w.message) for w in caught],
                  "spin": autodiff.runtime.settings()["spin"]}))
"""


def test_a_pool_started_before_import_keeps_its_spin_count():
    assert _fresh(POOL_FIRST) == {"warnings": [], "spin": None}
    got = _fresh(POOL_FIRST, AUTODIFF_RUNTIME="spin=on")
    assert got["spin"] is None
    assert len(got["warnings"]) == 1 and "too late" in got["warnings"][0]


SPIN_CPU_SECONDS = r"""
import json, time
import numpy as np
import autodiff, numba
from autodiff.kernels import elementwise
x = np.ones(2**20, np.float32)
elementwise.relu_forward(x)
start = time.process_time()
elementwise.relu_forward(x)
time.sleep(0.5)
print(json.dumps({"cpu": time.process_time() - start, "layer": numba.threading_layer()}))
"""


def test_the_spin_count_reaches_numbas_openmp_workers():
    # workers told to spin for ever burn CPU while the main thread sleeps; libgomp's default
    # (a few ms) does not
    long = _fresh(SPIN_CPU_SECONDS, AUTODIFF_RUNTIME=f"spin={10**11}")
    if long["layer"] != "omp":
        pytest.skip(f"numba's threading layer is {long['layer']}; GOMP_SPINCOUNT is libgomp's")
    assert long["cpu"] > 0.1  # of 0.5 s; less than all of it on a busy machine
    assert _fresh(SPIN_CPU_SECONDS)["cpu"] < 0.05
    assert _fresh(SPIN_CPU_SECONDS, AUTODIFF_RUNTIME="spin=off")["cpu"] < 0.05


def test_spin_after_numbas_pool_started_raises_and_changes_nothing():
    elementwise.relu_forward(np.ones(2**19, np.float32))  # starts numba's pool if nothing did yet
    before = runtime.settings()
    with pytest.raises(RuntimeError, match="too late"):
        runtime.configure(spin=before["spin"] + 1 if before["spin"] else 12345, one_pool=True)
    assert runtime.settings() == before
    assert runtime.configure(spin=before["spin"] or False) == before  # the count in force: fine


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"spin": -1}, ValueError),
        ({"spin": 1.5}, ValueError),
        ({"malloc": "yes"}, TypeError),
        ({"one_pool": 1}, TypeError),
    ],
)
def test_bad_values_raise_before_anything_changes(kwargs, error, restore_one_pool):
    before = runtime.settings()
    with pytest.raises(error, match="configure"):
        runtime.configure(**{"one_pool": not before["one_pool"], **kwargs})
    assert runtime.settings() == before


@pytest.mark.parametrize(
    "text,want",
    [
        ("", {}),
        ("spin=on,malloc=off", {"spin": True, "malloc": False}),
        (" one_pool = ON ", {"one_pool": True}),
        ("spin=20000", {"spin": 20000}),
    ],
)
def test_parse(text, want):
    assert runtime.parse(text) == want


@pytest.mark.parametrize("text", ["threads=on", "malloc=20000", "spin", "one_pool=maybe"])
def test_parse_names_the_variable_and_the_item(text):
    with pytest.raises(ValueError, match=f"{runtime.ENV}: .*{text.split('=')[0]}"):
        runtime.parse(text)


def test_one_pool_off_leaves_products_to_openblas(restore_one_pool):
    a = np.ones((300, 300), np.float32)
    assert runtime.configure(one_pool=False)["one_pool"] is False
    np.testing.assert_array_equal(blas.matmul(a, a), a @ a)
    assert blas.describe_route().endswith("(one_pool is off)")


DESCRIBE = r"""
import json, sys
import numpy
import autodiff
info = autodiff.runtime.describe()
print(json.dumps({"torch": "torch" in sys.modules, "started": info["numba"]["started"]}))
"""


def test_describe_imports_no_torch_and_starts_no_threads():
    assert _fresh(DESCRIBE) == {"torch": False, "started": False}


FORK = r"""
import json, os
import numpy as np
import autodiff
from autodiff.kernels import elementwise
pid = os.fork()
if pid == 0:
    y = elementwise.relu_forward(np.full(2**20, -1.0, np.float32))  # a parallel kernel
    os._exit(0 if y.max() == 0 else 3)
print(json.dumps({"child": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_child_forked_after_import_runs_parallel_kernels():
    # numba aborts a forked child's parallel kernel once the parent started its OpenMP pool;
    # loading libgomp for the spin count must not start it
    assert _fresh(FORK) == {"child": 0}


def test_describe_reports_pools_and_settings(capsys):
    elementwise.relu_forward(np.ones(2**19, np.float32))
    info = runtime.describe()
    text = capsys.readouterr().out
    assert info["settings"] == runtime.settings()
    assert info["numba"]["started"] is True
    assert f"numba: {info['numba']['threads']} threads" in text
    assert any(lib["user_api"] == "blas" for lib in info["libraries"])
    assert "one_pool=on" in text and "winograd=off" in text
    assert f"autodiff's BLAS jobs: {blas.describe_route()}" in text
    runtime.describe(quiet=True)
    assert capsys.readouterr().out == ""
    buffer = io.StringIO()
    runtime.describe(buffer)
    assert buffer.getvalue() == text


def test_autodiff_exposes_runtime():
    assert autodiff.runtime is runtime


COMPILE = r"""
import numpy as np
import autodiff
from autodiff.kernels import elementwise, pool
elementwise.relu_forward(np.ones(8, np.float32))
pool.max_pool2d_forward(np.ones((1, 1, 4, 4), np.float32), 2)
"""


def test_one_line_says_when_kernels_compile(tmp_path):
    def stderr():
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
        run = subprocess.run([sys.executable, "-c", COMPILE], env=env, capture_output=True)
        assert run.returncode == 0, run.stderr
        return run.stderr.decode()

    first = stderr()
    assert first.count("compiling numba kernels, once per machine") == 1, first
    assert str(tmp_path) in first
    assert "compiling" not in stderr()  # loaded from the cache


def test_winograd_is_off_by_default_and_switchable():
    from autodiff.kernels import _checks, conv, winograd

    geometry = _checks.conv_geometry(
        "conv2d", (2, 16, 8, 8), (16, 16, 3, 3), np.float32, 1, 1, 1, 1
    )
    assert runtime.settings()["winograd"] is False and conv.choose(geometry) is not winograd
    try:
        assert runtime.configure(winograd=True)["winograd"] is True
        assert conv.choose(geometry) is winograd.F4
    finally:
        runtime.configure(winograd=False)
