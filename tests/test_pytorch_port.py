"""examples/pytorch_port.py against its PyTorch original: the same script but for its import
lines, run on the same data from the same weights, must give the same losses."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pytorch_port.py"
ARGS = ["--epochs", "3", "--no-shuffle", "--init-seed", "0"]


def _torch_original(text: str) -> str:
    """The script with each `import ...  # torch: <original>` line put back to the original."""
    lines = []
    for line in text.splitlines():
        marker = re.fullmatch(r"(?:import|from) autodiff\S* .*  # torch: (.*)", line)
        lines.append(marker.group(1) if marker else line)
    return "\n".join(lines) + "\n"


def _losses(script: Path, *extra) -> list[float]:
    run = subprocess.run(
        [sys.executable, str(script), *ARGS, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "checkpoint saved and restored" in run.stdout, run.stdout
    return [float(m) for m in re.findall(r"loss (\S+)", run.stdout)]


def test_only_the_imports_differ():
    text = EXAMPLE.read_text()
    original = _torch_original(text)
    changed = [
        (a, b) for a, b in zip(text.splitlines(), original.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 4
    assert all(a.startswith(("import autodiff", "from autodiff")) for a, _ in changed)
    assert not re.search(r"^(import|from) autodiff", original, re.M)


def test_losses_match_the_pytorch_original(tmp_path):
    pytest.importorskip("torch")
    original = tmp_path / "pytorch_original.py"
    original.write_text(_torch_original(EXAMPLE.read_text()))
    ours = _losses(EXAMPLE, "--workers", "2")
    theirs = _losses(original, "--workers", "2")
    assert len(ours) == len(theirs) == 3
    assert ours == pytest.approx(theirs, rel=1e-4), (ours, theirs)
    assert ours[-1] < ours[0]
