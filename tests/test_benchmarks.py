"""Smoke tests of the benchmark suite: the CLI runs in both modes, prints its table and writes
its JSON, the isolated mode leaves the environment alone and alternates peers, and the
correctness check stops a peer that computes the wrong thing from being timed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import isolated, machine, timing
from benchmarks.cases import all_cases
from benchmarks.cli import select
from benchmarks.peers import Peer, load_peers
from benchmarks.report import format_seconds
from benchmarks.runner import ERROR, NA, OK, check, compare, run_case

ROOT = Path(__file__).resolve().parents[1]
TINY = timing.Budget(seconds=0.01, min_repeats=2, max_repeats=2, sample_seconds=1e-3, warmup=0)


def _case(name):
    return next(c for c in all_cases() if c.name == name)


def _numpy_peer():
    peers, _ = load_peers(("numpy",))
    return peers[0]


def test_cli_quick_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    args = [
        "-m",
        "benchmarks",
        "-k",
        "jgraph,matmul,mlp,maxpool",
        "--quick",
        "--peers",
        "autodiff,torch,numpy",
        "--in-process",
    ]
    proc = subprocess.run(
        [sys.executable, *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("| case"))
    for column in ("median", "p25 - p75", "runs", "vs torch", "rate", "first call"):
        assert column in header
    for case in ("jgraph", "matmul", "mlp", "maxpool"):
        assert f"| {case} " in proc.stdout
    document = json.loads(out.read_text())
    assert document["settings"]["mode"] == "in-process"
    described = document["machine"]
    for key in ("cpu", "cores", "python", "versions", "blas", "numba_threading_layer"):
        assert key in described
    # the in-process mode's own environment settings, which the isolated mode never makes
    assert described["thread_env"]["OPENBLAS_THREAD_TIMEOUT"] == "20"
    rows = {(r["case"], r["peer"]): r for r in document["results"]}
    numpy_matmul = rows[("matmul", "numpy")]
    assert numpy_matmul["status"] == OK
    assert numpy_matmul["p25_s"] <= numpy_matmul["median_s"] <= numpy_matmul["p75_s"]
    assert numpy_matmul["gflops"] > 0 and numpy_matmul["first_call_s"] > 0
    assert ("machine_matmul", "numpy") in rows and ("machine_matmul", "torch") not in rows
    # the library under development may lack ops, but must never crash the suite
    assert rows[("jgraph", "autodiff")]["status"] in (OK, NA)


def test_cli_isolated_leaves_environment_alone_and_sets_threads(tmp_path):
    out = tmp_path / "bench.json"
    args = ["-k", "jgraph", "--quick", "--peers", "numpy,autodiff", "--threads", "1"]
    env = {k: v for k, v in os.environ.items() if k not in machine.SPIN_LIMITS}
    env.pop("NUMBA_NUM_THREADS", None)
    env.pop("KMP_DUPLICATE_LIB_OK", None)  # which threadpoolctl's import sets
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mode: isolated" in proc.stdout and "| jgraph " in proc.stdout
    document = json.loads(out.read_text())
    assert document["settings"]["mode"] == "isolated"
    rows = {r["peer"]: r for r in document["results"]}
    assert rows["numpy"]["status"] == OK and rows["numpy"]["processes"] == 1
    children = document["machine"]["processes"]
    assert set(children) == {"numpy", "autodiff"}
    for pools in children.values():
        set_here = {*machine.SPIN_LIMITS, "NUMBA_NUM_THREADS", "KMP_DUPLICATE_LIB_OK"}
        assert not set(pools["thread_env"]) & set_here
        assert all(p["num_threads"] == 1 for p in pools["threadpools"])
    # torch and numba are not loaded where the peer does not need them
    assert children["numpy"]["numba_threads"] is None
    assert children["numpy"]["torch_threads"] is None
    if rows["autodiff"]["status"] == OK:
        assert children["autodiff"]["numba_threads"] == 1


def test_isolated_processes_alternate_reference_first(monkeypatch):
    calls = []

    def fake_child(peer, cases, budget, threads, refdir, env):
        calls.append(peer.name)
        seconds = {"torch": 2.0, "autodiff": 1.0}[peer.name]
        return {
            "results": [
                {"status": OK, "first_call": 5.0, "samples": [seconds], "calls_per_sample": 1}
            ],
            "pools": {},
        }

    monkeypatch.setattr(isolated, "_child", fake_child)
    peers = [Peer(name=name, version="0", builders={}) for name in ("autodiff", "torch")]
    results, _ = isolated.run(
        [_case("matmul")], peers, TINY, processes=4, threads=None, env=dict(os.environ)
    )
    assert calls == ["torch", "autodiff", "autodiff", "torch"] * 2
    assert [r.peer for r in results] == ["autodiff", "torch"]
    assert [r.timing.processes for r in results] == [4, 4]
    assert results[0].timing.samples == (1.0,) * 4 and results[0].timing.first_call == 5.0


def test_isolated_child_checks_against_saved_reference(tmp_path):
    def wrong_matmul(case, a):
        x, y = a["a"], a["b"]
        return lambda: {"loss": (x @ y).sum(), "a": np.ones_like(x) @ y, "b": x.T @ np.ones_like(y)}

    case = _case("matmul")
    ref = isolated._check_and_time(_numpy_peer(), case, str(tmp_path), TINY, None)
    assert ref["status"] == OK and len(ref["samples"]) == 2
    fake = Peer(name="fake", version="0", builders={"matmul": wrong_matmul})
    outcome = isolated._check_and_time(fake, case, str(tmp_path), TINY, None)
    assert outcome["status"] == ERROR and "wrong vs numpy" in outcome["note"]
    assert "samples" not in outcome


def test_wrong_peer_is_reported_and_not_timed():
    def wrong_matmul(case, a):
        x, y = a["a"], a["b"]
        # a transposition bug: fast, plausible, wrong
        return lambda: {"loss": (x @ y).sum(), "a": np.ones_like(x) @ y, "b": x.T @ np.ones_like(y)}

    fake = Peer(name="fake", version="0", builders={"matmul": wrong_matmul})
    results = run_case(_case("matmul"), [_numpy_peer(), fake], TINY)
    by_peer = {r.peer: r for r in results}
    assert by_peer["numpy"].status == OK
    assert by_peer["fake"].status == ERROR and by_peer["fake"].timing is None
    assert "wrong vs numpy" in by_peer["fake"].note and "a[" in by_peer["fake"].note


def test_referee_checks_without_being_reported():
    def wrong_maxpool(case, a):
        return lambda: {"loss": np.float32(0), "x": np.zeros_like(a["x"])}

    fake = Peer(name="fake", version="0", builders={"maxpool": wrong_maxpool})
    (result,) = run_case(_case("maxpool"), [fake], TINY, referee=_numpy_peer())
    assert result.peer == "fake" and result.status == ERROR and "wrong vs numpy" in result.note


def test_missing_op_and_crash_are_na_and_error():
    def missing(case, a):
        raise AttributeError("module 'nn.functional' has no attribute 'conv2d'")

    def crash(case, a):
        return lambda: 1 / 0

    peers = [
        _numpy_peer(),
        Peer(name="lacking", version="0", builders={"maxpool": missing}),
        Peer(name="broken", version="0", builders={"maxpool": crash}),
        Peer(name="empty", version="0", builders={}),
    ]
    by_peer = {r.peer: r for r in run_case(_case("maxpool"), peers, TINY)}
    assert by_peer["numpy"].status == OK
    assert by_peer["lacking"].status == NA and "conv2d" in by_peer["lacking"].note
    assert by_peer["broken"].status == ERROR and "ZeroDivisionError" in by_peer["broken"].note
    assert by_peer["empty"].status == NA


def test_compare_tolerates_rounding_not_errors():
    ref = {"loss": np.float32(2.0), "g": np.linspace(-1, 1, 101, dtype=np.float32)}
    close = {"loss": np.float32(2.0001), "g": ref["g"] * (1 + 1e-5)}
    assert compare(close, ref, rtol=1e-3) is None
    assert "g[" in compare({**close, "g": ref["g"][::-1].copy()}, ref, rtol=1e-3)
    assert "shape" in compare({**close, "g": ref["g"][:-1]}, ref, rtol=1e-3)
    assert "no value" in compare({**close, "g": None}, ref, rtol=1e-3)
    assert "returns" in compare({"loss": ref["loss"]}, ref, rtol=1e-3)


def test_every_numpy_case_agrees_with_torch():
    """The numpy baseline is the fallback reference, so it must match torch everywhere."""
    pytest.importorskip("torch")
    peers, _ = load_peers(("torch", "numpy"))
    for case in all_cases():
        if case.peers is None:
            steps, _, failed = check(case, peers)
            assert not failed and set(steps) == {"torch", "numpy"}, (case.name, failed)


def test_select_matches_substrings():
    names = [c.name for c in select(all_cases(), "conv, pool")]
    assert names == ["conv_fwd", "conv_fwdbwd", "maxpool"]
    assert len(select(all_cases(), "")) == len(all_cases())


def test_durations_round_before_choosing_the_unit():
    assert format_seconds(0.0009997) == "1 ms"
    assert format_seconds(0.0123) == "12.3 ms"
    assert format_seconds(4.2e-8) == "42 ns"


def test_standalone_cases_are_listed_and_selected_by_exact_name(capsys):
    from benchmarks.cli import main, select_standalone

    assert select_standalone("jgraph, ddp_lenet") == ["ddp_lenet"]
    assert select_standalone("lenet") == select_standalone("") == []  # lenet is a peer case
    assert main(["--list", "--peers", "numpy"]) == 0
    listed = capsys.readouterr().out
    assert "\nddp_lenet " in listed and "\nsearch " in listed


def test_k_runs_a_standalone_case_and_reports_its_failure(monkeypatch, capsys):
    import benchmarks.search
    from benchmarks.cli import main

    calls = []
    monkeypatch.setattr(benchmarks.search, "main", calls.append)
    assert main(["-k", "search", "--quick", "--peers", "numpy"]) == 0
    assert calls == [["--quick"]]

    def broken(argv):
        raise RuntimeError("the executors found different best configs")

    monkeypatch.setattr(benchmarks.search, "main", broken)
    assert main(["-k", "search", "--peers", "numpy"]) == 1
    assert "search: failed: RuntimeError: the executors" in capsys.readouterr().out


def test_search_case_skips_dask_when_it_is_not_installed(monkeypatch, capsys):
    import benchmarks.search

    class Result:
        class best:  # noqa: N801 - a stand-in for the search result's attribute
            config = {"lr": 0.1}

    monkeypatch.setattr(benchmarks.search, "_search", lambda executor, t, e: (1.0, Result))
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises
    runs = benchmarks.search.main(["--quick"])
    assert set(runs) == {"serial", "process", "dask"} and "skipped" in runs["dask"]
    out = capsys.readouterr().out
    assert "| dask     | skipped: dask[distributed] is not installed" in out
    assert "same best config on every executor: yes" in out


def test_ddp_lenet_quick_averages_in_one_allreduce_per_step():
    """Three short MPI jobs (about 5 s); without mpi4py the case says why and skips."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "-k", "ddp_lenet", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if "ddp_lenet: skipped:" in proc.stdout:
        pytest.skip(proc.stdout.strip())
    assert "in 1 all-reduce per step" in proc.stdout  # backward averaged, nothing else did
    for row in ("| 1 x 1 ", "| 2 x 1 "):
        assert row in proc.stdout
