"""PyTorch's import paths name the library's own modules (one home each)."""

import importlib
import subprocess
import sys
from pathlib import Path

import nn
import optim

ROOT = Path(__file__).resolve().parents[1]


def test_paths_are_the_same_module_objects():
    import autodiff.nn
    import autodiff.nn.functional
    import autodiff.optim
    import autodiff.optim.lr_scheduler
    import autodiff.utils.data

    assert autodiff.nn is nn and autodiff.optim is optim
    assert autodiff.nn.functional is nn.functional
    assert autodiff.optim.lr_scheduler is optim.lr_scheduler
    assert autodiff.utils.data is autodiff.data
    assert importlib.import_module("autodiff.nn.init") is nn.init
    assert sys.modules["nn.functional"] is nn.functional  # no second copy was loaded
    assert nn.functional.__spec__.name == "nn.functional"  # the real module keeps its identity


def test_import_autodiff_as_torch_in_a_fresh_process():
    # the way a ported script imports: torch's names only, and nothing imported beforehand
    code = (
        "import autodiff as torch\n"
        "import autodiff.nn as nn\n"
        "import autodiff.nn.functional as F\n"
        "from autodiff import optim\n"
        "from autodiff.utils.data import DataLoader, TensorDataset\n"
        "model = nn.Sequential(nn.Linear(3, 2))\n"
        "opt = optim.SGD(model.parameters(), lr=0.1)\n"
        "data = DataLoader(TensorDataset(torch.randn(8, 3), torch.randint(0, 2, (8,))), 4)\n"
        "for x, y in data:\n"
        "    loss = F.cross_entropy(model(x), y)\n"
        "    opt.zero_grad(); loss.backward(); opt.step()\n"
        "assert torch.nn is nn and torch.optim is optim\n"
        "print('ok')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
