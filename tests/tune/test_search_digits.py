"""examples/search_digits.py in a fast setting: serial, four trials of one epoch."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_search_digits_example_prints_the_table_and_finds_a_config_that_learns(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the example imports train_digits' model
    spec = importlib.util.spec_from_file_location(
        "example_search_digits", EXAMPLES / "search_digits.py"
    )
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    plot = tmp_path / "search.png"
    argv = ["--executor", "serial", "--trials", "4", "--epochs", "1", "--plot", str(plot)]
    result = example.main(argv)

    out = capsys.readouterr().out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.lstrip().startswith("rank")))
    assert lines[header].split()[3:9] == [
        "lr", "beta", "weight_decay", "batch_size", "dev_accuracy", "dev_loss",
    ]  # fmt: skip
    ranks = [line.split()[0] for line in lines[header + 1 : header + 5]]
    assert ranks == ["1", "2", "3", "4"] and lines[header + 5].startswith("4 trials of 1 epochs")
    best = result.best
    assert f"best config: {best.config}" in out
    assert best.metrics["dev_accuracy"] == max(t.metrics["dev_accuracy"] for t in result.trials)
    assert best.metrics["dev_accuracy"] > 0.3  # chance is 0.1
    for name, space in example.SPACE.items():
        assert best.config[name] in space
    assert best.config["epochs"] == 1 and len(best.history) == 1
    if plot.exists():
        assert plot.read_bytes()[:4] == b"\x89PNG"
    else:
        pytest.importorskip("matplotlib")
        raise AssertionError("matplotlib is installed but no plot was written")
