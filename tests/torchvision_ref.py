"""torchvision as a test oracle, or a clean skip where it cannot be imported.

Only its pure-Python parts are used (models, box functions); see
benchmarks/torchvision_import.py for why and how they are imported.
Install for these tests with `python -m pip install --no-deps torchvision==0.28.0`.
"""

import pytest

from benchmarks.torchvision_import import import_torchvision


def torchvision():
    """The torchvision module, or skip the calling test when it cannot be imported."""
    module = import_torchvision()
    if module is None:
        pytest.skip("torchvision is not importable (python -m pip install --no-deps torchvision)")
    return module
